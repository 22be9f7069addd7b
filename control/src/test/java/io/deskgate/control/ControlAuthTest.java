package io.deskgate.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** {@link ControlAuth} over a real gRPC server on loopback port 0. */
class ControlAuthTest {
    private static final byte[] SECRET = secret(1);

    private final AtomicInteger served = new AtomicInteger();
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private Server server;

    @BeforeEach
    void startServer() throws IOException {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new EngineGrpc.EngineImplBase() {
                    @Override
                    public void tally(TallyRequest request, StreamObserver<TallyReply> reply) {
                        served.incrementAndGet();
                        reply.onNext(TallyReply.newBuilder().setConnections(7).build());
                        reply.onCompleted();
                    }
                })
                .intercept(new ControlAuth(SECRET).serverInterceptor())
                .build().start();
        log.start();
        ((Logger) LoggerFactory.getLogger(ControlAuth.class)).addAppender(log);
    }

    @AfterEach
    void stopServer() throws InterruptedException {
        ((Logger) LoggerFactory.getLogger(ControlAuth.class)).detachAppender(log);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private static byte[] secret(int fill) {
        byte[] s = new byte[ControlAuth.MIN_SECRET_BYTES];
        Arrays.fill(s, (byte) fill);
        return s;
    }

    /** Calls Tally on a channel built with {@code interceptors}; closes the channel. */
    private TallyReply tally(ClientInterceptor... interceptors) throws InterruptedException {
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext()
                .intercept(interceptors).build();
        try {
            return EngineGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .tally(TallyRequest.getDefaultInstance());
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static ClientInterceptor header(String value) {
        Metadata m = new Metadata();
        m.put(ControlAuth.AUTHORIZATION, value);
        return MetadataUtils.newAttachHeadersInterceptor(m);
    }

    @Test
    void callWithTheSharedSecretReachesTheService() throws Exception {
        assertThat(tally(new ControlAuth(SECRET.clone()).clientInterceptor()).getConnections()).isEqualTo(7);
        assertThat(served).hasValue(1);
        assertThat(log.list).isEmpty();
    }

    @Test
    void callWithoutCredentialIsUnauthenticatedAndNeverReachesTheService() {
        assertThatThrownBy(this::tally).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(e.getStatus().getDescription()).isEqualTo("control-plane credential missing");
        });
        assertThat(served).hasValue(0);
    }

    @Test
    void callWithAnotherSecretIsUnauthenticated() {
        assertThatThrownBy(() -> tally(new ControlAuth(secret(2)).clientInterceptor()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
                    assertThat(e.getStatus().getDescription()).isEqualTo("control-plane credential invalid");
                });
        assertThat(served).hasValue(0);
    }

    @Test
    void malformedAuthorizationHeadersAreUnauthenticated() {
        String token = ControlAuth.token(SECRET);
        for (String value : new String[] {token, "bearer " + token, "Basic " + token, "Bearer " + token + "x",
                "Bearer " + token.substring(1), "Bearer ", ""}) {
            assertThatThrownBy(() -> tally(header(value))).as(value)
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        }
        assertThat(served).hasValue(0);
    }

    @Test
    void theExactHeaderIsAccepted() throws Exception {
        assertThat(tally(header("Bearer " + ControlAuth.token(SECRET))).getConnections()).isEqualTo(7);
    }

    @Test
    void refusalIsLoggedOncePerConnectionWithoutTheToken() throws Exception {
        String wrongToken = ControlAuth.token(secret(2));
        ManagedChannel channel = ControlChannels.open("127.0.0.1:" + server.getPort(), new ControlAuth(secret(2)));
        try {
            for (int i = 0; i < 3; i++) {
                assertThatThrownBy(() -> EngineGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                        .tally(TallyRequest.getDefaultInstance())).isInstanceOf(StatusRuntimeException.class);
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        assertThat(log.list).hasSize(1);
        String line = log.list.getFirst().getFormattedMessage();
        assertThat(line).contains("deskgate.v1.Engine/Tally", "127.0.0.1", "invalid")
                .doesNotContain(wrongToken).doesNotContain(ControlAuth.token(SECRET));
    }

    /** Golden vector: secret 0x00..0x1f; computed independently with Python's hmac and base64 modules. */
    @Test
    void tokenIsUnpaddedBase64UrlOfHmacSha256OfTheLabel() {
        byte[] s = new byte[32];
        for (int i = 0; i < s.length; i++) s[i] = (byte) i;
        assertThat(ControlAuth.token(s)).isEqualTo("4hjC6V0344a0_CqalhxifU_mV3S1hjMuHB7Y37Dldxk");
    }

    @Test
    void missingOrShortSecretIsRefusedWithAClearMessage() {
        assertThatThrownBy(() -> new ControlAuth(new byte[0])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no control secret configured");
        assertThatThrownBy(() -> new ControlAuth(new byte[31])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least 32 bytes, got 31");
        assertThatThrownBy(() -> ControlAuth.checkedSecret(new byte[16])).isInstanceOf(IllegalArgumentException.class);
        assertThat(ControlAuth.checkedSecret(new byte[0])).isEmpty();
        byte[] copy = ControlAuth.checkedSecret(SECRET);
        assertThat(copy).isEqualTo(SECRET).isNotSameAs(SECRET);
    }

    @Test
    void toStringCarriesNoToken() {
        assertThat(new ControlAuth(SECRET).toString()).doesNotContain(ControlAuth.token(SECRET));
    }
}
