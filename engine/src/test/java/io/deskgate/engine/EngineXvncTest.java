package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.deskgate.common.Status;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.ControlChannels;
import io.deskgate.control.EngineGrpc;
import io.deskgate.control.LaunchReply;
import io.deskgate.control.LaunchRequest;
import io.deskgate.control.StopRequest;
import io.deskgate.control.TallyRequest;
import io.deskgate.stream.StreamKeys;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.Key;
import io.deskgate.stream.StreamMessage.Pointer;
import io.deskgate.stream.StreamMessage.Resize;
import io.deskgate.stream.StreamMessage.StatusMessage;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.StreamMessage.ViewerLeft;
import io.deskgate.stream.StreamSessionConfig;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Arrays;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The engine against a real Xvnc over real gRPC, with a test gateway on 127.0.0.1 (seed 000; docs/protocol.md §1).
 * The engine runs on a {@link FakeClock}: its timers (graces, lost gateway) pass only when a test moves the clock.
 */
class EngineXvncTest {
    static final Duration WAIT = Duration.ofSeconds(20);
    static final int TENANT = 7;
    static final StreamKeys KEYS = new StreamKeys("0123456789abcdef0123456789abcdef".getBytes());
    static final byte[] CONTROL_SECRET = "control-secret-of-the-engine-test".getBytes();
    static XvncDesktop desktop;

    final FakeClock clock = new FakeClock();
    Engine engine;
    ManagedChannel grpc;
    EngineGrpc.EngineBlockingStub stub;

    @BeforeAll
    static void startDesktop() throws Exception {
        desktop = XvncDesktop.start("s3cret-" + UUID.randomUUID().toString().substring(0, 8));
    }

    @AfterAll
    static void stopDesktop() throws Exception {
        if (desktop != null) desktop.close();
    }

    @BeforeEach
    void startEngine() throws IOException {
        startEngine(EngineConfig.builder().controlSecret(CONTROL_SECRET).maxInstances(2).build());
    }

    void startEngine(EngineConfig config) throws IOException {
        engine = Engine.start(config, clock);
        grpc = ControlChannels.open("127.0.0.1:" + engine.grpcPort(), new ControlAuth(CONTROL_SECRET));
        stub = EngineGrpc.newBlockingStub(grpc);
    }

    @AfterEach
    void stopEngine() throws InterruptedException {
        grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        engine.close();
    }

    @Test
    void shouldStreamTheDesktopAndCarryKeyboardInputToIt() throws Exception {
        UUID sessionId = UUID.randomUUID();
        try (TestGateway gateway = new TestGateway(TENANT, sessionId, KEYS.derive(TENANT, sessionId.toString()))) {
            LaunchReply reply = launch(sessionId, desktop.password, gateway.port());
            assertThat(reply.getInstanceId()).isNotBlank();
            assertThat(reply.getWidth()).isEqualTo(XvncDesktop.WIDTH);
            assertThat(reply.getHeight()).isEqualTo(XvncDesktop.HEIGHT);
            assertThat(stub.tally(TallyRequest.getDefaultInstance()).getConnections()).isEqualTo(1);

            // Resize first, then tiles and FRAME_END; the xterm (white) shows up on the decoded canvas.
            boolean drawn = gateway.pumpUntil(() -> gateway.canvas != null && gateway.frames > 0
                    && gateway.canvas.nonBlack(0, 0, XvncDesktop.XTERM_WIDTH, XvncDesktop.XTERM_HEIGHT) > 20_000, WAIT);
            assertThat(drawn).as("xterm drawn on the canvas; received %s", summary(gateway)).isTrue();
            assertThat(gateway.received.getFirst()).isEqualTo(new Resize(XvncDesktop.WIDTH, XvncDesktop.HEIGHT));
            assertThat(gateway.received).anyMatch(m -> m instanceof FrameEnd);

            // Junk and forged datagrams are dropped with a log line; the instance keeps streaming.
            java.util.Random random = new java.util.Random(1);
            for (int i = 0; i < 50; i++) {
                byte[] junk = new byte[1 + random.nextInt(300)];
                random.nextBytes(junk);
                gateway.channel.send(java.nio.ByteBuffer.wrap(junk), gateway.engine);
            }

            // Focus follows the pointer without a window manager: move over the xterm, let it settle.
            gateway.send(new Pointer(100, 100, 0));
            assertThat(gateway.pumpUntil(() -> System.nanoTime() - gateway.lastTileNs > 500_000_000L, WAIT)).isTrue();
            int[] before = gateway.canvas.region(0, 0, XvncDesktop.XTERM_WIDTH, XvncDesktop.XTERM_HEIGHT);
            int tilesBefore = gateway.tiles;

            for (long keysym : new long[] {'e', 'c', 'h', 'o', ' ', 'h', 'i', 0xff0d}) {
                gateway.send(new Key(true, keysym));
                gateway.send(new Key(false, keysym));
            }
            boolean typed = gateway.pumpUntil(() -> gateway.tiles > tilesBefore
                    && !Arrays.equals(before, gateway.canvas.region(0, 0, XvncDesktop.XTERM_WIDTH, XvncDesktop.XTERM_HEIGHT)), WAIT);
            assertThat(typed).as("new tiles in the xterm after typing").isTrue();
            assertThat(gateway.received).filteredOn(m -> m instanceof Tile).last()
                    .satisfies(m -> assertThat(((Tile) m).y()).isLessThan(XvncDesktop.XTERM_HEIGHT));

            assertThat(stub.stop(StopRequest.newBuilder().setSessionId(sessionId.toString()).build()).getStoppedInstances()).isEqualTo(1);
            assertThat(gateway.pumpUntil(() -> gateway.received.getLast() instanceof StatusMessage, WAIT)).isTrue();
            assertThat(gateway.received.getLast()).isEqualTo(new StatusMessage(Status.SESSION_ENDED.protocolCode(), "session stopped"));
            assertThat(stub.tally(TallyRequest.getDefaultInstance()).getConnections()).isZero();
        }
    }

