package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.deskgate.common.Secrets;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.EngineGrpc;
import io.deskgate.control.LaunchReply;
import io.deskgate.control.LaunchRequest;
import io.deskgate.gateway.Gateway;
import io.deskgate.gateway.GatewayConfig;
import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamIds;
import io.deskgate.stream.StreamKeys;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.Key;
import io.deskgate.testkit.Conditions;
import io.deskgate.testkit.RfbTestDesktop;
import io.deskgate.tokens.TokenClaims;
import io.deskgate.tokens.TokenSigner;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 9 item 4 on loopback, without Xvnc: two transcoding instances of one unique socket on a real engine
 * (over gRPC, as the frontdoor launches them: the first under the session's own stream, the second with a
 * frontdoor-chosen instance id under its own stream id) streaming to one real gateway, and two browsers (two
 * tabs, java.net.http WebSockets) each attached by a token naming its own instance. Both tabs receive frames,
 * both tabs' keys reach the one shared desktop ({@link RfbTestDesktop}, which records each connection's
 * ClientInit shared flag and its KeyEvents), and neither tab pushes the other off.
 */
class TwoTabsLoopbackTest {
    private static final byte[] CONTROL_SECRET = Secrets.randomBytes(32);
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static final int TENANT = 9;

    /** One tab's WebSocket: the down messages it received and its close code. */
    static final class Tab implements WebSocket.Listener {
        final List<StreamMessage> received = new CopyOnWriteArrayList<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
        WebSocket ws;

        static Tab open(Gateway gateway, String token) {
            Tab t = new Tab();
            t.ws = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                    .buildAsync(URI.create(gateway.wsUrl("127.0.0.1") + "?token=" + token), t).orTimeout(30, TimeUnit.SECONDS).join();
            return t;
        }

        @Override public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            partial.writeBytes(bytes);
            if (last) {
                received.add(StreamCodec.decode(partial.toByteArray()));
                partial.reset();
            }
            webSocket.request(1);
            return null;
        }

        @Override public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override public void onError(WebSocket webSocket, Throwable error) { closed.completeExceptionally(error); }

        void send(StreamMessage m) { ws.sendBinary(ByteBuffer.wrap(StreamCodec.encode(m)), true).orTimeout(30, TimeUnit.SECONDS).join(); }

        boolean sawFrameEnd() { return received.stream().anyMatch(FrameEnd.class::isInstance); }
    }

    @Test
    void twoTabsOfOneSocketBothSeeTheDesktopAndBothType() throws Exception {
        byte[] tokenKey = Secrets.randomBytes(32);
        byte[] master = Secrets.randomBytes(32);
        TokenSigner signer = new TokenSigner(tokenKey);
        StreamKeys keys = new StreamKeys(master);
        InstanceLimits patient = InstanceLimits.builder().attachGrace(Duration.ofMinutes(10)).peerLost(Duration.ofMinutes(10)).build();
        try (RfbTestDesktop desktop = new RfbTestDesktop(320, 240);
             Gateway gateway = Gateway.start(GatewayConfig.builder().tokenKey(tokenKey).streamMasterSecret(master).build());
             Engine engine = Engine.start(EngineConfig.builder().controlSecret(CONTROL_SECRET).limits(patient).build())) {
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", engine.grpcPort()).usePlaintext()
                    .intercept(new ControlAuth(CONTROL_SECRET).clientInterceptor()).build();
            Tab tab1 = null;
            Tab tab2 = null;
            try {
                EngineGrpc.EngineBlockingStub stub = EngineGrpc.newBlockingStub(channel);
                UUID session = UUID.randomUUID();
                UUID second = UUID.randomUUID();
                LaunchRequest.Builder launch = LaunchRequest.newBuilder().setSessionId(session.toString()).setTenant(TENANT)
                        .setDesktopHost(desktop.host()).setDesktopPort(desktop.port()).setVncPassword("")
                        .setGatewayUdpHost("127.0.0.1").setGatewayUdpPort(gateway.udpAddress().getPort());
                LaunchReply first = call(stub).launch(launch
                        .setStreamKey(ByteString.copyFrom(keys.derive(TENANT, session.toString()))).build());
                LaunchRequest secondRequest = launch.setInstanceId(second.toString())
                        .setStreamKey(ByteString.copyFrom(keys.derive(TENANT, StreamIds.of(session, second).toString()))).build();
                LaunchReply secondReply = call(stub).launch(secondRequest);
                assertThat(secondReply.getInstanceId()).as("the frontdoor-chosen reference id").isEqualTo(second.toString());
                assertThat(first.getInstanceId()).isNotEqualTo(second.toString());
                assertThatThrownBy(() -> call(stub).launch(secondRequest)).as("one instance id runs once per socket")
                        .isInstanceOf(StatusRuntimeException.class)
                        .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode())
                                .isEqualTo(io.grpc.Status.Code.ALREADY_EXISTS));
                assertThatThrownBy(() -> call(stub).launch(secondRequest.toBuilder().setInstanceId(second.toString().toUpperCase()).build()))
                        .as("an instance id names a stream: one spelling only").isInstanceOf(StatusRuntimeException.class)
                        .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode())
                                .isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT));
                assertThat(engine.instances(session)).hasSize(2);
                Conditions.await("both instances on the desktop", DEADLINE, () -> desktop.connections() == 2);
                assertThat(desktop.sharedFlags()).as("ClientInit shared: the second connection leaves the first on")
                        .containsExactly(true, true);

                Conditions.await("both streams at the gateway", DEADLINE, () -> gateway.sessionCount() == 2);
                tab1 = Tab.open(gateway, signer.sign(new TokenClaims(TokenClaims.STREAM, "alice", TENANT, session.toString(),
                        Instant.now().plusSeconds(60))));
                tab2 = Tab.open(gateway, signer.sign(new TokenClaims(TokenClaims.STREAM, "alice", TENANT,
                        StreamIds.name(session, second), Instant.now().plusSeconds(60))));
                Tab t1 = tab1;
                Tab t2 = tab2;
                Conditions.await("a whole picture in both tabs", DEADLINE, () -> t1.sawFrameEnd() && t2.sawFrameEnd());

                t1.send(new Key(true, 0x61));
                t1.send(new Key(false, 0x61));
                t2.send(new Key(true, 0x62));
                t2.send(new Key(false, 0x62));
                Conditions.await("both tabs' keys at the desktop", DEADLINE, () -> desktop.keyEvents().size() >= 4);
                List<RfbTestDesktop.KeyEvent> typed = desktop.keyEvents();
                assertThat(typed).extracting(RfbTestDesktop.KeyEvent::keysym).containsExactlyInAnyOrder(0x61, 0x61, 0x62, 0x62);
                int conn61 = typed.stream().filter(k -> k.keysym() == 0x61).findFirst().orElseThrow().connection();
                int conn62 = typed.stream().filter(k -> k.keysym() == 0x62).findFirst().orElseThrow().connection();
                assertThat(conn61).as("each tab types through its own instance's desktop connection").isNotEqualTo(conn62);
                assertThat(t1.closed).as("neither tab pushed the other off").isNotDone();
                assertThat(t2.closed).isNotDone();
                assertThat(engine.instances(session)).hasSize(2);
            } finally {
                if (tab1 != null) tab1.ws.abort();
                if (tab2 != null) tab2.ws.abort();
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    private static EngineGrpc.EngineBlockingStub call(EngineGrpc.EngineBlockingStub stub) {
        return stub.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }
}
