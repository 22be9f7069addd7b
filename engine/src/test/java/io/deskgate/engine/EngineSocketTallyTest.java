package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.deskgate.common.Secrets;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.EngineGrpc;
import io.deskgate.control.LaunchReply;
import io.deskgate.control.LaunchRequest;
import io.deskgate.control.SocketTally;
import io.deskgate.control.StopReply;
import io.deskgate.control.StopRequest;
import io.deskgate.control.TallyReply;
import io.deskgate.control.TallyRequest;
import io.deskgate.testkit.Conditions;
import io.deskgate.testkit.RfbTestDesktop;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two connections of one unique socket on a real engine over gRPC (issue 9), against an in-process RFB
 * desktop (no Xvnc): each is its own transcoding instance with its own reference id, the tallies (total and
 * per socket) go up at each launch and down at each close, and the last close releases the socket.
 */
class EngineSocketTallyTest {
    private static final byte[] CONTROL_SECRET = Secrets.randomBytes(32);
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    @Test
    void secondConnectionOfASocketIsASecondInstanceAndTalliesFollowEveryLaunchAndClose() throws Exception {
        InstanceLimits patient = InstanceLimits.builder().attachGrace(Duration.ofMinutes(10)).peerLost(Duration.ofMinutes(10)).build();
        try (RfbTestDesktop desktop = new RfbTestDesktop(640, 480);
             DatagramSocket gateway = new DatagramSocket(0, InetAddress.getLoopbackAddress());
             Engine engine = Engine.start(EngineConfig.builder().controlSecret(CONTROL_SECRET).limits(patient).build())) {
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", engine.grpcPort()).usePlaintext()
                    .intercept(new ControlAuth(CONTROL_SECRET).clientInterceptor()).build();
            try {
                EngineGrpc.EngineBlockingStub stub = EngineGrpc.newBlockingStub(channel);
                UUID socket = UUID.randomUUID();
                UUID other = UUID.randomUUID();
                LaunchRequest.Builder launch = LaunchRequest.newBuilder().setTenant(1).setDesktopHost(desktop.host())
                        .setDesktopPort(desktop.port()).setVncPassword("").setGatewayUdpHost("127.0.0.1")
                        .setGatewayUdpPort(gateway.getLocalPort()).setStreamKey(ByteString.copyFrom(Secrets.randomBytes(32)));

                LaunchReply first = call(stub).launch(launch.setSessionId(socket.toString()).build());
                assertThat(first.getWidth()).isEqualTo(640);
                LaunchReply second = call(stub).launch(launch.setSessionId(socket.toString()).build());
                LaunchReply elsewhere = call(stub).launch(launch.setSessionId(other.toString()).build());
                assertThat(second.getInstanceId()).isNotEqualTo(first.getInstanceId()).isNotEqualTo(elsewhere.getInstanceId());

                TallyReply tally = call(stub).tally(TallyRequest.getDefaultInstance());
                assertThat(tally.getConnections()).isEqualTo(3);
                assertThat(tally.getSocketsList()).containsExactlyInAnyOrder(socket(socket, 2), socket(other, 1));
                assertThat(engine.instances(socket)).extracting(TranscodingInstance::instanceId)
                        .containsExactlyInAnyOrder(first.getInstanceId(), second.getInstanceId());
                Conditions.await("three desktop connections", DEADLINE, () -> desktop.connections() == 3);

                StopReply closeOne = call(stub).stop(StopRequest.newBuilder().setSessionId(socket.toString())
                        .setInstanceId(first.getInstanceId()).build());
                assertThat(closeOne.getStoppedInstances()).isEqualTo(1);
                assertThat(closeOne.getRemainingInstances()).as("the second tab goes on").isEqualTo(1);
                tally = call(stub).tally(TallyRequest.getDefaultInstance());
                assertThat(tally.getConnections()).isEqualTo(2);
                assertThat(tally.getSocketsList()).containsExactlyInAnyOrder(socket(socket, 1), socket(other, 1));

                StopReply unknown = call(stub).stop(StopRequest.newBuilder().setSessionId(socket.toString())
                        .setInstanceId(first.getInstanceId()).build());
                assertThat(unknown.getStoppedInstances()).as("already closed").isZero();
                assertThat(unknown.getRemainingInstances()).isEqualTo(1);

                StopReply closeLast = call(stub).stop(StopRequest.newBuilder().setSessionId(socket.toString())
                        .setInstanceId(second.getInstanceId()).build());
                assertThat(closeLast.getStoppedInstances()).isEqualTo(1);
                assertThat(closeLast.getRemainingInstances()).as("the last close releases the socket").isZero();
                tally = call(stub).tally(TallyRequest.getDefaultInstance());
                assertThat(tally.getConnections()).isEqualTo(1);
                assertThat(tally.getSocketsList()).containsExactly(socket(other, 1));
                assertThat(engine.instances(socket)).isEmpty();
                Conditions.await("one desktop connection left", DEADLINE, () -> desktop.connections() == 1);

                StopReply all = call(stub).stop(StopRequest.newBuilder().setSessionId(other.toString()).build());
                assertThat(all.getStoppedInstances()).isEqualTo(1);
                assertThat(call(stub).tally(TallyRequest.getDefaultInstance()).getConnections()).isZero();
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    private static EngineGrpc.EngineBlockingStub call(EngineGrpc.EngineBlockingStub stub) {
        return stub.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static SocketTally socket(UUID id, int connections) {
        return SocketTally.newBuilder().setSessionId(id.toString()).setConnections(connections).build();
    }
}
