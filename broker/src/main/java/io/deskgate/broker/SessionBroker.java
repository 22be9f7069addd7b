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
import io.deskgate.control.DesktopStatus;
import io.deskgate.control.EndSessionRequest;
import io.deskgate.control.FindAvailableReply;
import io.deskgate.control.FindAvailableRequest;
import io.deskgate.control.FindDesktopReply;
import io.deskgate.control.FindDesktopRequest;
import io.deskgate.control.ListDesktopsRequest;
import io.deskgate.control.ListDesktopsReply;
import io.deskgate.control.InitiateSessionReply;
import io.deskgate.control.InitiateSessionRequest;
import io.deskgate.control.SessionStartedRequest;
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
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sharded brokering over gRPC (seed 001, issue 8 items 5 and 6): runs one {@link Placement} per session
 * request against the agent concentrators the registry lists. Chooses a set ({@link SetRotation}, one per
 * broker), sends {@code FindAvailable} to each of its healthy concentrators in parallel, each call under the
 * set's answer deadline, merges what arrived in time, and asks the owning concentrator to initiate the
 * chosen desktop with the version it was offered at; a lost compare-and-set ({@code ABORTED}) or a refusal
 * moves to the next offer, then to the next set, until the request's deadline. The end is a
 * {@link FindDesktopReply} or one {@code RESOURCE_EXHAUSTED} whose description is
 * {@code <REASON>: <what each set did>} (NO_DESKTOP, NO_CONCENTRATOR, DEADLINE), which the frontdoor
 * answers with 503. A concentrator whose call failed or timed out is marked failing for
 * {@link Settings#failingHold} (its set is then skipped while another is healthy).
 *
 * <p>Stateless between requests but for the rotation, the failing marks and which concentrator last
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
     * @param answerTimeout  how long a set's FindAvailable answers are waited for (default 200 ms), never past
     *                       the request's deadline; answers after it are ignored
     * @param findLimit      the {@code limit} of each FindAvailable (default 16)
     * @param failingHold    how long a concentrator whose call failed is treated as failing (default 5 s)
     */
    public record Settings(Duration requestTimeout, Duration answerTimeout, int findLimit, Duration failingHold) {
        public static final Settings DEFAULT = new Settings(Duration.ofSeconds(5), Duration.ofMillis(200), 16,
                Duration.ofSeconds(5));

        public Settings {
            for (Duration d : List.of(requestTimeout, answerTimeout, failingHold)) {
                if (d.isNegative() || d.isZero()) throw new IllegalArgumentException("timeouts must be positive: " + d);
            }
            if (findLimit < 1) throw new IllegalArgumentException("find-limit must be positive: " + findLimit);
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
    /** Fires the requests' deadlines (answer deadlines, request deadlines) into their Runs. */
    private final java.util.concurrent.ScheduledThreadPoolExecutor timers = timerThread();
    private final java.util.concurrent.atomic.AtomicLong requestIds = new java.util.concurrent.atomic.AtomicLong();
    private final RateLimitedLog log = new RateLimitedLog(LOG);
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final Map<String, Long> failingUntilNs = new ConcurrentHashMap<>();
    /** Desktop id to the concentrator that placed it last: where SessionStarted and EndSession go first. */
    private final Map<String, String> placedBy = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean closed;
    private Server server;

    public SessionBroker(Settings settings, Registry registry, byte[] controlSecret) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.auth = new ControlAuth(controlSecret);
        this.finds = new CoalescedFinds(new BroadcastCoalescer(settings.findLimit(),
                Math.max(settings.findLimit(), COALESCED_LIMIT), MAX_BROADCASTS_IN_FLIGHT, settings.answerTimeout().toNanos()),
                this::channel, this::targetOf, this::markFailing, new CoalescedFinds.Requests() {
                    @Override
                    public void answered(long requestId, String concentratorId, List<Offer> offers) {
                        Run r = requests.get(requestId);
                        if (r != null) r.offer(new Answered(concentratorId, offers));
                    }

                    @Override
                    public void failed(long requestId, String concentratorId) {
                        Run r = requests.get(requestId);
                        if (r != null) r.offer(new AnswerFailed(concentratorId));
                    }
                });
        this.rotation = new SetRotation(finds::forming);
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
        server = NettyServerBuilder.forAddress(new InetSocketAddress(bindHost, grpcPort))
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

    private record Answered(String concentratorId, List<Offer> offers) implements Event {}

    private record AnswerFailed(String concentratorId) implements Event {}

    private record Initiated(Offer offer, InitiateResult result, Optional<InitiateSessionReply> reply, String why)
            implements Event {}

    /**
     * Places the session on a desktop and returns what the agent answered: {@link #findDesktop(FindDesktopRequest,
     * StreamObserver)}, waited for on the caller's thread.
     *
     * @throws StatusRuntimeException INVALID_ARGUMENT for a request without session, user, tenant or pool;
     *                                RESOURCE_EXHAUSTED naming the reason when no desktop was found in time
     */
    @Override
    public FindDesktopReply findDesktop(FindDesktopRequest request) {
        java.util.concurrent.CompletableFuture<FindDesktopReply> answer = new java.util.concurrent.CompletableFuture<>();
        findDesktop(request, new Unary<>(answer::complete, st -> answer.completeExceptionally(st.asRuntimeException())));
        try {
            // The Placement ends by its deadline, or at close(); the bound only guards against a bug there.
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
     * what the agent answered, or INVALID_ARGUMENT for a request without session, user, tenant or pool,
     * RESOURCE_EXHAUSTED naming the reason when no desktop was found in time. No thread waits meanwhile:
     * the request's {@link Placement} is fed by the calls' callbacks and a timer.
     */
    @Override
    public void findDesktop(FindDesktopRequest request, StreamObserver<FindDesktopReply> reply) {
        if (request.getSessionId().isEmpty() || request.getUser().isEmpty() || request.getTenant() < 1
                || request.getPool().isEmpty()) {
            reply.onError(Status.INVALID_ARGUMENT.withDescription("session_id, user, tenant and pool are required").asRuntimeException());
            return;
        }
        if (closed) {
            reply.onError(Status.UNAVAILABLE.withDescription("the broker is closing").asRuntimeException());
            return;
        }
        inFlight.incrementAndGet();
        new Run(request, AssignmentPolicy.FLOATING, reply).begin();
    }

    /** FindDesktop calls being served now: the broker's load, as it registers it. */
    public int inFlight() {
        return inFlight.get();
    }

    /** {@link #listDesktops(int, String, String)} for the request's tenant, pool and user, marked {@code partial}. */
    @Override
    public ListDesktopsReply listDesktops(ListDesktopsRequest request) {
        return ListDesktopsReply.newBuilder().setPartial(true)
                .addAllDesktops(listDesktops(request.getTenant(), request.getPool(), request.getUser())).build();
    }

    /** The most desktops one listing holds. */
    static final int LIST_LIMIT = 64;

    /**
     * What one concentrator set holds for {@code user} of {@code tenant} in {@code pool}: their own desktops, then
     * free ones, at most {@link #LIST_LIMIT} (every set holds every desktop: one is enough). The first set (in name
     * order) with a member not marked failing is asked, each member in parallel under the request's deadline;
     * a set none of whose members answered is passed over for the next. Each desktop carries only its id, state,
     * tenant, user and version. Empty when no concentrator is registered or none answered.
     *
     * @throws StatusRuntimeException INVALID_ARGUMENT without a tenant or a pool
     */
    public List<io.deskgate.control.Desktop> listDesktops(int tenant, String pool, String user) {
        if (tenant < 1 || pool.isEmpty()) {
            throw Status.INVALID_ARGUMENT.withDescription("tenant and pool are required").asRuntimeException();
        }
        long start = System.nanoTime();
        long deadline = start + settings.requestTimeout().toNanos();
        Map<String, String> targets = new HashMap<>();
        List<ConcentratorSet> sets = new ArrayList<>(sets(start, targets));
        sets.sort(java.util.Comparator.comparing((ConcentratorSet c) -> c.failing().size() == c.members().size()));
        FindAvailableRequest find = FindAvailableRequest.newBuilder().setTenant(tenant).setPool(pool).setUser(user)
                .setLimit(LIST_LIMIT).build();
        for (ConcentratorSet set : sets) {
            List<com.google.common.util.concurrent.ListenableFuture<FindAvailableReply>> calls = new ArrayList<>();
            for (String id : set.members()) {
                long left = Math.max(1, deadline - System.nanoTime());
                calls.add(ConcentratorGrpc.newFutureStub(channel(targets.get(id))).withDeadlineAfter(left, TimeUnit.NANOSECONDS)
                        .findAvailable(find));
            }
            Map<String, io.deskgate.control.Desktop> merged = new java.util.LinkedHashMap<>();
            boolean answered = false;
            for (int i = 0; i < calls.size(); i++) {
                try {
                    FindAvailableReply r = calls.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    answered = true;
                    for (DesktopStatus d : r.getDesktopsList()) {
                        merged.putIfAbsent(d.getDesktopId(), io.deskgate.control.Desktop.newBuilder().setDesktopId(d.getDesktopId())
                                .setState(d.getState()).setTenant(d.getTenant()).setUser(d.getUser()).setVersion(d.getVersion())
                                .build());
                    }
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    calls.get(i).cancel(true);
                    markFailing(set.members().get(i), Status.fromThrowable(e.getCause() == null ? e : e.getCause()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
                }
            }
            if (answered) {
                List<io.deskgate.control.Desktop> out = new ArrayList<>(merged.values());
                out.sort(java.util.Comparator.comparing((io.deskgate.control.Desktop d) -> !(d.getTenant() == tenant
                        && d.getUser().equals(user) && !user.isEmpty())));
                return out.subList(0, Math.min(LIST_LIMIT, out.size()));
            }
        }
        return List.of();
    }

    /**
     * One request's {@link Placement}, fed by events from any thread: each event is queued, and whichever
     * thread finds no one draining the queue drains it (the Placement is only ever fed by one thread at a
     * time, and no lock is held while the actions are performed, so deliveries between requests never
     * deadlock). A timer event comes at the Placement's next deadline.
     */
    private final class Run {
        final FindDesktopRequest request;
        final Placement placement;
        final long requestId = requestIds.incrementAndGet();
        final long deadline;
        final StreamObserver<FindDesktopReply> reply;
        final Map<String, String> targets = new HashMap<>();
        final java.util.concurrent.ConcurrentLinkedQueue<Event> queue = new java.util.concurrent.ConcurrentLinkedQueue<>();
        final java.util.concurrent.atomic.AtomicInteger pending = new java.util.concurrent.atomic.AtomicInteger();
        /** Drain-owned. */
        Optional<InitiateSessionReply> won = Optional.empty();
        boolean ended;
        java.util.concurrent.ScheduledFuture<?> timer;
        long timerAtNs;

        Run(FindDesktopRequest request, AssignmentPolicy policy, StreamObserver<FindDesktopReply> reply) {
            this.request = request;
            this.reply = reply;
            long start = System.nanoTime();
            this.deadline = start + settings.requestTimeout().toNanos();
            this.placement = new Placement(new Placement.Request(request.getSessionId(), request.getTenant(),
                    request.getPool(), request.getUser(), policy, request.getSessionId().hashCode()), deadline,
                    settings.answerTimeout().toNanos(), rotation, log);
        }

        void begin() {
            requests.put(requestId, this);
            offer(new Begin());
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
                    finish(Optional.empty(), Status.UNAVAILABLE.withDescription("the broker is closing"));
                    yield List.of();
                }
                case Tick t -> {
                    finds.tick(now, targets);
                    yield placement.tick(now);
                }
                case Answered(String id, List<Offer> offers) -> placement.onAnswer(id, offers, now);
                case AnswerFailed(String id) -> placement.onAnswerFailed(id, now);
                case Initiated(Offer offer, InitiateResult result, Optional<InitiateSessionReply> r, String why) -> {
                    if (result == InitiateResult.WON) won = r;
                    else LOG.debug("session {}: desktop {} {}: {}", request.getSessionId(), offer.desktopId(), result, why);
                    yield placement.onInitiated(offer.desktopId(), result, now);
                }
            };
            for (Action a : actions) {
                switch (a) {
                    case Broadcast b -> broadcast(b, request, requestId, targets);
                    case Initiate(Offer offer) -> initiate(offer, request, targets, deadline, this);
                    case Done(Offer offer) -> {
                        placedBy.put(offer.desktopId(), offer.concentratorId());
                        boolean reconnect = offer.tenant() == request.getTenant() && offer.user().equals(request.getUser());
                        InitiateSessionReply r = won.orElseThrow();
                        finish(Optional.of(FindDesktopReply.newBuilder().setDesktop(r.getDesktop())
                                .setVncPassword(r.getVncPassword()).setReconnect(reconnect).build()), Status.OK);
                        return;
                    }
                    case Failed(Placement.Reason reason, String message) -> {
                        LOG.info("session {}: {}: {}", request.getSessionId(), reason, message);
                        finish(Optional.empty(), Status.RESOURCE_EXHAUSTED.withDescription(reason + ": " + message));
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
            if (answer.isPresent()) {
                reply.onNext(answer.get());
                reply.onCompleted();
            } else {
                reply.onError(failure.asRuntimeException());
            }
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

    /** The request's broadcast joins the coalescer: sent now, or with the next batch of its set. */
    private void broadcast(Broadcast b, FindDesktopRequest request, long requestId, Map<String, String> targets) {
        finds.ask(new BroadcastCoalescer.Ask(requestId, b.setId(), b.concentrators(), request.getTenant(),
                request.getPool(), request.getUser(), b.answerDeadlineNs()), targets);
    }

    /** The registry's target for a concentrator a batch names that the sending request's view did not list. */
    private Optional<String> targetOf(String id) {
        for (Row r : registry.liveConcentrators()) if (r.id().equals(id)) return Optional.of(r.target());
        return Optional.empty();
    }

    private void initiate(Offer offer, FindDesktopRequest request, Map<String, String> targets, long deadline, Run events) {
        InitiateSessionRequest call = InitiateSessionRequest.newBuilder().setDesktopId(offer.desktopId())
                .setSessionId(request.getSessionId()).setUser(request.getUser()).setTenant(request.getTenant())
                .setExpectedVersion(offer.version()).build();
        long left = Math.max(1, deadline - System.nanoTime());
        io.grpc.Context previous = io.grpc.Context.ROOT.attach(); // answered later, not within the caller's call
        try {
        ConcentratorGrpc.newStub(channel(targets.get(offer.concentratorId()))).withDeadlineAfter(left, TimeUnit.NANOSECONDS)
                .initiateSession(call, new Unary<>(
                        reply -> events.offer(new Initiated(offer, InitiateResult.WON, Optional.of(reply), "")),
                        s -> events.offer(new Initiated(offer, switch (s.getCode()) {
                            case ABORTED -> InitiateResult.LOST_RACE;
                            case NOT_FOUND, FAILED_PRECONDITION, INVALID_ARGUMENT, ALREADY_EXISTS, PERMISSION_DENIED ->
                                    InitiateResult.REFUSED;
                            default -> InitiateResult.UNREACHABLE;
                        }, Optional.empty(), s.getCode() + " " + Objects.requireNonNullElse(s.getDescription(), "")))));
        } finally {
            io.grpc.Context.ROOT.detach(previous);
        }
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

    // ------------------------------------------------------------------ session calls

    @Override
    public void sessionStarted(SessionStartedRequest request) {
        route(request.getDesktopId(), stub -> stub.sessionStarted(request));
    }

    @Override
    public void endSession(EndSessionRequest request) {
        route(request.getDesktopId(), stub -> stub.endSession(request));
        placedBy.remove(request.getDesktopId());
    }

    /**
     * Calls the concentrator that placed {@code desktopId}, or (when that one does not hold its agent any
     * more, or another broker placed it) each live concentrator in turn until one holds the agent.
     */
    private <T> T route(String desktopId, Function<ConcentratorGrpc.ConcentratorBlockingStub, T> call) {
        Map<String, String> targets = new HashMap<>();
        sets(System.nanoTime(), targets);
        List<String> order = new ArrayList<>();
        String hint = placedBy.get(desktopId);
        if (hint != null && targets.containsKey(hint)) order.add(hint);
        for (String id : targets.keySet()) if (!id.equals(hint)) order.add(id);
        long deadline = System.nanoTime() + settings.requestTimeout().toNanos();
        StatusRuntimeException last = Status.NOT_FOUND.withDescription("no concentrator holds the agent of desktop "
                + desktopId).asRuntimeException();
        for (String id : order) {
            long left = deadline - System.nanoTime();
            if (left <= 0) break;
            try {
                T reply = call.apply(ConcentratorGrpc.newBlockingStub(channel(targets.get(id)))
                        .withDeadlineAfter(left, TimeUnit.NANOSECONDS));
                placedBy.put(desktopId, id);
                return reply;
            } catch (StatusRuntimeException e) {
                boolean notHere = e.getStatus().getCode() == Status.Code.NOT_FOUND
                        && Objects.requireNonNullElse(e.getStatus().getDescription(), "").contains("does not report to");
                boolean unreachable = switch (e.getStatus().getCode()) {
                    case DEADLINE_EXCEEDED, CANCELLED, UNKNOWN, INTERNAL, UNIMPLEMENTED -> true;
                    case UNAVAILABLE -> !Objects.requireNonNullElse(e.getStatus().getDescription(), "").startsWith("agent ");
                    default -> false;
                };
                if (!notHere && !unreachable) throw e;
                if (unreachable) last = e;
            }
        }
        throw last;
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
        for (Run r : List.copyOf(requests.values())) r.offer(new Closing());
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
