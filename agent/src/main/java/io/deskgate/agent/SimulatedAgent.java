package io.deskgate.agent;

import io.deskgate.agent.DesktopLifecycle.Accepted;
import io.deskgate.agent.DesktopLifecycle.Action;
import io.deskgate.agent.DesktopLifecycle.Launch;
import io.deskgate.agent.DesktopLifecycle.Outcome;
import io.deskgate.agent.DesktopLifecycle.Rejected;
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
import io.deskgate.control.ReleaseUserReply;
import io.deskgate.control.ReleaseUserRequest;
import io.deskgate.control.SessionStartedReply;
import io.deskgate.control.SessionStartedRequest;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A server agent without desktops behind it, for benchmarks and loopback tests of the fleet (issue 8:
 * "simulated agents, in-process, no Xvnc, over real gRPC"): the real {@link DesktopLifecycle} (the
 * compare-and-set that arbitrates racing brokers included) behind a real {@code Agent} gRPC service on a
 * loopback port that requires the control credential, with a launch that succeeds at once (no process; the
 * RFB port is made up). Each change is published as a separate step, as the real agent's loop does, so
 * {@link ConcentratorLinks} reports every step. Passwords expire as time passes (the core is ticked before
 * each call); viewers are never probed.
 *
 * <p>Thread-safe: every call takes the lifecycle's lock. The caller owns it and must {@link #close()} it.
 */
public final class SimulatedAgent extends AgentGrpc.AgentImplBase implements AutoCloseable {
    private final String agentId;
    private final DesktopLifecycle core;
    private final Server server;
    private final List<Consumer<List<Desktop>>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong assignments = new AtomicLong();
    private final AtomicLong refusedInitiations = new AtomicLong();
    private List<Desktop> published = List.of();

    private SimulatedAgent(String agentId, int desktops, ControlAuth auth) throws IOException {
        if (desktops < 1 || desktops > 999) throw new IllegalArgumentException("desktops must be 1 to 999: " + desktops);
        this.agentId = agentId;
        this.core = new DesktopLifecycle(agentId, desktops, 1280, 800, Duration.ofSeconds(60).toNanos(),
                Duration.ofMinutes(120).toNanos(), DesktopLifecycle.RestartPolicy.DEFAULT);
        this.server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(this)
                .intercept(auth.serverInterceptor()).directExecutor().build().start(); // handlers never block
    }

    /** An agent of {@code desktops} desktops, all AVAILABLE when this returns. */
    public static SimulatedAgent start(String agentId, int desktops, byte[] controlSecret) throws IOException {
        return start(agentId, desktops, controlSecret, AgentMetrics.unread());
    }

    /** The same, counting into {@code metrics} as a real agent does. */
    public static SimulatedAgent start(String agentId, int desktops, byte[] controlSecret, AgentMetrics metrics) throws IOException {
        SimulatedAgent a = new SimulatedAgent(agentId, desktops, new ControlAuth(controlSecret));
        a.metrics = metrics;
        metrics.watch(a::desktops);
        synchronized (a) {
            a.perform(a.core.start(System.nanoTime()));
        }
        return a;
    }

    private volatile AgentMetrics metrics = AgentMetrics.unread();

    public String agentId() {
        return agentId;
    }

    /** {@code host:port} of its Agent service. */
    public String target() {
        return "127.0.0.1:" + server.getPort();
    }

    public synchronized List<Desktop> desktops() {
        return published;
    }

    /** As {@link Agent#onDesktopsChanged}: called at every step, in order, under the agent's lock. */
    public void onDesktopsChanged(Consumer<List<Desktop>> listener) {
        listeners.add(listener);
    }

    /** How many times a desktop was assigned to a session that did not hold it already (reconnects not counted). */
    public long assignments() {
        return assignments.get();
    }

    /** How many InitiateSession calls the lifecycle refused: mostly lost compare-and-sets (another session first). */
    public long refusedInitiations() {
        return refusedInitiations.get();
    }

    @Override
    public void listDesktops(ListDesktopsRequest request, StreamObserver<ListDesktopsReply> reply) {
        reply.onNext(ListDesktopsReply.newBuilder().addAllDesktops(desktops()).build());
        reply.onCompleted();
    }

