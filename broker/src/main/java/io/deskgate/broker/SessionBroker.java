package io.deskgate.broker;

import io.deskgate.broker.Placement.Action;
import io.deskgate.broker.Placement.Broadcast;
import io.deskgate.broker.Placement.Done;
import io.deskgate.broker.Placement.Failed;
import io.deskgate.broker.Placement.Initiate;
import io.deskgate.broker.Placement.InitiateResult;
import io.deskgate.broker.PlacementChoice.AssignmentPolicy;
import io.deskgate.common.RateLimitedLog;
import io.deskgate.control.ConcentratorGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.ControlChannels;
import io.deskgate.control.EndSessionRequest;
import io.deskgate.control.FindAvailableRequest;
import io.deskgate.control.FindDesktopReply;
import io.deskgate.control.FindDesktopRequest;
import io.deskgate.control.ListDesktopsRequest;
import io.deskgate.control.ListDesktopsReply;
import io.deskgate.control.InitiateSessionReply;
import io.deskgate.control.InitiateSessionRequest;
import io.deskgate.control.SessionStartedRequest;
import io.deskgate.control.ReleaseUserReply;
import io.deskgate.control.ReleaseUserRequest;
import io.deskgate.store.Names;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sharded brokering over gRPC (seed 001, issue 8 items 5 and 6): runs one {@link Placement} per session
 * request against the agent concentrators the registry lists. Chooses a set ({@link SetRotation}, one per
 * broker), sends {@code FindAvailable} to each of its healthy concentrators in parallel, each call under the
 * set's answer deadline, merges what arrived in time, and asks the owning concentrator to initiate the
 * chosen desktop with the version it was offered at; a lost compare-and-set ({@code ABORTED}) or a refusal
 * moves to the next offer, then to the next set, until the request's deadline. The end is a
 * {@link FindDesktopReply}, one of the direct broker's refusals (the per-user limit ALREADY_EXISTS, a named
 * desktop NOT_FOUND or PERMISSION_DENIED), or one {@code RESOURCE_EXHAUSTED} whose description is
 * {@code <REASON>: <what each set did>} (NO_DESKTOP, NO_CONCENTRATOR, DEADLINE), which the frontdoor
 * answers with 503. Broadcasts are coalesced ({@link CoalescedFinds}) but for a request naming a desktop,
 * which asks alone. One user's requests go in turn ({@link UserTurns}); a request's deadline runs from its arrival. A concentrator whose call failed or timed out is marked failing for
 * {@link Settings#failingHold} (its set is then skipped while another is healthy).
 *
 * <p>Stateless between requests but for the rotation, the failing marks, the users' turns and which concentrator last
 * placed a desktop (a hint for SessionStarted and EndSession, which otherwise ask every concentrator).
 * Threads: no thread waits for a request; its Placement is fed one event at a time by the gRPC callbacks
 * and a timer (see {@code Run}), and it ends by the request's deadline. Thread-safe; the
 * caller owns it and must {@link #close()} it.
 */
public final class SessionBroker implements BrokerCalls, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SessionBroker.class);

    /** The concentrators alive now, as the registry lists them. */
    public interface Registry {
        List<Row> liveConcentrators();
    }

    /** A concentrator's registry row: id, set and gRPC target {@code host:port}. */
    public record Row(String id, String set, String target) {
        public Row {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(set, "set");
            Objects.requireNonNull(target, "target");
        }
    }

    /**
     * @param requestTimeout a request's deadline (default 5 s)
     * @param answerTimeout  how long a set's FindAvailable answers are waited for (default 1 s: answers on a loaded 2-core host
     *                       were seen to take over 200 ms), never past
     *                       the request's deadline; answers after it are ignored
     * @param findLimit      the {@code limit} of each FindAvailable (default 16)
     * @param failingHold    how long a concentrator whose call failed is treated as failing (default 5 s)
     * @param maxDesktopsPerUser how many desktops one user may hold at once, in every pool (default
     *                       {@link BrokerConfig#DEFAULT_MAX_DESKTOPS_PER_USER}; the broker config's)
     * @param broadcastLinger how long a coalesced FindAvailable batch whose slot is free may wait for more
     *                       requests before it is sent (zero, the default: sent at once; {@link BroadcastCoalescer})
     * @param broadcastBatch the batch size that ends the linger early
     */
    public record Settings(Duration requestTimeout, Duration answerTimeout, int findLimit, Duration failingHold,
                           int maxDesktopsPerUser, Duration broadcastLinger, int broadcastBatch) {
        public static final Settings DEFAULT = new Settings(Duration.ofSeconds(5), Duration.ofSeconds(1), 16,
                Duration.ofSeconds(5), BrokerConfig.DEFAULT_MAX_DESKTOPS_PER_USER);

        public Settings {
            for (Duration d : List.of(requestTimeout, answerTimeout, failingHold)) {
                if (d.isNegative() || d.isZero()) throw new IllegalArgumentException("timeouts must be positive: " + d);
            }
            if (findLimit < 1) throw new IllegalArgumentException("find-limit must be positive: " + findLimit);
            if (maxDesktopsPerUser < 1 || maxDesktopsPerUser > BrokerConfig.MAX_DESKTOPS_PER_USER_LIMIT) {
                throw new IllegalArgumentException("max-desktops-per-user must be 1 to " + BrokerConfig.MAX_DESKTOPS_PER_USER_LIMIT
                        + ": " + maxDesktopsPerUser);
            }
            Objects.requireNonNull(broadcastLinger, "broadcastLinger");
            if (broadcastLinger.isNegative() || broadcastLinger.compareTo(answerTimeout) >= 0) {
                throw new IllegalArgumentException("broadcast linger must be 0 or more and below the answer timeout: " + broadcastLinger);
            }
            if (broadcastBatch < 1) throw new IllegalArgumentException("broadcast batch must be positive: " + broadcastBatch);
        }

        /** Without a linger. */
        public Settings(Duration requestTimeout, Duration answerTimeout, int findLimit, Duration failingHold, int maxDesktopsPerUser) {
            this(requestTimeout, answerTimeout, findLimit, failingHold, maxDesktopsPerUser, Duration.ZERO, 1);
        }

        public Settings(Duration requestTimeout, Duration answerTimeout, int findLimit, Duration failingHold) {
            this(requestTimeout, answerTimeout, findLimit, failingHold, BrokerConfig.DEFAULT_MAX_DESKTOPS_PER_USER);
        }

        public Settings withMaxDesktopsPerUser(int max) {
            return new Settings(requestTimeout, answerTimeout, findLimit, failingHold, max, broadcastLinger, broadcastBatch);
        }

        /** With a linger of {@code linger} for coalesced broadcasts, ended early at {@code batch} requests. */
        public Settings withBroadcastLinger(Duration linger, int batch) {
            return new Settings(requestTimeout, answerTimeout, findLimit, failingHold, maxDesktopsPerUser, linger, batch);
        }
    }

    private final Settings settings;
    private final Registry registry;
    private final ControlAuth auth;
    /** The broker's FindAvailable broadcasts, coalesced (at most one in flight per set and broker). */
    private final CoalescedFinds finds;
    private final SetRotation rotation;
    /** Request id to its events, while its FindDesktop runs: where the coalesced answers are delivered. */
    private final Map<Long, Run> requests = new ConcurrentHashMap<>();
    /** One user's requests in turn: the per-user limit counts what they hold. */
    private final UserTurns<Run> turns = new UserTurns<>();
    private final SetListing listing;
    /** Fires the requests' deadlines (answer deadlines, request deadlines) into their Runs. */
    private final java.util.concurrent.ScheduledThreadPoolExecutor timers = timerThread();
    private final java.util.concurrent.atomic.AtomicLong requestIds = new java.util.concurrent.atomic.AtomicLong();
    private final RateLimitedLog log = new RateLimitedLog(LOG);
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    /** FindAvailable and InitiateSession, over one calls stream per concentrator. */
    private final ConcentratorCalls calls = new ConcentratorCalls(this::channel, timers, log);
    private final Map<String, Long> failingUntilNs = new ConcurrentHashMap<>();
    /** SessionStarted, EndSession and ReleaseUser, and where each desktop was placed. */
    private final SessionRoutes routes;
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean closed;
    private Server server;

    private final BrokerMetrics metrics;

    public SessionBroker(Settings settings, Registry registry, byte[] controlSecret) {
        this(settings, registry, new ControlAuth(controlSecret), BrokerMetrics.unread());
    }

    /** As above, behind {@code auth}: mutual TLS ({@link ControlAuth#mutualTls}) when its peers are on other hosts. */
    public SessionBroker(Settings settings, Registry registry, ControlAuth auth) {
        this(settings, registry, auth, BrokerMetrics.unread());
    }

    /** The same, counting its placements into {@code metrics}. */
    public SessionBroker(Settings settings, Registry registry, byte[] controlSecret, BrokerMetrics metrics) {
        this(settings, registry, new ControlAuth(controlSecret), metrics);
    }

    /** Behind {@code auth}, counting its placements into {@code metrics}. */
    public SessionBroker(Settings settings, Registry registry, ControlAuth auth, BrokerMetrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.auth = Objects.requireNonNull(auth, "auth");
        this.finds = new CoalescedFinds(new BroadcastCoalescer(settings.findLimit(),
                Math.max(settings.findLimit(), COALESCED_LIMIT), MAX_BROADCASTS_IN_FLIGHT, settings.answerTimeout().toNanos(),
                settings.broadcastLinger().toNanos(), settings.broadcastBatch()),
                calls, timers, this::targetOf, this::markFailing, new CoalescedFinds.Requests() {
                    @Override
                    public void answered(long requestId, String concentratorId, List<Offer> offers, int held) {
                        Run r = requests.get(requestId);
                        if (r != null) r.offer(new Answered(concentratorId, offers, held));
                    }

                    @Override
                    public void failed(long requestId, String concentratorId) {
                        Run r = requests.get(requestId);
                        if (r != null) r.offer(new AnswerFailed(concentratorId));
                    }
                });
        this.rotation = new SetRotation(finds::forming);
        this.listing = new SetListing(settings.requestTimeout(), this::sets, this::channel, this::markFailing);
        this.routes = new SessionRoutes(settings.requestTimeout(), this::sets, this::channel, this::markFailing);
    }

    /** The largest limit of a coalesced FindAvailable: the concentrators' default cap. */
    static final int COALESCED_LIMIT = 64;
    /**
     * Broadcasts in flight at once per broker, over all sets (and at most one per set): one makes the largest
     * batches (docs/benchmarks.md, "broker": 2.0 requests per broadcast, against 1.3 with one per set).
     */
    static final int MAX_BROADCASTS_IN_FLIGHT = 1;

    /** FindAvailable broadcasts sent, and the requests' broadcasts they carried, since the start. */
    public long[] broadcasts() {
        return finds.counts();
    }

    /**
     * Serves the gRPC {@code Broker} service over this broker on {@code bindHost:grpcPort} (0: any), behind
     * the control credential: the frontdoor's FindDesktop, SessionStarted and EndSession. Returns the port.
     */
    public synchronized int serve(String bindHost, int grpcPort) throws IOException {
        if (server != null) throw new IllegalStateException("already serving");
        server = NettyServerBuilder.forAddress(new InetSocketAddress(bindHost, grpcPort), auth.serverCredentials())
                .addService(new BrokerService(this)).intercept(auth.serverInterceptor())
                .executor(Executors.newVirtualThreadPerTaskExecutor())
                // FindDesktop never blocks (its Placement is fed by callbacks): run it on the event loop, with no
                // hand-off to a thread per call; the other calls wait for concentrators and keep their virtual thread.
                .callExecutor(new io.grpc.ServerCallExecutorSupplier() {
                    @Override
                    public <Q, A> java.util.concurrent.Executor getExecutor(io.grpc.ServerCall<Q, A> call, io.grpc.Metadata headers) {
                        return call.getMethodDescriptor().equals(io.deskgate.control.BrokerGrpc.getFindDesktopMethod())
                                ? com.google.common.util.concurrent.MoreExecutors.directExecutor() : null;
                    }
                })
                .build().start();
        LOG.info("sharded broker serving gRPC on {}:{}", bindHost, server.getPort());
        return server.getPort();
    }

    /**
     * Opens a channel to every concentrator the registry lists now and makes one cheap call on each (a
     * FindAvailable of limit 1, waiting for the connection), at most {@code timeout} in all; returns how many
     * answered. A broker that takes requests cold makes its connections inside its first requests' answer
     * deadlines, misses them and marks every concentrator failing for {@link Settings#failingHold}; a caller
     * that can wait (a role starting, a benchmark) connects first. Called by any thread; never needed for
     * correctness.
     */
    public int connect(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        FindAvailableRequest probe = FindAvailableRequest.newBuilder().setTenant(1).setPool("default").setLimit(1).build();
        int answered = 0;
        for (Row r : registry.liveConcentrators()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) break;
            try {
                ConcentratorGrpc.newBlockingStub(channel(r.target())).withWaitForReady()
                        .withDeadlineAfter(left, TimeUnit.NANOSECONDS).findAvailable(probe);
                answered++;
            } catch (IllegalArgumentException e) {
                log.warn("bad-target", "concentrator {} has a bad target: {}", r.id(), e.getMessage());
            } catch (StatusRuntimeException e) {
                log.warn("connect", "concentrator {} did not answer the broker's first call: {}", r.id(), e.getStatus().getCode());
            }
        }
        return answered;
    }

    // ------------------------------------------------------------------ a request

    private sealed interface Event permits Begin, Tick, Closing, Answered, AnswerFailed, Initiated {}

    private record Begin() implements Event {}

    /** The broker closes: the request ends at once. */
    private record Closing() implements Event {}

    /** The Placement's next deadline came. */
    private record Tick() implements Event {}

    private record Answered(String concentratorId, List<Offer> offers, int held) implements Event {}

    private record AnswerFailed(String concentratorId) implements Event {}

    private record Initiated(Offer offer, InitiateResult result, Optional<InitiateSessionReply> reply, String why)
            implements Event {}

    /**
     * Places the session on a desktop and returns what the agent answered: {@link #findDesktop(FindDesktopRequest,
     * StreamObserver)}, waited for on the caller's thread.
     *
     * @throws StatusRuntimeException as {@link #findDesktop(FindDesktopRequest, StreamObserver)} answers
     */
    @Override
    public FindDesktopReply findDesktop(FindDesktopRequest request) {
        java.util.concurrent.CompletableFuture<FindDesktopReply> answer = new java.util.concurrent.CompletableFuture<>();
        findDesktop(request, new Unary<>(answer::complete, st -> answer.completeExceptionally(st.asRuntimeException())));
        try {
            // The Placement ends by its deadline (from now, waiting for the user's turn included), or at close();
            // the bound only guards against a bug there.
            return answer.get(settings.requestTimeout().toNanos() * 2, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof StatusRuntimeException sre) throw sre;
            throw new IllegalStateException("placement failed", e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw Status.DEADLINE_EXCEEDED.withDescription("the placement did not end by twice its deadline").asRuntimeException();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        }
    }

    /**
     * Places the session on a desktop and answers {@code reply} (once, later, from a gRPC or timer thread):
     * what the agent answered, or INVALID_ARGUMENT for a request without session, user, tenant or pool, or with a
     * scope naming an invalid name; RESOURCE_EXHAUSTED naming the reason when no desktop was found in time; the
     * direct broker's codes for the per-user limit (ALREADY_EXISTS) and a named desktop (NOT_FOUND,
     * PERMISSION_DENIED). No thread waits meanwhile: the request's {@link Placement} is fed by the calls'
     * callbacks and a timer; it starts when the user's previous request through this broker has ended.
     */
    @Override
    public void findDesktop(FindDesktopRequest request, StreamObserver<FindDesktopReply> reply) {
        if (request.getSessionId().isEmpty() || request.getUser().isEmpty() || request.getTenant() < 1
                || request.getPool().isEmpty()) {
            reply.onError(Status.INVALID_ARGUMENT.withDescription("session_id, user, tenant and pool are required").asRuntimeException());
            metrics.placement("invalid", 0);
            return;
        }
        String badScope = request.hasScope() ? invalidScope(request.getScope()) : "";
        if (!badScope.isEmpty() || request.getDesktopId().length() > 128) {
            String why = badScope.isEmpty() ? "desktop_id must be at most 128 characters" : badScope;
            log.warn("bad-request", "refused FindDesktop of session {}: {}", request.getSessionId(), why);
            reply.onError(Status.INVALID_ARGUMENT.withDescription(why).asRuntimeException());
            metrics.placement("invalid", 0);
            return;
        }
        if (closed) {
            reply.onError(Status.UNAVAILABLE.withDescription("the broker is closing").asRuntimeException());
            return;
        }
        inFlight.incrementAndGet();
        Run run = new Run(request, request.hasScope() && request.getScope().getPersistent()
                ? AssignmentPolicy.PERSISTENT : AssignmentPolicy.FLOATING, reply);
        if (turns.enter(request.getTenant(), request.getUser(), run)) run.begin();
    }

    /** Why {@code scope} is refused (a name that is not a store {@link Names} name), or empty. */
    static String invalidScope(io.deskgate.control.PoolScope scope) {
        if (scope.getAgentsCount() + scope.getLabelsCount() > 1024) return "a pool scope names at most 1024 agents and labels";
        for (String a : scope.getAgentsList()) if (!Names.valid(a)) return "a pool scope's agent id is not a valid name";
        for (String l : scope.getLabelsList()) if (!Names.valid(l)) return "a pool scope's label is not a valid name";
        return "";
    }

    /**
     * A Failed reason as the direct broker's status: the per-user limit ALREADY_EXISTS, a named desktop not in the
     * pool NOT_FOUND, held by another PERMISSION_DENIED (each with the message only, the direct broker's words); no
     * desktop RESOURCE_EXHAUSTED with {@code <REASON>: <what each set did>}.
     */
    static Status failure(Placement.Reason reason, String message) {
        return switch (reason) {
            case LIMIT -> Status.ALREADY_EXISTS.withDescription(message);
            case NOT_FOUND -> Status.NOT_FOUND.withDescription(message);
            case HELD_BY_ANOTHER -> Status.PERMISSION_DENIED.withDescription(message);
            case NO_DESKTOP, NO_CONCENTRATOR, DEADLINE -> Status.RESOURCE_EXHAUSTED.withDescription(reason + ": " + message);
        };
    }

    /** FindDesktop calls being served now: the broker's load, as it registers it. */
    public int inFlight() {
        return inFlight.get();
    }

    /** What one concentrator set holds for the asker ({@link SetListing}): each entry whole, as the direct broker lists it. */
    @Override
    public ListDesktopsReply listDesktops(ListDesktopsRequest request) {
        return listing.list(request);
    }

    /**
     * One request's {@link Placement}, fed by events from any thread: each event is queued, and whichever
     * thread finds no one draining the queue drains it (the Placement is only ever fed by one thread at a
     * time, and no lock is held while the actions are performed, so deliveries between requests never
     * deadlock). A timer event comes at the Placement's next deadline. It begins when it holds its user's turn
     * and hands the turn on when it ends.
     */
    private final class Run {
        final FindDesktopRequest request;
        /** The pool assigns persistently: an initiated desktop is dedicated to the user. */
        final boolean dedicate;
        final Placement placement;
        final long requestId = requestIds.incrementAndGet();
        final long deadline;
        final long startNs;
        /** The outcome the metrics count when it ends ({@code placed}, a Placement reason, {@code closing}, {@code error}). */
        String outcome = "error";
        final StreamObserver<FindDesktopReply> reply;
        final Map<String, String> targets = new HashMap<>();
        final java.util.concurrent.ConcurrentLinkedQueue<Event> queue = new java.util.concurrent.ConcurrentLinkedQueue<>();
        final java.util.concurrent.atomic.AtomicInteger pending = new java.util.concurrent.atomic.AtomicInteger();
        /** Drain-owned. */
        Optional<InitiateSessionReply> won = Optional.empty();
        boolean ended;
        java.util.concurrent.ScheduledFuture<?> timer;
        long timerAtNs;
        /** Set before {@link #begin}: it holds its user's turn (a Run drained at close never did). */
        volatile boolean holdsTurn;

        Run(FindDesktopRequest request, AssignmentPolicy policy, StreamObserver<FindDesktopReply> reply) {
            this.request = request;
            this.dedicate = policy == AssignmentPolicy.PERSISTENT;
            this.reply = reply;
            long start = System.nanoTime();
            this.startNs = start;
            this.deadline = start + settings.requestTimeout().toNanos();
            this.placement = new Placement(new Placement.Request(request.getSessionId(), request.getTenant(),
                    request.getPool(), request.getUser(), policy, request.getSessionId().hashCode(), request.getDesktopId(),
                    settings.maxDesktopsPerUser()), deadline, settings.answerTimeout().toNanos(), rotation, log);
        }

        /** It holds its user's turn: it starts. */
        void begin() {
            holdsTurn = true;
            requests.put(requestId, this);
            offer(closed ? new Closing() : new Begin());
        }

        /** From any thread. */
        void offer(Event e) {
            queue.add(e);
            if (pending.getAndIncrement() != 0) return; // another thread drains
            do {
                Event next = queue.poll();
                if (next != null) {
                    try {
                        handle(next);
                    } catch (RuntimeException ex) {
                        LOG.error("session {}: placement failed", request.getSessionId(), ex);
                        metrics.error("placement_failed");
                        outcome = "error";
                        finish(Optional.empty(), Status.INTERNAL.withDescription("broker error"));
                    }
                }
            } while (pending.decrementAndGet() != 0);
        }

        private void handle(Event e) {
            if (ended) return;
            long now = System.nanoTime();
            List<Action> actions = switch (e) {
                case Begin b -> placement.start(sets(now, targets), now);
                case Closing c -> {
                    outcome = "closing";
                    finish(Optional.empty(), Status.UNAVAILABLE.withDescription("the broker is closing"));
                    yield List.of();
                }
                case Tick t -> {
                    finds.tick(now, targets);
                    yield placement.tick(now);
                }
                case Answered(String id, List<Offer> offers, int held) -> placement.onAnswer(id, offers, held, now);
                case AnswerFailed(String id) -> placement.onAnswerFailed(id, now);
                case Initiated(Offer offer, InitiateResult result, Optional<InitiateSessionReply> r, String why) -> {
                    metrics.initiated(result);
                    if (result == InitiateResult.WON) won = r;
                    else LOG.debug("session {}: desktop {} {}: {}", request.getSessionId(), offer.desktopId(), result, why);
                    yield placement.onInitiated(offer.desktopId(), result, now);
                }
            };
            for (Action a : actions) {
                switch (a) {
                    case Broadcast b -> broadcast(b, request, this, targets);
                    case Initiate(Offer offer) -> initiate(offer, request, dedicate, targets, deadline, this);
                    case Done(Offer offer) -> {
                        routes.placed(offer.desktopId(), offer.concentratorId());
                        // A desktop only dedicated to the user (AVAILABLE) holds none of their work: not a reconnect.
                        boolean reconnect = offer.tenant() == request.getTenant() && offer.user().equals(request.getUser())
                                && offer.state() != io.deskgate.control.DesktopState.AVAILABLE;
                        InitiateSessionReply r = won.orElseThrow();
                        outcome = "placed";
                        finish(Optional.of(FindDesktopReply.newBuilder().setDesktop(r.getDesktop())
                                .setVncPassword(r.getVncPassword()).setReconnect(reconnect).build()), Status.OK);
                        return;
                    }
                    case Failed(Placement.Reason reason, String message) -> {
                        LOG.info("session {}: {}: {}", request.getSessionId(), reason, message);
                        outcome = reason.name();
                        finish(Optional.empty(), failure(reason, message));
                        return;
                    }
                }
            }
            if (ended) return;
            long next = placement.nextDeadlineNs();
            if (timer == null || timerAtNs != next) {
                if (timer != null) timer.cancel(false);
                timerAtNs = next;
                try {
                    timer = timers.schedule(() -> offer(new Tick()), Math.max(0, next - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.RejectedExecutionException closing) {
                    outcome = "closing";
                    finish(Optional.empty(), Status.UNAVAILABLE.withDescription("the broker is closing"));
                }
            }
        }

        private void finish(Optional<FindDesktopReply> answer, Status failure) {
            if (ended) return;
            ended = true;
            if (timer != null) timer.cancel(false);
            requests.remove(requestId);
            finds.withdraw(requestId);
            inFlight.decrementAndGet();
            metrics.placement(outcome, System.nanoTime() - startNs);
            if (answer.isPresent()) {
                reply.onNext(answer.get());
                reply.onCompleted();
            } else {
                reply.onError(failure.asRuntimeException());
            }
            if (holdsTurn) turns.leave(request.getTenant(), request.getUser()).ifPresent(Run::begin);
        }
    }

    /** The sets as they are now: the registry's rows, with the members marked failing. */
    private List<ConcentratorSet> sets(long now, Map<String, String> targets) {
        Map<String, List<String>> members = new TreeMap<>();
        Set<String> failing = new HashSet<>();
        List<Row> rows;
        try {
            rows = registry.liveConcentrators();
        } catch (RuntimeException e) {
            log.warn("registry", "cannot read the concentrators from the registry: {}", e);
            rows = List.of();
        }
        for (Row r : rows) {
            if (r.id().isBlank() || r.set().isBlank() || targets.putIfAbsent(r.id(), r.target()) != null) {
                log.warn("bad-row", "ignored a concentrator row with a blank id or set, or listed twice: {}", r.id());
                continue;
            }
            members.computeIfAbsent(r.set(), k -> new ArrayList<>()).add(r.id());
            Long until = failingUntilNs.get(r.id());
            if (until != null) {
                if (now - until < 0) failing.add(r.id());
                else failingUntilNs.remove(r.id(), until);
            }
        }
        List<ConcentratorSet> out = new ArrayList<>();
        for (var e : members.entrySet()) {
            Set<String> f = new HashSet<>(e.getValue());
            f.retainAll(failing);
            out.add(new ConcentratorSet(e.getKey(), e.getValue(), f));
        }
        return out;
    }

    /**
     * The request's broadcast joins the coalescer (sent now, or with the next batch of its set, tenant, pool and
     * scope); a request naming a desktop asks alone.
     */
    private void broadcast(Broadcast b, FindDesktopRequest request, Run run, Map<String, String> targets) {
        Optional<io.deskgate.control.PoolScope> scope = request.hasScope() ? Optional.of(request.getScope()) : Optional.empty();
        if (request.getDesktopId().isEmpty()) {
            finds.ask(new BroadcastCoalescer.Ask(run.requestId, b.setId(), b.concentrators(), request.getTenant(),
                    request.getPool(), scope, request.getUser(), b.answerDeadlineNs(), b.lastAnswerNs()), targets);
            return;
        }
        FindAvailableRequest.Builder ask = FindAvailableRequest.newBuilder().setTenant(request.getTenant()).setPool(request.getPool())
                .setUser(request.getUser()).setLimit(settings.findLimit()).setDesktopId(request.getDesktopId());
        scope.ifPresent(ask::setScope);
        FindAvailableRequest find = ask.build();
        for (String id : b.concentrators()) {
            calls.find(targets.get(id), find, b.lastAnswerNs(),
                    new Unary<>(r -> run.offer(new Answered(id, CoalescedFinds.offers(id, r), r.getHeld())), st -> {
                        markFailing(id, st);
                        run.offer(new AnswerFailed(id));
                    }));
        }
    }

    /** The registry's target for a concentrator a batch names that the sending request's view did not list. */
    private Optional<String> targetOf(String id) {
        for (Row r : registry.liveConcentrators()) if (r.id().equals(id)) return Optional.of(r.target());
        return Optional.empty();
    }

    private void initiate(Offer offer, FindDesktopRequest request, boolean dedicate, Map<String, String> targets, long deadline,
                          Run events) {
        InitiateSessionRequest call = InitiateSessionRequest.newBuilder().setDesktopId(offer.desktopId())
                .setSessionId(request.getSessionId()).setUser(request.getUser()).setTenant(request.getTenant())
                .setExpectedVersion(offer.version()).setDedicate(dedicate).build();
        calls.initiate(targets.get(offer.concentratorId()), call, deadline, new Unary<>(
                reply -> events.offer(new Initiated(offer, InitiateResult.WON, Optional.of(reply), "")),
                s -> events.offer(new Initiated(offer, switch (s.getCode()) {
                    case ABORTED -> InitiateResult.LOST_RACE;
                    case NOT_FOUND, FAILED_PRECONDITION, INVALID_ARGUMENT, ALREADY_EXISTS, PERMISSION_DENIED ->
                            InitiateResult.REFUSED;
                    default -> InitiateResult.UNREACHABLE;
                }, Optional.empty(), s.getCode() + " " + Objects.requireNonNullElse(s.getDescription(), "")))));
    }

    private void markFailing(String concentratorId, Status s) {
        Long before = failingUntilNs.put(concentratorId, System.nanoTime() + settings.failingHold().toNanos());
        if (before == null) {
            log.warn("failing", "concentrator {} failing ({}): its set is skipped for {} while another is healthy",
                    concentratorId, s.getCode(), settings.failingHold());
        }
    }

    private ManagedChannel channel(String target) {
        return channels.computeIfAbsent(target, t -> ControlChannels.openDirect(t, auth));
    }

    // ------------------------------------------------------------------ session calls ({@link SessionRoutes})

    @Override
    public void sessionStarted(SessionStartedRequest request) {
        routes.sessionStarted(request);
    }

    @Override
    public void endSession(EndSessionRequest request) {
        routes.endSession(request);
    }

    @Override
    public ReleaseUserReply releaseUser(ReleaseUserRequest request) {
        return routes.releaseUser(request);
    }

    private static java.util.concurrent.ScheduledThreadPoolExecutor timerThread() {
        java.util.concurrent.ScheduledThreadPoolExecutor t = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
            Thread th = new Thread(r, "session-broker-timer");
            th.setDaemon(true);
            return th;
        });
        t.setRemoveOnCancelPolicy(true);
        return t;
    }

    /** Stops serving and closes the channels. Idempotent. */
    @Override
    public void close() {
        closed = true;
        Server s;
        synchronized (this) {
            s = server;
        }
        if (s != null) {
            s.shutdownNow();
            try {
                s.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Run r : turns.drain()) r.offer(new Closing());
        for (Run r : List.copyOf(requests.values())) r.offer(new Closing());
        calls.close();
        for (ManagedChannel ch : channels.values()) ControlChannels.close(ch, Duration.ofSeconds(1));
        channels.clear();
        timers.shutdownNow();
    }

    /** A unary call's answer handed to two callbacks, on gRPC's thread. */
    private record Unary<T>(java.util.function.Consumer<T> onReply, java.util.function.Consumer<Status> onFailure)
            implements StreamObserver<T> {
        @Override
        public void onNext(T value) {
            onReply.accept(value);
        }

        @Override
        public void onError(Throwable t) {
            onFailure.accept(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {}
    }
}
