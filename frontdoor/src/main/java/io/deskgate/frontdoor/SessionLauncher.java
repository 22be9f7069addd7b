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
import io.deskgate.control.SessionStartedRequest;
import io.deskgate.control.StopRequest;
import io.deskgate.control.TallyRequest;
import io.deskgate.frontdoor.Frontdoor.EngineEndpoint;
import io.deskgate.frontdoor.Frontdoor.GatewayEndpoint;
import io.deskgate.store.AuditLog;
import io.deskgate.store.Pool;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.RegistryStore;
import io.deskgate.store.SessionRow;
import io.deskgate.store.SessionStore;
import io.deskgate.store.User;
import io.deskgate.stream.StreamKeys;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import com.google.protobuf.ByteString;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Orchestrates a session launch (seed 000): new unique socket, engine by least connections, gateway from
 * the registry, desktop from the broker, transcoding instance on the engine, then steps out of the data
 * path. Undoes what it reserved when a later step fails. Thread-safe; blocking (call from a request
 * thread). Never logs the VNC password or the stream key.
 */
final class SessionLauncher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SessionLauncher.class);
    static final Duration TALLY_DEADLINE = Duration.ofSeconds(2);
    static final Duration FIND_DESKTOP_DEADLINE = Duration.ofSeconds(20);
    static final Duration LAUNCH_DEADLINE = Duration.ofSeconds(30);
    static final Duration CONTROL_DEADLINE = Duration.ofSeconds(5);

    /** What the browser needs to attach to a launched session. */
    record Launched(UUID sessionId, Desktop desktop, GatewayEndpoint gateway, int width, int height) {}

    private final ManagedChannel brokerChannel;
    private final Map<String, ManagedChannel> engineChannels;
    private final List<EngineEndpoint> engines;
    private final GatewaySelector gateways;
    private final RegistryStore registry;
    private final SessionStore sessions;
    private final AuditLog audit;
    private final StreamKeys streamKeys;
    private final Clock clock;

    /** @param controlAuth the control credential every call to the broker and the engines carries */
    SessionLauncher(String brokerTarget, List<EngineEndpoint> engines, ControlAuth controlAuth, GatewaySelector gateways,
                    RegistryStore registry, SessionStore sessions, AuditLog audit, StreamKeys streamKeys, Clock clock) {
        this.brokerChannel = ControlChannels.open(brokerTarget, controlAuth);
        this.engines = List.copyOf(engines);
        Map<String, ManagedChannel> channels = new LinkedHashMap<>();
        for (EngineEndpoint e : engines) channels.put(e.id(), ControlChannels.open(e.grpcTarget(), controlAuth));
        this.engineChannels = channels;
        this.gateways = gateways;
        this.registry = registry;
        this.sessions = sessions;
        this.audit = audit;
        this.streamKeys = streamKeys;
        this.clock = clock;
    }

    /** The broker's desktops. */
    List<Desktop> listDesktops() {
        try {
            return broker(CONTROL_DEADLINE).listDesktops(ListDesktopsRequest.getDefaultInstance()).getDesktopsList();
        } catch (StatusRuntimeException e) {
            throw upstream("broker", e);
        }
    }

    /** Launches a session for {@code user} on a desktop of {@code pool} (the caller checked the entitlement), on {@code desktopId} when given. */
    Launched launch(User user, Pool pool, Optional<String> desktopId) {
        UUID sessionId = UUID.randomUUID();
        EngineEndpoint engine = pickEngine();
        GatewayEndpoint gateway = gateways.pick(registry.list(RegistryEntry.GATEWAY), clock.instant())
                .orElseThrow(() -> new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "no gateway is available"));

        FindDesktopReply found = findDesktop(sessionId, user, pool, desktopId);
        Desktop desktop = found.getDesktop();
        boolean launched = false;
        try {
            LaunchReply reply = engine(engine.id(), LAUNCH_DEADLINE).launch(LaunchRequest.newBuilder()
                    .setSessionId(sessionId.toString())
                    .setTenant(user.tenant())
                    .setDesktopHost(desktop.getHost())
                    .setDesktopPort(desktop.getPort())
                    .setVncPassword(found.getVncPassword())
                    .setGatewayUdpHost(gateway.udpHost())
                    .setGatewayUdpPort(gateway.udpPort())
                    .setStreamKey(ByteString.copyFrom(streamKeys.derive(user.tenant(), sessionId.toString())))
                    .build());
            launched = true;
            sessionStarted(desktop.getDesktopId(), sessionId);
            sessions.create(sessionId, user.tenant(), user.id(), desktop.getDesktopId(), engine.id(), gateway.id(),
                    reply.getInstanceId());
            audit.record(user.tenant(), user.username(), "session.start",
                    "session " + sessionId + " desktop " + desktop.getDesktopId() + " engine " + engine.id()
                            + " gateway " + gateway.id());
            log.info("session {} for {} on desktop {} via engine {} and gateway {}", sessionId, user.username(),
                    desktop.getDesktopId(), engine.id(), gateway.id());
            int width = reply.getWidth() > 0 ? reply.getWidth() : desktop.getWidth();
            int height = reply.getHeight() > 0 ? reply.getHeight() : desktop.getHeight();
            return new Launched(sessionId, desktop, gateway, width, height);
        } catch (RuntimeException e) {
            if (launched) stopOnEngine(engine.id(), sessionId);
            if (found.getReconnect()) {
                // The user's work is on this desktop: leave it; its one-time password expires unused.
                log.warn("reconnect of session {} to desktop {} failed; the desktop is left as it was", sessionId,
                        desktop.getDesktopId());
            } else {
                endOnBroker(desktop.getDesktopId(), sessionId);
            }
            if (e instanceof StatusRuntimeException s) {
                if (s.getStatus().getCode() == io.grpc.Status.Code.RESOURCE_EXHAUSTED) {
                    log.info("engine {} is at capacity; session {} not launched", engine.id(), sessionId);
                    throw new DeskgateException(Status.NO_DESKTOP_AVAILABLE, "no capacity");
                }
                throw upstream("engine " + engine.id(), s);
            }
            throw e;
        }
    }

    /** Stops a session's instance and releases its desktop (best effort on both), then marks it ended. */
    void stop(SessionRow row, String actor) {
        stopOnEngine(row.engineId(), row.id());
        endOnBroker(row.desktopId(), row.id());
        sessions.markEnded(row.id());
        audit.record(row.tenant(), actor, "session.end", "session " + row.id() + " desktop " + row.desktopId());
    }

    /**
     * Whether the broker still has the session's desktop held by this session (in any state: a
     * disconnected desktop waits for its session to come back).
     *
     * @throws DeskgateException {@link Status#UPSTREAM_UNAVAILABLE} when the broker does not answer
     */
    boolean holdsDesktop(SessionRow row) {
        String id = row.id().toString();
        return listDesktops().stream()
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

    private EngineEndpoint pickEngine() {
        List<EngineSelector.Tally> tallies = new ArrayList<>();
        for (EngineEndpoint e : engines) {
            OptionalInt connections;
            try {
                connections = OptionalInt.of(engine(e.id(), TALLY_DEADLINE).tally(TallyRequest.getDefaultInstance())
                        .getConnections());
            } catch (StatusRuntimeException ex) {
                log.warn("engine {} at {} did not answer its tally: {}", e.id(), e.grpcTarget(), ex.getStatus().getCode());
                connections = OptionalInt.empty();
            }
            tallies.add(new EngineSelector.Tally(e, connections));
        }
        return EngineSelector.leastConnections(tallies)
                .orElseThrow(() -> new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "no engine is reachable"));
    }

    private FindDesktopReply findDesktop(UUID sessionId, User user, Pool pool, Optional<String> desktopId) {
        try {
            return broker(FIND_DESKTOP_DEADLINE).findDesktop(FindDesktopRequest.newBuilder()
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
                        throw new DeskgateException(Status.NO_DESKTOP_AVAILABLE, "no desktop is available in pool " + pool.name());
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

    private void sessionStarted(String desktopId, UUID sessionId) {
        try {
            broker(CONTROL_DEADLINE).sessionStarted(SessionStartedRequest.newBuilder()
                    .setDesktopId(desktopId).setSessionId(sessionId.toString()).build());
        } catch (StatusRuntimeException e) {
            // The instance is connected and streaming; the desktop keeps working without this notice.
            log.warn("broker did not take SessionStarted for session {}: {}", sessionId, e.getStatus().getCode());
        }
    }

    private void stopOnEngine(String engineId, UUID sessionId) {
        if (!engineChannels.containsKey(engineId)) {
            log.warn("session {} ran on engine {}, which this frontdoor does not know", sessionId, engineId);
            return;
        }
        try {
            engine(engineId, CONTROL_DEADLINE).stop(StopRequest.newBuilder().setSessionId(sessionId.toString()).build());
        } catch (StatusRuntimeException e) {
            log.warn("engine {} did not stop session {}: {}", engineId, sessionId, e.getStatus().getCode());
        }
    }

    private void endOnBroker(String desktopId, UUID sessionId) {
        try {
            broker(CONTROL_DEADLINE).endSession(EndSessionRequest.newBuilder()
                    .setDesktopId(desktopId).setSessionId(sessionId.toString()).build());
        } catch (StatusRuntimeException e) {
            log.warn("broker did not end session {} on desktop {}: {}", sessionId, desktopId, e.getStatus().getCode());
        }
    }

    private BrokerGrpc.BrokerBlockingStub broker(Duration deadline) {
        return BrokerGrpc.newBlockingStub(brokerChannel).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    private EngineGrpc.EngineBlockingStub engine(String id, Duration deadline) {
        return EngineGrpc.newBlockingStub(engineChannels.get(id)).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static DeskgateException upstream(String who, StatusRuntimeException e) {
        return new DeskgateException(Status.UPSTREAM_UNAVAILABLE, who + " failed: " + e.getStatus().getCode(), e);
    }

    @Override
    public void close() {
        brokerChannel.shutdownNow();
        engineChannels.values().forEach(ManagedChannel::shutdownNow);
    }
}
