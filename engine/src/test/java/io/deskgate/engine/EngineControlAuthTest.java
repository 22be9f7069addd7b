package io.deskgate.engine;

import static io.deskgate.testkit.GrpcCalls.code;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.Secrets;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.EngineGrpc;
import io.deskgate.control.LaunchRequest;
import io.deskgate.control.StopRequest;
import io.deskgate.control.TallyRequest;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The engine's gRPC service requires the control credential (no desktop needed: refusals come first). */
class EngineControlAuthTest {
    private static final byte[] CONTROL_SECRET = Secrets.randomBytes(32);

    private final List<ManagedChannel> channels = new ArrayList<>();
    private Engine engine;

    @BeforeEach
    void startEngine() throws Exception {
        engine = Engine.start(EngineConfig.builder().controlSecret(CONTROL_SECRET).build());
    }

    @AfterEach
    void stop() throws Exception {
        for (ManagedChannel c : channels) c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        engine.close();
    }

    private EngineGrpc.EngineBlockingStub stub(ClientInterceptor... interceptors) {
        ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", engine.grpcPort()).usePlaintext()
                .intercept(interceptors).build();
        channels.add(c);
        return EngineGrpc.newBlockingStub(c).withDeadlineAfter(5, TimeUnit.SECONDS);
    }

    @Test
    void shouldServeACallCarryingTheControlCredential() {
        assertThat(stub(new ControlAuth(CONTROL_SECRET).clientInterceptor()).tally(TallyRequest.getDefaultInstance())
                .getConnections()).isZero();
    }

    @Test
    void shouldRefuseEveryCallWithoutTheControlCredential() {
        // A launch toward a port nothing listens on would fail UNAVAILABLE if it reached the service.
        LaunchRequest launch = LaunchRequest.newBuilder().setSessionId(UUID.randomUUID().toString())
                .setDesktopHost("127.0.0.1").setDesktopPort(1).setVncPassword("x")
                .setGatewayUdpHost("127.0.0.1").setGatewayUdpPort(9).build();
        for (EngineGrpc.EngineBlockingStub intruder : List.of(stub(),
                stub(new ControlAuth(Secrets.randomBytes(32)).clientInterceptor()))) {
            assertThat(code(() -> intruder.launch(launch))).isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(code(() -> intruder.stop(StopRequest.newBuilder().setSessionId(UUID.randomUUID().toString())
                    .build()))).isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(code(() -> intruder.tally(TallyRequest.getDefaultInstance())))
                    .isEqualTo(Status.Code.UNAUTHENTICATED);
        }
        assertThat(engine.connections()).isZero();
    }

    @Test
    void shouldRefuseToStartWithoutAControlSecret() {
        assertThatThrownBy(() -> Engine.start(EngineConfig.defaults())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no control secret configured");
        assertThatThrownBy(() -> EngineConfig.builder().controlSecret(new byte[8]).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 32 bytes");
    }
}
