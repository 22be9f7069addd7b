package io.deskgate.frontdoor;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.control.BrokerGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.ControlChannels;
import io.deskgate.control.Desktop;
import io.deskgate.control.EndSessionRequest;
import io.deskgate.control.EngineGrpc;
import io.deskgate.control.FindDesktopReply;
import io.deskgate.control.FindDesktopRequest;
import io.deskgate.control.LaunchReply;
import io.deskgate.control.LaunchRequest;
import io.deskgate.control.ListDesktopsRequest;
import io.deskgate.control.PoolScope;
import io.deskgate.control.ReleaseUserRequest;
import io.deskgate.control.StopRequest;
import io.deskgate.control.TallyRequest;
import io.deskgate.frontdoor.Frontdoor.EngineEndpoint;
import io.deskgate.frontdoor.Frontdoor.GatewayEndpoint;
import io.deskgate.store.AuditLog;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.Pool;
import io.deskgate.store.SessionRow;
import io.deskgate.store.SessionStore;
import io.deskgate.store.User;
import io.deskgate.stream.StreamIds;
import io.deskgate.stream.StreamKeys;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import com.google.protobuf.ByteString;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Orchestrates a session launch (seed 000): new unique socket, engine and gateway from the registry (drained
 * ones left out; the engine by least connections relative to capacity, its published tally plus this
 * frontdoor's launches in flight, {@link EngineSelector#order}; it must answer a {@code Tally} first), desktop
 * from the broker, transcoding instance on the engine (on the next engine when that one died since its last
 * tally update, within the request's deadline), then steps out of the data path. Further connections of
 * the same unique socket ({@link #connect}) go to the socket's own engine as more instances. Undoes what it reserved when a later step fails. Thread-safe; blocking (call from a request
 * thread). Never logs the VNC password or the stream key.
 */
final class SessionLauncher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SessionLauncher.class);
    static final Duration TALLY_DEADLINE = Duration.ofSeconds(2);
    /**
     * An engine that answered a Tally or a Launch this recently is taken without another Tally: one that died since
     * is found by the Launch itself, which then goes to the next engine (as for any engine that dies between tally
     * updates).
     */
    static final Duration ANSWER_FRESH = Duration.ofSeconds(1);
    static final Duration FIND_DESKTOP_DEADLINE = Duration.ofSeconds(20);
    static final Duration LAUNCH_DEADLINE = Duration.ofSeconds(30);
    static final Duration CONTROL_DEADLINE = Duration.ofSeconds(5);

    /** What the browser needs to attach to a launched session. */
    record Launched(UUID sessionId, Desktop desktop, GatewayEndpoint gateway, int width, int height) {}

    /**
     * A further connection of a unique socket (issue 9): a second transcoding instance on the socket's engine.
     *
     * @param instanceId the new instance's unique reference identifier
     */
    record Connected(UUID sessionId, String instanceId, String engineId, GatewayEndpoint gateway, int width, int height) {}

    /** How closing one connection of a unique socket ended. */
    record Closed(int stoppedInstances, int remainingInstances) {
        /** Whether that was the socket's last connection, so the socket is released. */
        boolean released() { return remainingInstances == 0; }
    }

    /** An open channel to one engine at one address. */
    private record EngineChannel(String target, ManagedChannel channel) {}

    /** Broker target -> its channel, opened on first use (brokers are stateless: any live one serves any call). */
    private final Map<String, ManagedChannel> brokerChannels = new ConcurrentHashMap<>();
    /** Launches being served now: the frontdoor's load, as it registers it. */
    private final java.util.concurrent.atomic.AtomicInteger launching = new java.util.concurrent.atomic.AtomicInteger();
    private final ControlAuth controlAuth;
    /** Engine id -> its channel, opened on first use and replaced when the engine's address changes. */
    private final Map<String, EngineChannel> engineChannels = new ConcurrentHashMap<>();
    private final LiveRoles roles;
    private final SessionStore sessions;
    private final AuditLog audit;
    private final StreamKeys streamKeys;
    private final Clock clock;
    /** This frontdoor's launches its engines' published tallies may not show yet; guarded by itself. */
    private final LaunchesInFlight inFlight = new LaunchesInFlight();
    /** Engine id -> {@link System#nanoTime} of its last answered Tally or Launch ({@link #ANSWER_FRESH}). */
    private final Map<String, Long> engineAnswered = new ConcurrentHashMap<>();
    /** The broker's SessionStarted notices, not waited for by a launch, in order before the session's EndSession. */
    private final SessionNotices notices = new SessionNotices();
    /** This frontdoor's registry id, recorded on each session it launches ({@code deskgate status}); "" for none. */
    private final String frontdoorId;

    /**
     * @param controlAuth the control credential every call to the broker and the engines carries
     * @param frontdoorId this frontdoor's registry id, recorded on each session it launches; "" for none
     */
    SessionLauncher(LiveRoles roles, ControlAuth controlAuth, SessionStore sessions, AuditLog audit,
                    StreamKeys streamKeys, Clock clock, String frontdoorId) {
        this.frontdoorId = java.util.Objects.requireNonNull(frontdoorId, "frontdoorId");
        this.controlAuth = controlAuth;
        this.roles = roles;
        this.sessions = sessions;
        this.audit = audit;
        this.streamKeys = streamKeys;
        this.clock = clock;
    }

    /**
     * The broker's desktops as {@code username} of {@code tenant} may see them, each whole (session id, host, port,
     * size, labels): every desktop (the direct broker), or that user's own and the free ones of {@code pools} (a
     * sharded broker: no broker holds every desktop). The caller filters by pool ({@link PoolAccess#holds}).
     */
    record Listing(List<Desktop> desktops) {}

    /** The broker's desktops for {@code username} ("": free ones only, on a sharded broker) in {@code pools}. */
    Listing listDesktops(int tenant, String username, List<Pool> pools) {
        PoolScope.Builder union = PoolScope.newBuilder();
        java.util.Set<String> agents = new java.util.TreeSet<>(), labels = new java.util.TreeSet<>();
        for (Pool p : pools) {
            agents.addAll(p.agents());
            labels.addAll(p.labels());
        }
        return list(ListDesktopsRequest.newBuilder().setTenant(tenant).setUser(username).setPool(Pool.DEFAULT_NAME)
                .setScope(union.addAllAgents(agents).addAllLabels(labels)).build());
    }

    /** Every desktop held by a user of {@code tenant} (and, from the direct broker, every other desktop). */
    Listing listHeld(int tenant) {
        return list(ListDesktopsRequest.newBuilder().setTenant(tenant).setPool(Pool.DEFAULT_NAME).setHeld(true).build());
    }

    private Listing list(ListDesktopsRequest request) {
        try {
            return new Listing(broker(CONTROL_DEADLINE).listDesktops(request).getDesktopsList());
        } catch (StatusRuntimeException e) {
            throw upstream("broker", e);
        }
    }

    /** Launches being served now. */
    int launching() {
        return launching.get();
    }

    /** Launches a session for {@code user} on a desktop of {@code pool} (the caller checked the entitlement), on {@code desktopId} when given. */
    Launched launch(User user, Pool pool, Optional<String> desktopId) {
        launching.incrementAndGet();
        try {
            return launchCounted(user, pool, desktopId);
        } finally {
            launching.decrementAndGet();
        }
    }

    private Launched launchCounted(User user, Pool pool, Optional<String> desktopId) {
        UUID sessionId = UUID.randomUUID();
        long deadlineMs = clock.millis() + LAUNCH_DEADLINE.toMillis();
        LiveRoles.Snapshot live = roles.view(); // the launch's one reading of the registry
        EngineTry engine = chooseEngine(live);
        GatewayEndpoint gateway;
        FindDesktopReply found;
        try {
            gateway = pickGateway(live);
            found = findDesktop(broker(live, FIND_DESKTOP_DEADLINE), sessionId, user, pool, desktopId);
        } catch (RuntimeException e) {
            engine.failed();
            throw e;
        }
        Desktop desktop = found.getDesktop();
        boolean launched = false;
        try {
            LaunchReply reply = launchOnSomeEngine(engine, LaunchRequest.newBuilder()
                    .setSessionId(sessionId.toString())
                    .setTenant(user.tenant())
                    .setDesktopHost(desktop.getHost())
                    .setDesktopPort(desktop.getPort())
                    .setVncPassword(found.getVncPassword())
                    .setGatewayUdpHost(gateway.udpHost())
                    .setGatewayUdpPort(gateway.udpPort())
                    .setStreamKey(ByteString.copyFrom(streamKeys.derive(user.tenant(), sessionId.toString())))
                    .build(), deadlineMs);
            launched = true;
            // Not waited for (issue 9, launch speed): this frontdoor sends the session's EndSession only after its answer.
            notices.started(brokerAsync(live, CONTROL_DEADLINE), desktop.getDesktopId(), sessionId);
            // The unique socket's row (with the frontdoor that launched it) and its audit row: one statement, one commit.
            sessions.createAudited(sessionId, user.tenant(), user.id(), desktop.getDesktopId(), engine.current().id(), gateway.id(),
                    reply.getInstanceId(), frontdoorId, user.username(), "session.start",
                    "session " + sessionId + " desktop " + desktop.getDesktopId() + " engine " + engine.current().id()
                            + " gateway " + gateway.id());
            log.info("session {} for {} on desktop {} via engine {} and gateway {}", sessionId, user.username(),
                    desktop.getDesktopId(), engine.current().id(), gateway.id());
            int width = reply.getWidth() > 0 ? reply.getWidth() : desktop.getWidth();
            int height = reply.getHeight() > 0 ? reply.getHeight() : desktop.getHeight();
            return new Launched(sessionId, desktop, gateway, width, height);
        } catch (RuntimeException e) {
            if (launched) stopOnEngine(engine.current(), sessionId);
            if (found.getReconnect()) {
                // The user's work is on this desktop: leave it; its one-time password expires unused.
                log.warn("reconnect of session {} to desktop {} failed; the desktop is left as it was", sessionId,
                        desktop.getDesktopId());
            } else {
                endOnBroker(desktop.getDesktopId(), sessionId);
            }
            if (e instanceof StatusRuntimeException s) {
                if (s.getStatus().getCode() == io.grpc.Status.Code.RESOURCE_EXHAUSTED) {
                    log.info("engine {} is at capacity; session {} not launched", engine.current().id(), sessionId);
                    throw new DeskgateException(Status.NO_DESKTOP_AVAILABLE, "no capacity");
                }
                throw upstream("engine " + engine.current().id(), s);
            }
            throw e;
        }
    }

    /**
     * Launches on the chosen engine; when it does not answer (it died since its last tally update: UNAVAILABLE,
     * CANCELLED) or is full (RESOURCE_EXHAUSTED), on the next engine of the order, as long as the request's
     * deadline allows. Leaves {@code engine} at the engine that launched, or that failed last.
     */
    private LaunchReply launchOnSomeEngine(EngineTry engine, LaunchRequest request, long deadlineMs) {
        while (true) {
            long remaining = deadlineMs - clock.millis();
            try {
                if (remaining <= 0) throw io.grpc.Status.DEADLINE_EXCEEDED.withDescription("launch deadline passed").asRuntimeException();
                LaunchReply reply = engine(engine.current(), Duration.ofMillis(remaining)).launch(request);
                engineAnswered.put(engine.current().id(), System.nanoTime());
                engine.launched();
                return reply;
            } catch (StatusRuntimeException e) {
                engineAnswered.remove(engine.current().id());
                engine.failed();
                io.grpc.Status.Code code = e.getStatus().getCode();
                boolean retry = code == io.grpc.Status.Code.UNAVAILABLE || code == io.grpc.Status.Code.CANCELLED
                        || code == io.grpc.Status.Code.RESOURCE_EXHAUSTED;
                if (!retry || deadlineMs - clock.millis() <= 0 || !engine.next()) throw e;
                log.warn("engine {} failed the launch of session {} ({}); trying engine {}", engine.previous().id(),
                        request.getSessionId(), code, engine.current().id());
            }
        }
    }

    /**
     * A second (third, ...) connection of {@code row}'s unique socket (a second tab, a reconnect after a network
     * drop): a fresh one-time desktop credential from the broker for the same socket and desktop, then another
     * transcoding instance on the socket's own engine, streaming to its gateway. The caller checked that the socket
     * is the user's and active. Never ends the desktop on a failure: the socket's other connections still use it.
     *
     * @throws DeskgateException {@link Status#UPSTREAM_UNAVAILABLE} when the socket's engine or gateway is no
     *     longer live or does not answer, {@link Status#NO_DESKTOP_AVAILABLE} when the engine is at capacity
     */
    Connected connect(SessionRow row, User user, Pool pool) {
        launching.incrementAndGet();
        try {
            LiveRoles.Snapshot live = roles.view();
            if (live.engine(row.engineId()).isEmpty() || live.gateway(row.gatewayId()).isEmpty()) {
                // A socket another frontdoor made on an instance that registered after the view was read: read once.
                if (roles.refreshEvery().isPositive()) live = roles.read();
            }
            EngineEndpoint engine = live.engine(row.engineId())
                    .orElseThrow(() -> new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the session's engine is no longer running"));
            GatewayEndpoint gateway = live.gateway(row.gatewayId())
                    .orElseThrow(() -> new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the session's gateway is no longer running"));
            FindDesktopReply found = findDesktop(broker(live, FIND_DESKTOP_DEADLINE), row.id(), user, pool, Optional.of(row.desktopId()));
            Desktop desktop = found.getDesktop();
            long ticket;
            synchronized (inFlight) {
                ticket = inFlight.begin(engine.id());
            }
            // The further instance's reference id is chosen here, so that its stream key and stream token (which name
            // its own stream, StreamIds.of(session, instance): docs/protocol.md §2.1) exist before the instance does.
            UUID instanceId = UUID.randomUUID();
            UUID streamId = StreamIds.of(row.id(), instanceId);
            LaunchReply reply;
            try {
                reply = engine(engine, LAUNCH_DEADLINE).launch(LaunchRequest.newBuilder()
                        .setSessionId(row.id().toString())
                        .setInstanceId(instanceId.toString())
                        .setTenant(row.tenant())
                        .setDesktopHost(desktop.getHost())
                        .setDesktopPort(desktop.getPort())
                        .setVncPassword(found.getVncPassword())
                        .setGatewayUdpHost(gateway.udpHost())
                        .setGatewayUdpPort(gateway.udpPort())
                        .setStreamKey(ByteString.copyFrom(streamKeys.derive(row.tenant(), streamId.toString())))
                        .build());
                long readings = roles.readsStarted();
                synchronized (inFlight) {
                    inFlight.launched(ticket, readings);
                }
            } catch (StatusRuntimeException e) {
                synchronized (inFlight) {
                    inFlight.failed(ticket);
                }
                if (e.getStatus().getCode() == io.grpc.Status.Code.RESOURCE_EXHAUSTED) {
                    throw new DeskgateException(Status.NO_DESKTOP_AVAILABLE, "the session's engine is at capacity");
                }
                throw upstream("engine " + engine.id(), e);
            }
            notices.started(brokerAsync(live, CONTROL_DEADLINE), desktop.getDesktopId(), row.id());
            audit.record(row.tenant(), user.username(), "session.connect", "session " + row.id() + " instance "
                    + reply.getInstanceId() + " engine " + engine.id());
            log.info("session {} of {}: another connection, instance {} on engine {}", row.id(), user.username(),
                    reply.getInstanceId(), engine.id());
            int width = reply.getWidth() > 0 ? reply.getWidth() : desktop.getWidth();
            int height = reply.getHeight() > 0 ? reply.getHeight() : desktop.getHeight();
            return new Connected(row.id(), reply.getInstanceId(), engine.id(), gateway, width, height);
        } finally {
            launching.decrementAndGet();
        }
    }

    /**
     * Closes one connection of {@code row}'s unique socket: its instance on the socket's engine. When it was the
     * last, the socket is released as {@link #stop(SessionRow, String, boolean)} releases it.
     *
     * @throws DeskgateException {@link Status#NOT_FOUND} when the engine runs no such instance of the socket,
     *     {@link Status#UPSTREAM_UNAVAILABLE} when the engine does not answer
     */
    Closed closeConnection(SessionRow row, String instanceId, String actor, boolean keep) {
        EngineEndpoint engine = knownEngine(row.engineId())
                .orElseThrow(() -> new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the session's engine is no longer running"));
        io.deskgate.control.StopReply reply;
        try {
            reply = engine(engine, CONTROL_DEADLINE).stop(StopRequest.newBuilder().setSessionId(row.id().toString())
                    .setInstanceId(instanceId).build());
        } catch (StatusRuntimeException e) {
            throw upstream("engine " + engine.id(), e);
        }
        if (reply.getStoppedInstances() == 0) throw new DeskgateException(Status.NOT_FOUND, "no such connection");
        Closed closed = new Closed(reply.getStoppedInstances(), reply.getRemainingInstances());
        audit.record(row.tenant(), actor, "session.disconnect", "session " + row.id() + " instance " + instanceId);
        if (closed.released()) {
            endOnBroker(row.desktopId(), row.id(), keep);
            if (sessions.markEnded(row.id())) {
                audit.record(row.tenant(), actor, "session.end", "session " + row.id() + " desktop " + row.desktopId()
                        + " (its last connection closed)");
            }
        }
        return closed;
    }

    /** Stops a session's instance and resets its desktop (best effort on both), then marks it ended. */
    void stop(SessionRow row, String actor) {
        stop(row, actor, false);
    }

    /**
     * As {@link #stop(SessionRow, String)}; {@code keep}: the session's pool keeps desktops at logout, so the
     * desktop is held for its user instead of reset (EndSession's {@code keep}).
     */
    void stop(SessionRow row, String actor, boolean keep) {
        stopOnEngine(row.engineId(), row.id());
        endOnBroker(row.desktopId(), row.id(), keep);
        sessions.markEnded(row.id());
        audit.record(row.tenant(), actor, "session.end", "session " + row.id() + " desktop " + row.desktopId());
    }

    /**
     * Whether the broker still has the session's desktop held by this session (in any state: a
     * disconnected desktop waits for its session to come back). Both brokers list the user's own desktops with
     * their session ids, whatever their pool.
     *
     * @throws DeskgateException {@link Status#UPSTREAM_UNAVAILABLE} when the broker does not answer
     */
    boolean holdsDesktop(SessionRow row, String username) {
        String id = row.id().toString();
        return listDesktops(row.tenant(), username, List.of()).desktops().stream()
                .anyMatch(d -> d.getDesktopId().equals(row.desktopId()) && d.getSessionId().equals(id));
    }

    /**
     * Records that a session's desktop is no longer its own (it was reset, reassigned or went away): stops
     * its instance on the engine (best effort) and marks it ended. Leaves the desktop alone: it may
     * already serve another session.
     */
    void markGone(SessionRow row) {
        stopOnEngine(row.engineId(), row.id());
        if (sessions.markEnded(row.id())) {
            audit.record(row.tenant(), "frontdoor", "session.gone",
                    "session " + row.id() + " no longer holds desktop " + row.desktopId());
            log.info("session {} no longer holds desktop {}; marked ended", row.id(), row.desktopId());
        }
    }

    /**
     * The engines a launch may try, in order, with a launch counted in flight on the current one: the live
     * engines not drained, by least connections relative to capacity counting this frontdoor's launches in
     * flight ({@link EngineSelector#order}); the current one is the first that answers a {@code Tally} (one that
     * died within the timeout is skipped before any desktop is reserved), or that answered one or a Launch within
     * {@link #ANSWER_FRESH} (no Tally then: one that died since fails its Launch, which goes to the next engine). Everything from the launch's one reading {@code live}.
     */
    private EngineTry chooseEngine(LiveRoles.Snapshot live) {
        List<RegistryEntry> rows = live.engineRows();
        java.util.Set<String> drained = live.drainedEngines();
        EngineTry t;
        synchronized (inFlight) {
            inFlight.observe(rows, live.reading());
            List<EngineEndpoint> ordered = EngineSelector.order(rows, drained, inFlight::count);
            if (ordered.isEmpty()) {
                throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, rows.isEmpty() ? "no engine is reachable"
                        : "no engine takes new sessions");
            }
            t = new EngineTry(ordered);
        }
        while (true) {
            Long answered = engineAnswered.get(t.current().id());
            if (answered != null && System.nanoTime() - answered < ANSWER_FRESH.toNanos()) return t;
            try {
                engine(t.current(), TALLY_DEADLINE).tally(TallyRequest.getDefaultInstance());
                engineAnswered.put(t.current().id(), System.nanoTime());
                return t;
            } catch (StatusRuntimeException ex) {
                engineAnswered.remove(t.current().id());
                log.warn("engine {} at {} did not answer its tally: {}", t.current().id(), t.current().grpcTarget(),
                        ex.getStatus().getCode());
                t.failed();
                if (!t.next()) throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "no engine is reachable");
            }
        }
    }

    /** The first live gateway of {@code live} not drained, least loaded first. */
    private GatewayEndpoint pickGateway(LiveRoles.Snapshot live) {
        java.util.Set<String> drained = live.drainedGateways();
        return live.gateways().stream().filter(g -> !drained.contains(g.id())).findFirst()
                .orElseThrow(() -> new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "no gateway is available"));
    }

    /** A walk through the engines of one launch, with the launch counted in flight on the current one. Not thread-safe. */
    private final class EngineTry {
        private final List<EngineEndpoint> ordered;
        private int index;
        private long ticket;
        private boolean counted;

        /** Call with {@link #inFlight} held. */
        EngineTry(List<EngineEndpoint> ordered) {
            this.ordered = ordered;
            ticket = inFlight.begin(ordered.getFirst().id());
            counted = true;
        }

        EngineEndpoint current() { return ordered.get(index); }

        EngineEndpoint previous() { return ordered.get(Math.max(0, index - 1)); }

        /** Moves to the next engine and counts the launch there; false when there is none. */
        boolean next() {
            if (index + 1 >= ordered.size()) return false;
            index++;
            synchronized (inFlight) {
                if (counted) inFlight.failed(ticket);
                ticket = inFlight.begin(current().id());
                counted = true;
            }
            return true;
        }

        void launched() {
            long readings = roles.readsStarted();
            synchronized (inFlight) {
                inFlight.launched(ticket, readings);
                counted = false;
            }
        }

        void failed() {
            synchronized (inFlight) {
                if (counted) inFlight.failed(ticket);
                counted = false;
            }
        }
    }

    private FindDesktopReply findDesktop(BrokerGrpc.BrokerBlockingStub broker, UUID sessionId, User user, Pool pool,
                                         Optional<String> desktopId) {
        try {
            return broker.findDesktop(FindDesktopRequest.newBuilder()
                    .setSessionId(sessionId.toString())
                    .setUser(user.username())
                    .setTenant(user.tenant())
                    .setPool(pool.name())
                    .setScope(PoolAccess.scope(pool))
                    .setDesktopId(desktopId.orElse(""))
                    .build());
        } catch (StatusRuntimeException e) {
            switch (e.getStatus().getCode()) {
                case RESOURCE_EXHAUSTED, NOT_FOUND ->
                        throw new DeskgateException(Status.NO_DESKTOP_AVAILABLE, noDesktopReason(e.getStatus().getDescription()));
                case PERMISSION_DENIED ->
                        throw new DeskgateException(Status.FORBIDDEN, "that desktop belongs to another user");
                case ALREADY_EXISTS -> // the broker's per-user limit; its message names the limit
                        throw new DeskgateException(Status.DESKTOP_LIMIT_REACHED, e.getStatus().getDescription() == null
                                ? "you already hold the most desktops one user may hold" : e.getStatus().getDescription());
                case FAILED_PRECONDITION ->
                        throw new DeskgateException(Status.NO_DESKTOP_AVAILABLE, "that desktop is not available now");
                default -> throw upstream("broker", e);
            }
        }
    }

    /**
     * The one reason the portal gives for "no desktop" (503): the sharded broker's reason code (the start of its
     * description, {@code NO_DESKTOP: ...}) as a sentence, never the rest (set and concentrator names).
     */
    static String noDesktopReason(String brokerDescription) {
        String d = brokerDescription == null ? "" : brokerDescription;
        if (d.startsWith("NO_DESKTOP:")) return "no desktop is available: every desktop of your pool is in use";
        if (d.startsWith("NO_CONCENTRATOR:")) return "no desktop is available: no desktop host is reporting to the brokers";
        if (d.startsWith("DEADLINE:")) return "no desktop is available: none was found in time, try again";
        return "no desktop is available";
    }

    private void stopOnEngine(String engineId, UUID sessionId) {
        Optional<EngineEndpoint> engine = knownEngine(engineId);
        if (engine.isEmpty()) {
            log.warn("session {} ran on engine {}, which the registry no longer lists", sessionId, engineId);
            return;
        }
        stopOnEngine(engine.get(), sessionId);
    }

    private void stopOnEngine(EngineEndpoint engine, UUID sessionId) {
        try {
            engine(engine, CONTROL_DEADLINE).stop(StopRequest.newBuilder().setSessionId(sessionId.toString()).build());
        } catch (StatusRuntimeException e) {
            log.warn("engine {} did not stop session {}: {}", engine.id(), sessionId, e.getStatus().getCode());
        }
    }

    /** The engine's address: from an open channel, else from the registry's live engines (the view, else a fresh reading). */
    private Optional<EngineEndpoint> knownEngine(String engineId) {
        EngineChannel open = engineChannels.get(engineId);
        if (open != null) return Optional.of(new EngineEndpoint(engineId, open.target()));
        try {
            Optional<EngineEndpoint> e = roles.view().engine(engineId);
            return e.isPresent() || roles.refreshEvery().isZero() ? e : roles.read().engine(engineId);
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private void endOnBroker(String desktopId, UUID sessionId) {
        endOnBroker(desktopId, sessionId, false);
    }

    private void endOnBroker(String desktopId, UUID sessionId, boolean keep) {
        // The broker sees this frontdoor's SessionStarted of the session before its EndSession (SessionNotices).
        notices.awaitSent(sessionId, CONTROL_DEADLINE);
        try {
            broker(CONTROL_DEADLINE).endSession(EndSessionRequest.newBuilder()
                    .setDesktopId(desktopId).setSessionId(sessionId.toString()).setKeep(keep).build());
        } catch (StatusRuntimeException e) {
            log.warn("broker did not end session {} on desktop {}: {}", sessionId, desktopId, e.getStatus().getCode());
        }
    }

    /**
     * Releases a removed user's desktops (ReleaseUser: their dedications dropped, what they hold reset); how many.
     *
     * @throws DeskgateException {@link Status#UPSTREAM_UNAVAILABLE} when the broker does not answer
     */
    int releaseUser(int tenant, String username) {
        return releaseUser(tenant, username, List.of());
    }

    /** As {@link #releaseUser(int, String)}, on the desktops of {@code agents} only (none: every desktop). */
    int releaseUser(int tenant, String username, List<String> agents) {
        try {
            return broker(CONTROL_DEADLINE).releaseUser(ReleaseUserRequest.newBuilder().setTenant(tenant).setUser(username)
                    .addAllAgents(agents).build()).getReleased();
        } catch (StatusRuntimeException e) {
            throw upstream("broker", e);
        }
    }

    /**
     * A stub on the least loaded live broker (of the view, {@link LiveRoles#view()}; the last reading when the store
     * does not answer).
     *
     * @throws DeskgateException {@link Status#UPSTREAM_UNAVAILABLE} when no broker is registered
     */
    private BrokerGrpc.BrokerBlockingStub broker(Duration deadline) {
        LiveRoles.Snapshot live;
        try {
            live = roles.view();
        } catch (RuntimeException e) {
            live = roles.last();
        }
        return broker(live, deadline);
    }

    /** A stub on the least loaded broker of {@code live}; {@link Status#UPSTREAM_UNAVAILABLE} when it lists none. */
    private BrokerGrpc.BrokerBlockingStub broker(LiveRoles.Snapshot live, Duration deadline) {
        return BrokerGrpc.newBlockingStub(brokerChannel(live)).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** As {@link #broker(LiveRoles.Snapshot, Duration)}, an asynchronous stub (its callbacks on the transport thread). */
    private BrokerGrpc.BrokerStub brokerAsync(LiveRoles.Snapshot live, Duration deadline) {
        return BrokerGrpc.newStub(brokerChannel(live)).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    private ManagedChannel brokerChannel(LiveRoles.Snapshot live) {
        String target = live.brokers().stream().findFirst()
                .orElseThrow(() -> new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "no broker is registered"));
        return brokerChannels.computeIfAbsent(target, t -> open(t, "broker"));
    }

    private EngineGrpc.EngineBlockingStub engine(EngineEndpoint e, Duration deadline) {
        EngineChannel ch = engineChannels.compute(e.id(), (id, old) -> {
            if (old != null && old.target().equals(e.grpcTarget())) return old;
            if (old != null) old.channel().shutdown();
            return new EngineChannel(e.grpcTarget(), open(e.grpcTarget(), "engine"));
        });
        return EngineGrpc.newBlockingStub(ch.channel()).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * A channel to a registered role; a target this frontdoor may not call (issue 9: off loopback without
     * {@code frontdoor.control.tls}) is the launch's one-line 503, not an unexpected error.
     */
    private ManagedChannel open(String target, String role) {
        try {
            // Direct: the only asynchronous calls (SessionNotices) complete a future in their callbacks and never
            // block; the blocking stubs wait on their own thread either way.
            return ControlChannels.openDirect(target, controlAuth);
        } catch (IllegalArgumentException e) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "cannot call the " + role + ": " + e.getMessage());
        }
    }

    private static DeskgateException upstream(String who, StatusRuntimeException e) {
        return new DeskgateException(Status.UPSTREAM_UNAVAILABLE, who + " failed: " + e.getStatus().getCode(), e);
    }

    @Override
    public void close() {
        brokerChannels.values().forEach(ManagedChannel::shutdownNow);
        engineChannels.values().forEach(c -> c.channel().shutdownNow());
    }
}