    @Override
    public void initiateSession(InitiateSessionRequest r, StreamObserver<InitiateSessionReply> reply) {
        Outcome o;
        synchronized (this) {
            long now = tick();
            int index = core.indexOf(r.getDesktopId());
            boolean wasFree = index >= 0 && core.state(index) == DesktopState.AVAILABLE;
            o = core.initiate(r.getDesktopId(), r.getExpectedVersion(), r.getSessionId(), r.getTenant(), r.getUser(), r.getDedicate(), now);
            if (o instanceof Accepted a) {
                if (wasFree) assignments.incrementAndGet();
                perform(a.actions());
            } else {
                refusedInitiations.incrementAndGet();
            }
        }
        metrics.initiated(o instanceof Rejected(DesktopLifecycle.Rejection rejection, String m) ? rejection.name() : "accepted");
        answer(reply, o, a -> InitiateSessionReply.newBuilder().setDesktop(a.desktop())
                .setVncPassword(HexFormat.of().formatHex(Secrets.randomBytes(8))).build());
    }

    @Override
    public void sessionStarted(SessionStartedRequest r, StreamObserver<SessionStartedReply> reply) {
        Outcome o;
        synchronized (this) {
            o = core.sessionStarted(r.getDesktopId(), r.getSessionId(), tick());
            if (o instanceof Accepted a) perform(a.actions());
        }
        answer(reply, o, a -> SessionStartedReply.getDefaultInstance());
    }

    @Override
    public void endSession(EndSessionRequest r, StreamObserver<EndSessionReply> reply) {
        Outcome o;
        synchronized (this) {
            o = core.endSession(r.getDesktopId(), r.getSessionId(), r.getKeep(), tick());
            if (o instanceof Accepted a) perform(a.actions());
        }
        answer(reply, o, a -> EndSessionReply.getDefaultInstance());
    }

    @Override
    public void releaseUser(ReleaseUserRequest r, StreamObserver<ReleaseUserReply> reply) {
        if (!r.getAgentsList().isEmpty() && !r.getAgentsList().contains(agentId())) {
            reply.onNext(ReleaseUserReply.getDefaultInstance());
            reply.onCompleted();
            return;
        }
        DesktopLifecycle.Released released;
        synchronized (this) {
            released = core.releaseUser(r.getTenant(), r.getUser(), tick());
            perform(released.actions());
            publish();
        }
        reply.onNext(ReleaseUserReply.newBuilder().setReleased(released.desktops()).build());
        reply.onCompleted();
    }

    /** Under the lock: time passes for the core. */
    private long tick() {
        long now = System.nanoTime();
        // Every change the core makes as time passes comes with an action (a password scrambled, a relaunch): with
        // none, nothing changed, and the step is not republished (a snapshot and a compare of every desktop).
        List<Action> actions = core.tick(now);
        if (!actions.isEmpty()) perform(actions);
        return now;
    }

    /** Under the lock: publishes the step the core just took, then launches at once (each launch its own step). */
    private void perform(List<Action> actions) {
        publish();
        for (Action a : actions) {
            if (a instanceof Launch(int index, long generation)) {
                core.onLaunched(index, generation, "127.0.0.1", 5900 + index + 1, System.nanoTime());
                publish();
            }
        }
    }

    private void publish() {
        List<Desktop> now = core.desktops();
        if (now.equals(published)) return;
        published = now;
        for (Consumer<List<Desktop>> l : listeners) l.accept(now);
    }

    private static <T> void answer(StreamObserver<T> reply, Outcome o, java.util.function.Function<Accepted, T> accepted) {
        switch (o) {
            case Accepted a -> {
                reply.onNext(accepted.apply(a));
                reply.onCompleted();
            }
            case Rejected(DesktopLifecycle.Rejection rejection, String message) -> reply.onError((switch (rejection) {
                case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
                case NOT_FOUND -> Status.NOT_FOUND;
                case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
                case ABORTED -> Status.ABORTED;
            }).withDescription(message).asRuntimeException());
        }
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