    @Test
    void shouldCloseTheInstanceWhenNoViewerComesBackWithinTheGrace() throws Exception {
        stopEngine();
        startEngine(EngineConfig.builder().controlSecret(CONTROL_SECRET).maxInstances(2)
                .limits(InstanceLimits.builder().viewerGraceNs(200_000_000L).build()).build());
        UUID sessionId = UUID.randomUUID();
        try (TestGateway gateway = new TestGateway(TENANT, sessionId, KEYS.derive(TENANT, sessionId.toString()))) {
            launch(sessionId, desktop.password, gateway.port());
            assertThat(gateway.pumpUntil(() -> gateway.frames > 0, WAIT)).as("first frame; %s", summary(gateway)).isTrue();
            assertThat(engine.connections()).isEqualTo(1);
            TranscodingInstance instance = engine.instances(sessionId).getFirst();

            gateway.send(new ViewerLeft());
            assertThat(clock.advanceUntil(instance, 50_000_000L, () -> engine.connections() == 0, WAIT))
                    .as("instance closed after the grace").isTrue();
            assertThat(instance.endReason()).map(EndReason::cause).contains(EndReason.Cause.VIEWER_GONE);
            assertThat(engine.instances(sessionId)).isEmpty();
            assertThat(stub.tally(TallyRequest.getDefaultInstance()).getConnections()).isZero();
        }
    }

    @Test
    void shouldCloseAnInstanceNoBrowserAttachesToWithinTheAttachGraceOfTheFakeClock() throws Exception {
        stopEngine();
        long attachGrace = 300_000_000L;
        startEngine(EngineConfig.builder().controlSecret(CONTROL_SECRET)
                .limits(InstanceLimits.builder().attachGraceNs(attachGrace).build()).build());
        UUID sessionId = UUID.randomUUID();
        try (TestGateway gateway = new TestGateway(TENANT, sessionId, KEYS.derive(TENANT, sessionId.toString()), false)) {
            TranscodingInstance instance = engine.launch(spec(sessionId, gateway.port()), WAIT); // ServerInit at the clock's now
            long deadline = System.nanoTime() + WAIT.toNanos();
            assertThat(FakeClock.awaitTick(instance, clock.advance(attachGrace - 1), deadline)).isTrue();
            assertThat(instance.isOpen()).as("open 1 ns before the attach grace passes, however long the real wait").isTrue();
            clock.advance(1);
            assertThat(gateway.pumpUntil(() -> !gateway.received.isEmpty() && gateway.received.getLast() instanceof StatusMessage, WAIT))
                    .as("the instance ended; %s", summary(gateway)).isTrue();
            assertThat(instance.isOpen()).isFalse();
            assertThat(instance.endReason()).map(EndReason::cause).contains(EndReason.Cause.NO_BROWSER_ATTACHED);
            assertThat(gateway.received.getLast()).isEqualTo(new StatusMessage(Status.SESSION_ENDED.protocolCode(), "no viewer"));
            assertThat(gateway.received).as("nothing streamed to nobody").noneMatch(m -> m instanceof Tile);
            assertThat(gateway.pumpUntil(() -> engine.connections() == 0, WAIT)).isTrue();
        }
    }

