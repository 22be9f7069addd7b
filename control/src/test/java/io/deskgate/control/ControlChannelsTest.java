package io.deskgate.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link ControlChannels}: target parsing, and channels to a real gRPC server on loopback port 0. */
class ControlChannelsTest {
    private static byte[] secret(int fill) {
        byte[] s = new byte[ControlAuth.MIN_SECRET_BYTES];
        Arrays.fill(s, (byte) fill);
        return s;
    }

    @Test
    void shouldParseHostPortTargets() {
        assertThat(ControlChannels.Target.parse("127.0.0.1:7000")).isEqualTo(new ControlChannels.Target("127.0.0.1", 7000));
        assertThat(ControlChannels.Target.parse("[::1]:7000")).isEqualTo(new ControlChannels.Target("::1", 7000));
        assertThat(ControlChannels.Target.parse("agents.example:1")).isEqualTo(new ControlChannels.Target("agents.example", 1));
        for (String bad : new String[] {"127.0.0.1:", "127.0.0.1:x", ":80", "host", "host:0", "host:65536", "[]:80", "[::1:80"}) {
            assertThatThrownBy(() -> ControlChannels.Target.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(bad);
        }
    }

    @Test
    void shouldCarryTheCredentialOfItsAuthOnEveryCall() throws Exception {
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new EngineGrpc.EngineImplBase() {
                    @Override
                    public void tally(TallyRequest request, StreamObserver<TallyReply> reply) {
                        reply.onNext(TallyReply.newBuilder().setConnections(3).build());
                        reply.onCompleted();
                    }
                })
                .intercept(new ControlAuth(secret(1)).serverInterceptor())
                .build().start();
        ManagedChannel right = ControlChannels.open("127.0.0.1:" + server.getPort(), new ControlAuth(secret(1)));
        ManagedChannel wrong = ControlChannels.open("127.0.0.1:" + server.getPort(), new ControlAuth(secret(2)));
        try {
            assertThat(EngineGrpc.newBlockingStub(right).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .tally(TallyRequest.getDefaultInstance()).getConnections()).isEqualTo(3);
            assertThatThrownBy(() -> EngineGrpc.newBlockingStub(wrong).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .tally(TallyRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        } finally {
            ControlChannels.close(right, Duration.ofSeconds(5));
            ControlChannels.close(wrong, Duration.ofSeconds(5));
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        assertThat(right.isTerminated()).as("closed within its wait").isTrue();
    }

    @Test
    void shouldRefuseATargetThatIsNotHostPort() {
        assertThatThrownBy(() -> ControlChannels.open("dns:///broker", new ControlAuth(secret(1))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("host:port");
    }
}
