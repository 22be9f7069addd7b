package io.deskgate.frontdoor;

import io.deskgate.common.Secrets;
import io.deskgate.control.BrokerGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import io.deskgate.control.EndSessionReply;
import io.deskgate.control.EndSessionRequest;
import io.deskgate.control.EngineGrpc;
import io.deskgate.control.FindDesktopReply;
import io.deskgate.control.FindDesktopRequest;
import io.deskgate.control.LaunchReply;
import io.deskgate.control.LaunchRequest;
import io.deskgate.control.ListDesktopsReply;
import io.deskgate.control.ListDesktopsRequest;
import io.deskgate.control.SessionStartedReply;
import io.deskgate.control.SessionStartedRequest;
import io.deskgate.control.StopReply;
import io.deskgate.control.StopRequest;
import io.deskgate.control.TallyReply;
import io.deskgate.control.TallyRequest;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A broker and an engine on real gRPC servers on loopback port 0, with scripted answers and a record of
 * the calls they received. Like the real ones, both require the control credential of {@link #CONTROL_SECRET}.
 * Test fixture; thread-safe.
 */
final class FakeControlPlane implements AutoCloseable {
    /** The agent id of the fixture's desktops ({@code agent-1/<n>}). */
    static final String AGENT = "agent-1";
    /** The control secret of the test deployment: a frontdoor under test is started with it. */
    static final byte[] CONTROL_SECRET = Secrets.randomBytes(32);

    final List<FindDesktopRequest> finds = new CopyOnWriteArrayList<>();
    final List<ListDesktopsRequest> lists = new CopyOnWriteArrayList<>();
    final List<EndSessionRequest> ends = new CopyOnWriteArrayList<>();
    final List<SessionStartedRequest> starts = new CopyOnWriteArrayList<>();
    final List<LaunchRequest> launches = new CopyOnWriteArrayList<>();
    final List<StopRequest> stops = new CopyOnWriteArrayList<>();
    final List<io.deskgate.control.ReleaseUserRequest> releases = new CopyOnWriteArrayList<>();
    /** The broker's session calls in the order it handled them: "started <session>" when answered, "ended <session>" when received. */
    final List<String> sessionCalls = new CopyOnWriteArrayList<>();
    /** Not null: SessionStarted answers only once this is counted down (a slow broker). */
    volatile java.util.concurrent.CountDownLatch holdStarts;

    volatile List<Desktop> desktops = List.of();
    /** Null: FindDesktop hands out {@link #desktop}; otherwise it fails with this status. */
    volatile Status findFailure;
    volatile Desktop desktop = desktop("agent-1/1", DesktopState.ASSIGNED, "");
    volatile Status launchFailure;
    volatile boolean reconnect;
    volatile int connections;

    private final Server broker;
    private final Server engine;

    FakeControlPlane() throws IOException {
        ControlAuth auth = new ControlAuth(CONTROL_SECRET);
        broker = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(new Broker())
                .intercept(auth.serverInterceptor()).build().start();
        engine = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(new Engine())
                .intercept(auth.serverInterceptor()).build().start();
    }

    String brokerTarget() { return "127.0.0.1:" + broker.getPort(); }

    String engineTarget() { return "127.0.0.1:" + engine.getPort(); }

    /** A desktop of {@code user} of tenant 1, the fixture's tenant (none when empty). */
    static Desktop desktop(String id, DesktopState state, String user) {
        return desktop(id, state, user.isEmpty() ? 0 : 1, user);
    }

    static Desktop desktop(String id, DesktopState state, int tenant, String user) {
        return Desktop.newBuilder().setDesktopId(id).setHost("127.0.0.1").setPort(5901).setState(state)
                .setTenant(tenant).setUser(user)
                .setWidth(1280).setHeight(800).build();
    }

    void reset() {
        finds.clear();
        lists.clear();
        ends.clear();
        starts.clear();
        launches.clear();
        stops.clear();
        releases.clear();
        sessionCalls.clear();
        holdStarts = null;
        findFailure = null;
        launchFailure = null;
        reconnect = false;
        connections = 0;
    }

    @Override
    public void close() throws InterruptedException {
        broker.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        engine.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private final class Broker extends BrokerGrpc.BrokerImplBase {
        @Override
        public void listDesktops(ListDesktopsRequest request, StreamObserver<ListDesktopsReply> out) {
            lists.add(request);
            out.onNext(ListDesktopsReply.newBuilder().addAllDesktops(desktops).build());
            out.onCompleted();
        }

        @Override
        public void findDesktop(FindDesktopRequest request, StreamObserver<FindDesktopReply> out) {
            finds.add(request);
            Status failure = findFailure;
            if (failure != null) {
                out.onError(failure.asRuntimeException());
                return;
            }
            out.onNext(FindDesktopReply.newBuilder().setDesktop(desktop).setVncPassword("one-time-pw").setReconnect(reconnect).build());
            out.onCompleted();
        }

        @Override
        public void sessionStarted(SessionStartedRequest request, StreamObserver<SessionStartedReply> out) {
            java.util.concurrent.CountDownLatch hold = holdStarts;
            if (hold != null) {
                try {
                    hold.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            starts.add(request);
            sessionCalls.add("started " + request.getSessionId());
            out.onNext(SessionStartedReply.getDefaultInstance());
            out.onCompleted();
        }

        @Override
        public void endSession(EndSessionRequest request, StreamObserver<EndSessionReply> out) {
            ends.add(request);
            sessionCalls.add("ended " + request.getSessionId());
            out.onNext(EndSessionReply.getDefaultInstance());
            out.onCompleted();
        }

        @Override
        public void releaseUser(io.deskgate.control.ReleaseUserRequest request,
                                StreamObserver<io.deskgate.control.ReleaseUserReply> out) {
            releases.add(request);
            out.onNext(io.deskgate.control.ReleaseUserReply.newBuilder().setReleased(2).build());
            out.onCompleted();
        }
    }

    private final class Engine extends EngineGrpc.EngineImplBase {
        @Override
        public void launch(LaunchRequest request, StreamObserver<LaunchReply> out) {
            launches.add(request);
            Status failure = launchFailure;
            if (failure != null) {
                out.onError(failure.asRuntimeException());
                return;
            }
            out.onNext(LaunchReply.newBuilder().setInstanceId("instance-" + launches.size()).setWidth(1280).setHeight(800).build());
            out.onCompleted();
        }

        @Override
        public void stop(StopRequest request, StreamObserver<StopReply> out) {
            stops.add(request);
            out.onNext(StopReply.newBuilder().setStoppedInstances(1).build());
            out.onCompleted();
        }

        @Override
        public void tally(TallyRequest request, StreamObserver<TallyReply> out) {
            out.onNext(TallyReply.newBuilder().setConnections(connections).build());
            out.onCompleted();
        }
    }
}