    @Test
    void shouldCloseAnInstanceWhoseGatewayFallsSilent() throws Exception {
        stopEngine();
        // the engine deems the gateway timed out after 300 ms of silence, and lost 1 s after that
        StreamSessionConfig quickTimeout = StreamSessionConfig.builder().keepaliveIntervalNs(100_000_000L)
                .peerTimeoutNs(300_000_000L).build();
        startEngine(EngineConfig.builder().controlSecret(CONTROL_SECRET).stream(quickTimeout)
                .limits(InstanceLimits.builder().peerLostNs(1_000_000_000L).build()).build());
        UUID sessionId = UUID.randomUUID();
        try (TestGateway gateway = new TestGateway(TENANT, sessionId, KEYS.derive(TENANT, sessionId.toString()))) {
            TranscodingInstance instance = engine.launch(spec(sessionId, gateway.port()), WAIT);
            assertThat(gateway.pumpUntil(() -> gateway.frames > 0, WAIT)).as("attached and streaming; %s", summary(gateway)).isTrue();
            assertThat(instance.isOpen()).isTrue();
            // the gateway stops answering (it crashed, or its host went away); only the engine's clock moves
            assertThat(clock.advanceUntil(instance, 100_000_000L, () -> !instance.isOpen(), WAIT)).isTrue();
            assertThat(instance.endReason()).map(EndReason::cause).contains(EndReason.Cause.GATEWAY_LOST);
        }
    }

    @Test
    void shouldRejectAWrongPasswordWithUnauthenticated() throws Exception {
        UUID sessionId = UUID.randomUUID();
        try (DatagramSocket gateway = new DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> launch(sessionId, "wrong-password", gateway.getLocalPort()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNAUTHENTICATED);
                        assertThat(e.getStatus().getDescription()).doesNotContain("wrong-password");
                    });
            assertThat(engine.connections()).isZero();
        }
    }

    @Test
    void shouldReportAnUnreachableDesktopAsUnavailable() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        LaunchRequest request = request(UUID.randomUUID(), desktop.password, 9).toBuilder().setDesktopPort(closedPort).build();
        assertThatThrownBy(() -> stub.withDeadlineAfter(20, TimeUnit.SECONDS).launch(request))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNAVAILABLE));
        assertThat(engine.connections()).isZero();
    }

    @Test
    void shouldRejectABadStreamKeyAsInvalidArgument() {
        LaunchRequest request = request(UUID.randomUUID(), desktop.password, 9).toBuilder().setStreamKey(ByteString.copyFrom(new byte[5])).build();
        assertThatThrownBy(() -> stub.launch(request)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT));
    }

    @Test
    void shouldManageEveryInstanceOfOneUniqueSocketAndRefuseBeyondCapacity() throws Exception {
        UUID sessionId = UUID.randomUUID();
        try (DatagramSocket gateway = new DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            LaunchReply first = launch(sessionId, desktop.password, gateway.getLocalPort());
            LaunchReply second = launch(sessionId, desktop.password, gateway.getLocalPort());
            assertThat(first.getInstanceId()).isNotEqualTo(second.getInstanceId());
            assertThat(engine.instances(sessionId)).hasSize(2);
            assertThat(stub.tally(TallyRequest.getDefaultInstance()).getConnections()).isEqualTo(2);

            assertThatThrownBy(() -> launch(UUID.randomUUID(), desktop.password, gateway.getLocalPort()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.RESOURCE_EXHAUSTED));

            assertThat(stub.stop(StopRequest.newBuilder().setSessionId(sessionId.toString()).build()).getStoppedInstances()).isEqualTo(2);
            assertThat(engine.connections()).isZero();
            assertThat(engine.instances(sessionId)).isEmpty();
        }
    }

    LaunchSpec spec(UUID sessionId, int gatewayPort) {
        return new LaunchSpec(sessionId, TENANT, "127.0.0.1", desktop.port, desktop.password,
                new InetSocketAddress("127.0.0.1", gatewayPort), KEYS.derive(TENANT, sessionId.toString()));
    }

    LaunchReply launch(UUID sessionId, String password, int gatewayPort) {
        return stub.withDeadlineAfter(20, TimeUnit.SECONDS).launch(request(sessionId, password, gatewayPort));
    }

    LaunchRequest request(UUID sessionId, String password, int gatewayPort) {
        return LaunchRequest.newBuilder().setSessionId(sessionId.toString()).setTenant(TENANT)
                .setDesktopHost("127.0.0.1").setDesktopPort(desktop.port).setVncPassword(password)
                .setGatewayUdpHost("127.0.0.1").setGatewayUdpPort(gatewayPort)
                .setStreamKey(ByteString.copyFrom(KEYS.derive(TENANT, sessionId.toString()))).build();
    }

    static String summary(TestGateway gateway) {
        return gateway.received.size() + " messages, " + gateway.tiles + " tiles, " + gateway.frames + " frames"
                + (gateway.received.isEmpty() ? "" : ", first " + gateway.received.getFirst());
    }
}
