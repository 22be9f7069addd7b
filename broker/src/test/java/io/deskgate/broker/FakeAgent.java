package io.deskgate.broker;

import io.deskgate.common.Secrets;
import io.deskgate.control.AgentGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import io.deskgate.control.EndSessionReply;
import io.deskgate.control.EndSessionRequest;
import io.deskgate.control.InitiateSessionReply;
import io.deskgate.control.InitiateSessionRequest;
import io.deskgate.control.ListDesktopsReply;
import io.deskgate.control.ListDesktopsRequest;
import io.deskgate.control.SessionStartedReply;
import io.deskgate.control.SessionStartedRequest;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Test-only: a real gRPC {@code Agent} server on a loopback port 0 whose desktops are plain data, so
 * the broker's edge can be tested without Xvnc. Like a real agent it requires the control credential.
 * Records the calls it received.
 */
final class FakeAgent extends AgentGrpc.AgentImplBase implements AutoCloseable {
    /** The control secret of the test deployment: the broker under test is configured with it. */
    static final byte[] CONTROL_SECRET = Secrets.randomBytes(32);
    final Map<String, Desktop> desktops = new ConcurrentHashMap<>();
    final List<String> calls = new CopyOnWriteArrayList<>();
    /** Desktops listed as they are but refused on InitiateSession, as if another broker took them first. */
    final Set<String> taken = ConcurrentHashMap.newKeySet();
    private final Server server;

    FakeAgent(Desktop... initial) throws IOException {
        this(CONTROL_SECRET, initial);
    }

    /** An agent that requires the credential of {@code controlSecret}. */
    FakeAgent(byte[] controlSecret, Desktop... initial) throws IOException {
        for (Desktop d : initial) desktops.put(d.getDesktopId(), d);
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(this)
                .intercept(new ControlAuth(controlSecret).serverInterceptor()).build().start();
    }

    String target() {
        return "127.0.0.1:" + server.getPort();
    }

    @Override
    public void listDesktops(ListDesktopsRequest request, StreamObserver<ListDesktopsReply> reply) {
        reply.onNext(ListDesktopsReply.newBuilder().addAllDesktops(
                desktops.values().stream().sorted(Comparator.comparing(Desktop::getDesktopId)).toList()).build());
        reply.onCompleted();
    }

    @Override
    public void initiateSession(InitiateSessionRequest request, StreamObserver<InitiateSessionReply> reply) {
        calls.add("initiate " + request.getDesktopId() + " " + request.getSessionId() + " " + request.getUser());
        Desktop d = desktops.get(request.getDesktopId());
        if (d == null) {
            reply.onError(Status.NOT_FOUND.asRuntimeException());
            return;
        }
        boolean own = d.getTenant() == request.getTenant() && d.getUser().equals(request.getUser());
        if (taken.contains(d.getDesktopId()) || d.getState() != DesktopState.AVAILABLE && !own) {
            reply.onError(Status.FAILED_PRECONDITION.withDescription("taken").asRuntimeException());
            return;
        }
        Desktop assigned = d.toBuilder().setState(DesktopState.ASSIGNED).setTenant(request.getTenant()).setUser(request.getUser())
                .setSessionId(request.getSessionId()).build();
        desktops.put(d.getDesktopId(), assigned);
        reply.onNext(InitiateSessionReply.newBuilder().setDesktop(assigned)
                .setVncPassword("pw-" + d.getDesktopId()).build());
        reply.onCompleted();
    }

    @Override
    public void sessionStarted(SessionStartedRequest request, StreamObserver<SessionStartedReply> reply) {
        calls.add("started " + request.getDesktopId() + " " + request.getSessionId());
        reply.onNext(SessionStartedReply.getDefaultInstance());
        reply.onCompleted();
    }

    @Override
    public void endSession(EndSessionRequest request, StreamObserver<EndSessionReply> reply) {
        calls.add("end " + request.getDesktopId() + " " + request.getSessionId());
        Desktop d = desktops.get(request.getDesktopId());
        if (d == null || !d.getSessionId().equals(request.getSessionId())) {
            reply.onError(Status.FAILED_PRECONDITION.withDescription("not this session").asRuntimeException());
            return;
        }
        reply.onNext(EndSessionReply.getDefaultInstance());
        reply.onCompleted();
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
