package io.deskgate.agent;

import io.deskgate.agent.ConcentratorChoice.Action;
import io.deskgate.agent.ConcentratorChoice.Connect;
import io.deskgate.agent.ConcentratorChoice.Disconnect;
import io.deskgate.common.RateLimitedLog;
import io.deskgate.control.AgentAnswer;
import io.deskgate.control.AgentCall;
import io.deskgate.control.AgentHello;
import io.deskgate.control.CallError;
import io.deskgate.control.InitiateSessionReply;
import io.deskgate.control.InitiateSessionRequest;
import io.deskgate.control.AgentReport;
import io.deskgate.control.ConcentratorGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.ControlChannels;
import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopStatus;
import io.deskgate.control.ReportAck;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's report streams (seed 001, issue 8 item 4): one to the concentrator it chose in every
 * concentrator set ({@link ConcentratorChoice}), each opened with a hello and the full snapshot of the
 * agent's desktops, then deltas of the changes ({@link #desktopsChanged}, in the order the changes happened; the
 * changes of several desktops join one delta when the loop is behind, but no desktop's step is merged into its next,
 * since the concentrator checks every step: {@link PendingDeltas}) and an empty delta as a heartbeat
 * every {@link Settings#heartbeatInterval}. A delta due when a session call on that stream is answered goes up with
 * the answer, if the concentrator's call says {@code report_in_answer}, rather than as a message of its own. The registry's live concentrator rows are read at every
 * heartbeat. A stream that fails, or that has had no ack for {@link Settings#heartbeatTimeout}, is closed
 * and its set chosen again at once; so is one whose concentrator left the registry. Started with
 * {@link SessionCalls}, the agent also answers the InitiateSession calls its concentrators send down these
 * streams (docs/protocol.md, "Session calls on the report stream"), up the same stream.
 *
 * <p>Threads: one loop thread owns the choice, the streams and the last state sent; {@link #desktopsChanged}
 * and gRPC's callbacks hand their events to it; a session call is handed to the call executor and its answer
 * written by whichever thread answers (a link's writes are serialized by the link). Public methods are thread-safe. The caller owns the links
 * and must {@link #close()} them.
 */
public final class ConcentratorLinks implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConcentratorLinks.class);

    /** The concentrators alive now, as the registry lists them (rows of gone roles already left out). */
    public interface Registry {
        List<Row> liveConcentrators();
    }

    /** A concentrator's registry row: its id, set, gRPC target ({@code host:port}) and load (desktops held). */
    public record Row(String id, String set, String target, long load) {
        public Row {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(set, "set");
            Objects.requireNonNull(target, "target");
        }
    }

    /**
     * @param agentId           the agent's id (its desktops are {@code <agentId>/<n>})
     * @param agentTarget       {@code host:port} of the agent's own Agent service, where concentrators forward
     *                          session calls
     * @param tenant            the tenant of the agent's pool (default 1)
     * @param pool              the pool the agent's desktops belong to (default {@code default})
     * @param heartbeatInterval how often a heartbeat is sent and the registry read (default 2 s)
     * @param heartbeatTimeout  a stream without an ack this long is failed (default 15 s, the concentrators'
     *                          agent timeout); more than the interval
     * @param avoid             how long a concentrator whose stream failed is avoided (default 30 s)
     * @param labels            the agent's labels, said in the hello (pools select agents by them; default none)
     * @param desktopHost       where the agent's desktops listen, said in the hello (default empty: not said)
     * @param width             the desktops' framebuffer width, said in the hello (default 0: not said)
     * @param height            their height (default 0)
     */
    public record Settings(String agentId, String agentTarget, int tenant, String pool, Duration heartbeatInterval,
                           Duration heartbeatTimeout, Duration avoid, List<String> labels, String desktopHost, int width,
                           int height) {
        public Settings {
            labels = List.copyOf(Objects.requireNonNull(labels, "labels"));
            Objects.requireNonNull(desktopHost, "desktopHost");
            Objects.requireNonNull(agentId, "agentId");
            Objects.requireNonNull(pool, "pool");
            Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
            Objects.requireNonNull(heartbeatTimeout, "heartbeatTimeout");
            Objects.requireNonNull(avoid, "avoid");
            ControlChannels.Target.parse(Objects.requireNonNull(agentTarget, "agentTarget"));
            if (tenant < 1) throw new IllegalArgumentException("tenant must be positive: " + tenant);
            if (pool.isBlank()) throw new IllegalArgumentException("pool must not be blank");
            if (heartbeatInterval.isNegative() || heartbeatInterval.isZero()) {
                throw new IllegalArgumentException("heartbeat-interval must be positive: " + heartbeatInterval);
            }
            if (heartbeatTimeout.compareTo(heartbeatInterval) <= 0) {
                throw new IllegalArgumentException("heartbeat-timeout must be longer than heartbeat-interval: " + heartbeatTimeout);
            }
            if (avoid.isNegative()) throw new IllegalArgumentException("avoid must not be negative: " + avoid);
        }

        /** The defaults, for {@code agentId} serving at {@code agentTarget}. */
        public static Settings of(String agentId, String agentTarget) {
            return new Settings(agentId, agentTarget, 1, "default", Duration.ofSeconds(2), Duration.ofSeconds(15),
                    Duration.ofSeconds(30), List.of(), "", 0, 0);
        }

        public Settings withHeartbeat(Duration interval, Duration timeout) {
            return new Settings(agentId, agentTarget, tenant, pool, interval, timeout, avoid, labels, desktopHost, width, height);
        }

        public Settings withPool(int tenantOfPool, String poolName) {
            return new Settings(agentId, agentTarget, tenantOfPool, poolName, heartbeatInterval, heartbeatTimeout, avoid, labels,
                    desktopHost, width, height);
        }

        /** The same, saying these labels, desktop host and size in the hello. */
        public Settings withHello(List<String> agentLabels, String host, int desktopWidth, int desktopHeight) {
            return new Settings(agentId, agentTarget, tenant, pool, heartbeatInterval, heartbeatTimeout, avoid, agentLabels, host,
                    desktopWidth, desktopHeight);
        }
    }

    /**
     * Answers the session calls a concentrator sends down a report stream (control.proto {@code AgentCall}):
     * the agent's own Agent service methods. {@code reply} gets one answer or one error; it may be called from any
     * thread.
     */
    public interface SessionCalls {
        void initiateSession(InitiateSessionRequest request, StreamObserver<InitiateSessionReply> reply);
    }

    private final Settings settings;
    private final Registry registry;
    private final ControlAuth auth;
    /** Empty: the hello does not say stream_calls, and no concentrator sends calls down the streams. */
    private final Optional<SessionCalls> sessionCalls;
    private final Executor callExecutor;
    private final ConcentratorChoice choice;
    private final ScheduledExecutorService loop;
    private final RateLimitedLog log = new RateLimitedLog(LOG);
    /**
     * Streams that ended because their concentrator went away (CANCELLED, UNAVAILABLE: closed, killed, unreachable), for
     * every agent of this process: one line per {@link #GONE_WINDOW}, the next one counting those held back. A fleet's
     * agents in one process (a benchmark, a test) lose a concentrator together, and each re-selects on its own, so a
     * line each says nothing more. Any other ending (a refusal: INVALID_ARGUMENT, UNAUTHENTICATED, ...) is logged per
     * agent as before.
     */
    static final Duration GONE_WINDOW = Duration.ofSeconds(10);
    private static final RateLimitedLog GONE = new RateLimitedLog(LOG, 1, GONE_WINDOW, System::nanoTime);
    private static final java.util.concurrent.atomic.AtomicLong STREAMS_LOST = new java.util.concurrent.atomic.AtomicLong();
    /** Deltas sent as messages of their own, the desktops they carried, and the deltas sent with an answer, process-wide. */
    private static final java.util.concurrent.atomic.AtomicLong DELTAS = new java.util.concurrent.atomic.AtomicLong();
    private static final java.util.concurrent.atomic.AtomicLong DELTA_DESKTOPS = new java.util.concurrent.atomic.AtomicLong();
    private static final java.util.concurrent.atomic.AtomicLong DELTAS_WITH_ANSWERS = new java.util.concurrent.atomic.AtomicLong();
    /** Loop-owned: set to its open link. */
    private final Map<String, Link> links = new HashMap<>();
    /** Loop-owned: the desktops as last reported, by id, in the agent's order. */
    private final Map<String, DesktopStatus> current = new LinkedHashMap<>();
    /** Loop-owned: the agent's message each desktop was last diffed from, by id (compared by identity). */
    private final Map<String, Desktop> seen = new HashMap<>();
    /** Loop-owned: concentrator id to target, from the last registry read. */
    private final Map<String, String> targets = new HashMap<>();
    private volatile Map<String, String> acked = Map.of();
    /** Loop-owned: a drain of every link's waiting delta is queued on the loop. */
    private boolean drainQueued;
    private volatile boolean closed;
    /** Empty: each stream on a channel of its own (one per concentrator); else channels shared with the process. */
    private Optional<io.deskgate.control.SharedChannels> shared = Optional.empty();

    private ConcentratorLinks(Settings settings, Registry registry, ControlAuth auth, Optional<SessionCalls> sessionCalls,
                              Executor callExecutor) {
        this.settings = settings;
        this.registry = registry;
        this.auth = auth;
        this.sessionCalls = sessionCalls;
        this.callExecutor = callExecutor;
        this.choice = new ConcentratorChoice(settings.agentId(), settings.heartbeatTimeout(), settings.avoid());
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "concentrator-links-" + settings.agentId());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Starts reporting {@code desktops} (read once, now; then changes come through {@link #desktopsChanged})
     * to one concentrator of every set the registry lists.
     */
    public static ConcentratorLinks start(Settings settings, Registry registry, Supplier<List<Desktop>> desktops,
                                          ControlAuth auth) {
        return start(settings, registry, desktops, auth, Optional.empty(), Runnable::run);
    }

    /**
     * The same, and the agent takes session calls down its report streams: the hello says {@code stream_calls}, and
     * each InitiateSession a concentrator sends there is handed to {@code calls} on {@code callExecutor} (the
     * transport's thread when it is {@code Runnable::run}: then {@code calls} must not block), its answer sent
     * back up the same stream.
     */
    public static ConcentratorLinks start(Settings settings, Registry registry, Supplier<List<Desktop>> desktops,
                                          ControlAuth auth, SessionCalls calls, Executor callExecutor) {
        return start(settings, registry, desktops, auth, Optional.of(calls), callExecutor);
    }

    /**
     * The same, the streams on {@code channels}, which the process's other clients of the same concentrators share
     * (one connection per concentrator for every agent of a benchmark's JVM); {@code channels} must be behind
     * {@code auth}'s credential.
     */
    public static ConcentratorLinks start(Settings settings, Registry registry, Supplier<List<Desktop>> desktops,
                                          ControlAuth auth, SessionCalls calls, Executor callExecutor,
                                          io.deskgate.control.SharedChannels channels) {
        return start(settings, registry, desktops, auth, Optional.of(calls), callExecutor,
                Optional.of(Objects.requireNonNull(channels, "channels")));
    }

    private static ConcentratorLinks start(Settings settings, Registry registry, Supplier<List<Desktop>> desktops,
                                           ControlAuth auth, Optional<SessionCalls> calls, Executor callExecutor) {
        return start(settings, registry, desktops, auth, calls, callExecutor, Optional.empty());
    }

    private static ConcentratorLinks start(Settings settings, Registry registry, Supplier<List<Desktop>> desktops,
                                           ControlAuth auth, Optional<SessionCalls> calls, Executor callExecutor,
                                           Optional<io.deskgate.control.SharedChannels> channels) {
        ConcentratorLinks links = new ConcentratorLinks(settings, Objects.requireNonNull(registry, "registry"),
                Objects.requireNonNull(auth, "auth"), calls, Objects.requireNonNull(callExecutor, "callExecutor"));
        links.shared = channels;
        List<Desktop> initial = desktops.get();
        links.post(() -> {
            links.diff(initial);
            links.heartbeat();
        });
        long every = settings.heartbeatInterval().toMillis();
        links.loop.scheduleWithFixedDelay(() -> links.safely(links::heartbeat), every, every, TimeUnit.MILLISECONDS);
        return links;
    }

    /** The agent's desktops changed (call at every change, in order; each list is the whole of them). */
    public void desktopsChanged(List<Desktop> now) {
        List<Desktop> copy = List.copyOf(now);
        post(() -> {
            List<DesktopStatus> changed = diff(copy);
            if (changed.isEmpty()) return;
            for (Link l : List.copyOf(links.values())) {
                for (List<DesktopStatus> delta : l.pending.add(changed)) l.sendDelta(delta);
            }
            // The waiting deltas go when the loop has caught up (the changes and answers queued behind this task first).
            if (!drainQueued) {
                drainQueued = true;
                post(this::drain);
            }
        });
    }

    /** On the loop: every link's waiting delta, except where an answer that takes it is due. */
    private void drain() {
        drainQueued = false;
        for (Link l : List.copyOf(links.values())) l.sendDelta(l.pending.drain(l.answersDue.get() > 0));
    }

    /** Deltas sent as messages of their own by every agent of this process, since the start. */
    public static long deltasSent() {
        return DELTAS.get();
    }

    /** The desktops those deltas carried. */
    public static long deltaDesktopsSent() {
        return DELTA_DESKTOPS.get();
    }

    /** Deltas that went up with a session call's answer instead. */
    public static long deltasWithAnswers() {
        return DELTAS_WITH_ANSWERS.get();
    }

    /** Whether a stream ending with {@code code} says its concentrator went away (not a refusal of this agent). */
    static boolean concentratorGone(Status.Code code) {
        return code == Status.Code.CANCELLED || code == Status.Code.UNAVAILABLE;
    }

    /** Report streams of every agent in this process that ended because their concentrator went away, since the start. */
    public static long streamsLost() {
        return STREAMS_LOST.get();
    }

    /** Set to the concentrator whose stream has acked at least one report: where the agent is reported now. */
    public Map<String, String> reportingTo() {
        return acked;
    }

    // ------------------------------------------------------------------ on the loop

    private List<DesktopStatus> diff(List<Desktop> now) {
        List<DesktopStatus> changed = new ArrayList<>();
        for (Desktop d : now) {
            // The lifecycle hands the same message again while a desktop is unchanged: skip it without building its status.
            if (seen.put(d.getDesktopId(), d) == d) continue;
            DesktopStatus s = DesktopStatus.newBuilder().setDesktopId(d.getDesktopId()).setState(d.getState())
                    .setTenant(settings.tenant()).setPool(settings.pool()).setUser(d.getUser()).setVersion(d.getVersion())
                    .setSessionId(d.getSessionId()).setPort(d.getPort()).build();
            if (!s.equals(current.put(d.getDesktopId(), s))) changed.add(s);
        }
        return changed;
    }

    /** Reads the registry, follows the choice, sends heartbeats, fails streams that stopped acking. */
    private void heartbeat() {
        long now = System.nanoTime();
        List<ConcentratorChoice.Concentrator> rows = new ArrayList<>();
        try {
            List<Row> live = registry.liveConcentrators();
            targets.clear();
            for (Row r : live) {
                rows.add(new ConcentratorChoice.Concentrator(r.id(), r.set(), r.load(), now));
                targets.putIfAbsent(r.id(), r.target());
            }
            perform(choice.onRegistry(rows, now));
        } catch (RuntimeException e) {
            log.warn("registry", "agent {}: cannot read the concentrators from the registry: {}", settings.agentId(), e);
        }
        for (Link l : List.copyOf(links.values())) {
            if (now - l.lastAckNs > settings.heartbeatTimeout().toNanos()) {
                log.warn("no-ack", "agent {}: concentrator {} of set {} acked nothing for {}: choosing again",
                        settings.agentId(), l.concentratorId, l.set, settings.heartbeatTimeout());
                failed(l, now);
            } else {
                l.sendDelta(l.pending.take()); // whatever waits goes before the heartbeat, answer due or not
                l.send(AgentReport.getDefaultInstance());
            }
        }
    }

    private void failed(Link l, long now) {
        if (links.get(l.set) != l) return;
        perform(choice.onStreamFailed(l.concentratorId, now));
    }

    private void perform(List<Action> actions) {
        for (Action a : actions) {
            switch (a) {
                case Disconnect(String set, String id) -> {
                    Link l = links.remove(set);
                    if (l != null) l.close();
                }
                case Connect(String set, String id) -> {
                    Link old = links.remove(set);
                    if (old != null) old.close();
                    String target = targets.get(id);
                    if (target == null) continue;
                    try {
                        links.put(set, new Link(set, id, target));
                    } catch (IllegalArgumentException e) {
                        log.warn("bad-target", "agent {}: concentrator {} has a bad target: {}", settings.agentId(), id,
                                e.getMessage());
                    }
                }
            }
        }
        publishAcked();
    }

    private void publishAcked() {
        Map<String, String> out = new HashMap<>();
        for (Link l : links.values()) if (l.acked) out.put(l.set, l.concentratorId);
        acked = Map.copyOf(out);
    }

    private void post(Runnable task) {
        try {
            loop.execute(() -> safely(task));
        } catch (RejectedExecutionException e) {
            // Closed.
        }
    }

    private void safely(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            LOG.error("agent {}: concentrator links failed", settings.agentId(), e);
        }
    }

    /** One report stream; loop-owned except for the callbacks, which post to the loop. */
    private final class Link {
        final String set;
        final String concentratorId;
        final ManagedChannel channel;
        private final String target;
        /** Guarded by this Link (sent by the loop and, for answers, by the calls' threads). */
        final ClientCallStreamObserver<AgentReport> requests;
        long lastAckNs = System.nanoTime();
        boolean acked;
        volatile boolean ended;
        /** Loop-owned: the changes this stream has not been sent yet. */
        final PendingDeltas pending = new PendingDeltas();
        /** Calls that said report_in_answer and are not answered yet: their answers take the waiting delta. */
        final java.util.concurrent.atomic.AtomicInteger answersDue = new java.util.concurrent.atomic.AtomicInteger();
        /** Guarded by this Link. */
        private boolean channelClosed;

        Link(String set, String concentratorId, String target) {
            this.set = set;
            this.concentratorId = concentratorId;
            this.target = target;
            // The callbacks post to the loop or hand calls to the executor: a direct channel, of its own or shared.
            this.channel = shared.isPresent() ? shared.get().acquire(target) : ControlChannels.openDirect(target, auth);
            ClientCallStreamObserver<AgentReport>[] call = new ClientCallStreamObserver[1];
            ConcentratorGrpc.newStub(channel).report(new ClientResponseObserver<AgentReport, ReportAck>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<AgentReport> requestStream) {
                    call[0] = requestStream;
                }

                @Override
                public void onNext(ReportAck ack) {
                    if (ack.hasCall()) {
                        call(ack.getCall());
                        return;
                    }
                    post(() -> {
                        lastAckNs = System.nanoTime();
                        if (!acked && links.get(set) == Link.this) {
                            acked = true;
                            LOG.info("agent {} reports to concentrator {} of set {}", settings.agentId(), concentratorId, set);
                            publishAcked();
                        }
                    });
                }

                @Override
                public void onError(Throwable t) {
                    post(() -> {
                        if (ended) return;
                        Status s = Status.fromThrowable(t);
                        String why = s.getDescription() == null ? "" : s.getDescription();
                        if (concentratorGone(s.getCode())) {
                            STREAMS_LOST.incrementAndGet();
                            GONE.warn("concentrator-gone", "agent {}: stream to concentrator {} of set {} ended: {} {}; choosing again"
                                    + " (other streams of this process that end so are counted, one line per 10 s)",
                                    settings.agentId(), concentratorId, set, s.getCode(), why);
                        } else {
                            log.warn("stream-failed", "agent {}: stream to concentrator {} of set {} failed: {} {}",
                                    settings.agentId(), concentratorId, set, s.getCode(), why);
                        }
                        ended = true;
                        failed(Link.this, System.nanoTime());
                        closeChannel(true);
                    });
                }

                @Override
                public void onCompleted() {
                    onError(Status.UNAVAILABLE.withDescription("the concentrator ended the stream").asRuntimeException());
                }
            });
            this.requests = call[0];
            send(AgentReport.newBuilder()
                    .setHello(AgentHello.newBuilder().setAgentId(settings.agentId()).setAgentTarget(settings.agentTarget())
                            .addAllLabels(settings.labels()).setDesktopHost(settings.desktopHost()).setWidth(settings.width())
                            .setHeight(settings.height()).setStreamCalls(sessionCalls.isPresent()))
                    .setFull(true).addAllDesktops(current.values()).build());
        }

        /** A session call from the concentrator (on the transport's thread): answered up this stream. */
        private void call(AgentCall call) {
            long id = call.getCallId();
            if (sessionCalls.isEmpty() || id == 0 || !call.hasInitiate()) {
                log.warn("bad-call", "agent {}: refused a call from concentrator {}: {}", settings.agentId(), concentratorId,
                        sessionCalls.isEmpty() ? "this agent takes no calls on its report streams" : id == 0 ? "no call_id" : "no call");
                if (id != 0) answer(id, Status.INVALID_ARGUMENT.withDescription("malformed call"));
                return;
            }
            // Counted before the call runs, so a drain on the loop meanwhile leaves this stream's delta to the answer.
            boolean withReport = call.getReportInAnswer();
            if (withReport) answersDue.incrementAndGet();
            StreamObserver<InitiateSessionReply> reply = new StreamObserver<>() {
                @Override
                public void onNext(InitiateSessionReply value) {
                    answer(AgentAnswer.newBuilder().setCallId(id).setInitiated(value), withReport);
                }

                @Override
                public void onError(Throwable t) {
                    answer(id, Status.fromThrowable(t), withReport);
                }

                @Override
                public void onCompleted() {}
            };
            try {
                callExecutor.execute(() -> {
                    try {
                        sessionCalls.get().initiateSession(call.getInitiate(), reply);
                    } catch (RuntimeException e) {
                        LOG.error("agent {}: a session call failed", settings.agentId(), e);
                        answer(id, Status.INTERNAL.withDescription("agent error"), withReport);
                    }
                });
            } catch (RejectedExecutionException closing) {
                answer(id, Status.UNAVAILABLE.withDescription("the agent is closing"), withReport);
            }
        }

        private void answer(long id, Status s) {
            answer(id, s, false);
        }

        private void answer(long id, Status s, boolean withReport) {
            answer(AgentAnswer.newBuilder().setCallId(id).setError(CallError.newBuilder()
                    .setCode(s.getCode().value()).setDescription(Objects.requireNonNullElse(s.getDescription(), ""))), withReport);
        }

        /**
         * Sends an answer up this stream. With {@code withReport} (the call said report_in_answer) it goes through the
         * loop, after the changes the call made (published before it answered), and carries the stream's waiting delta;
         * otherwise at once, from the answering thread.
         */
        private void answer(AgentAnswer.Builder a, boolean withReport) {
            if (!withReport) {
                send(AgentReport.newBuilder().setAnswer(a).build());
                return;
            }
            Runnable task = () -> {
                answersDue.decrementAndGet();
                List<DesktopStatus> delta = pending.take();
                if (!delta.isEmpty()) DELTAS_WITH_ANSWERS.incrementAndGet();
                send(AgentReport.newBuilder().setAnswer(a).addAllDesktops(delta).build());
            };
            try {
                loop.execute(() -> safely(task));
            } catch (RejectedExecutionException closing) {
                send(AgentReport.newBuilder().setAnswer(a).build());
            }
        }

        /** On the loop: a delta of its own (nothing when {@code desktops} is empty). */
        void sendDelta(List<DesktopStatus> desktops) {
            if (desktops.isEmpty()) return;
            DELTAS.incrementAndGet();
            DELTA_DESKTOPS.addAndGet(desktops.size());
            send(AgentReport.newBuilder().setFull(false).addAllDesktops(desktops).build());
        }

        /** Once, when the stream is over: a channel of its own is shut down ({@code now}: at once), a shared one released. */
        private synchronized void closeChannel(boolean now) {
            if (channelClosed) return;
            channelClosed = true;
            if (shared.isPresent()) {
                shared.get().release(target, channel);
            } else if (now) {
                ControlChannels.close(channel, Duration.ZERO);
            } else {
                channel.shutdown();
            }
        }

        /** Any thread. */
        synchronized void send(AgentReport report) {
            if (ended) return;
            try {
                requests.onNext(report);
            } catch (RuntimeException e) {
                // The call is closing; its onError follows.
            }
        }

        synchronized void close() {
            if (ended) return;
            ended = true;
            try {
                requests.onCompleted();
            } catch (RuntimeException e) {
                // Already closed.
            }
            closeChannel(false);
        }
    }

    /** Ends every stream (the concentrators forget this agent at once). Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            loop.submit(() -> {
                for (Link l : links.values()) l.close();
                links.clear();
                acked = Map.of();
            }).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("agent {}: closing the concentrator links: {}", settings.agentId(), e.toString());
        }
        loop.shutdownNow();
    }
}
