package io.deskgate.broker;

import io.deskgate.broker.DesktopChooser.Candidates;
import io.deskgate.broker.DesktopChooser.Refused;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import io.deskgate.control.EndSessionRequest;
import io.deskgate.control.FindDesktopReply;
import io.deskgate.control.FindDesktopRequest;
import io.deskgate.control.InitiateSessionReply;
import io.deskgate.control.InitiateSessionRequest;
import io.deskgate.control.ListDesktopsRequest;
import io.deskgate.control.SessionStartedRequest;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker (seed 001), minimal form: asks every configured agent for its desktops in parallel,
 * merges the lists, lets {@link DesktopChooser} decide, and asks the owning agent to initiate the
 * session. Sessions are routed by desktop id {@code <agentId>/<n>}; which agent id lives at which
 * target is learned from the agents' own lists. An agent that does not answer within the call
 * deadline is skipped (and logged once); the others keep serving. Concentrator sets come later and
 * will sit between this edge and the agents without changing the chooser.
 *
 * <p>Thread-safe: gRPC handlers run on virtual threads and block on agent calls. The caller owns the
 * broker and must {@link #close()} it.
 */
public final class Broker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Broker.class);
    /** How many candidates FindDesktop tries before giving up (others may be taking them concurrently). */
    static final int MAX_ATTEMPTS = 3;

    private final BrokerConfig config;
    private final List<AgentLink> links = new ArrayList<>();
    /** Agent id to the link it was last seen on. */
    private final Map<String, AgentLink> directory = new ConcurrentHashMap<>();
    private final ExecutorService fanOut = Executors.newVirtualThreadPerTaskExecutor();
    /** Striped by user name: FindDesktop of one user runs one at a time (the per-user limit's check and take). */
    private final Lock[] userLocks = new Lock[64];
    private Server server;

    private Broker(BrokerConfig config, ControlAuth auth) {
        this.config = config;
        for (int i = 0; i < userLocks.length; i++) userLocks[i] = new ReentrantLock();
        for (String target : config.agentTargets()) links.add(new AgentLink(target, config.agentCallTimeout(), auth));
    }

    /**
     * Opens channels to the agents (lazily connected) and starts the gRPC server. Both sides use the
     * control credential: the server refuses calls without it, the agent channels carry it.
     *
     * @throws IllegalArgumentException when the config has no control secret: the broker never serves
     *                                  unauthenticated, since its replies carry one-time VNC passwords
     */
    public static Broker start(BrokerConfig config) throws IOException {
        ControlAuth auth = new ControlAuth(config.controlSecret());
        Broker broker = new Broker(config, auth);
        try {
            broker.server = NettyServerBuilder.forAddress(new InetSocketAddress(config.bindHost(), config.grpcPort()))
                    .addService(new BrokerService(broker))
                    .intercept(auth.serverInterceptor())
                    .executor(Executors.newVirtualThreadPerTaskExecutor())
                    .build()
                    .start();
        } catch (IOException | RuntimeException e) {
            broker.close();
            throw e;
        }
        LOG.info("broker serving gRPC on {}:{} for agents {}", config.bindHost(), broker.grpcPort(),
                config.agentTargets());
        return broker;
    }

    public int grpcPort() {
        return server.getPort();
    }

    /** Every desktop of every agent that answered in time; learns which agent id sits at which target. */
    List<Desktop> listDesktops() {
        List<Future<List<Desktop>>> replies = new ArrayList<>();
        for (AgentLink link : links) replies.add(fanOut.submit(() -> list(link)));
        List<Desktop> merged = new ArrayList<>();
        for (Future<List<Desktop>> reply : replies) {
            try {
                merged.addAll(reply.get());
            } catch (ExecutionException e) {
                LOG.error("listing an agent failed", e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
            }
        }
        return merged;
    }

    private List<Desktop> list(AgentLink link) {
        try {
            List<Desktop> desktops = link.stub().listDesktops(ListDesktopsRequest.getDefaultInstance()).getDesktopsList();
            link.answered();
            for (Desktop d : desktops) directory.put(DesktopChooser.agentOf(d.getDesktopId()), link);
            return desktops;
        } catch (StatusRuntimeException e) {
            link.unreachable(e.getStatus());
            return List.of();
        }
    }

    /** Chooses a desktop and initiates the session on its agent. */
    FindDesktopReply findDesktop(FindDesktopRequest request) {
        if (request.getSessionId().isEmpty() || request.getUser().isEmpty()) {
            throw Status.INVALID_ARGUMENT.withDescription("session_id and user are required").asRuntimeException();
        }
        Lock userLock = userLocks[Math.floorMod(Objects.hash(request.getTenant(), request.getUser()), userLocks.length)];
        userLock.lock(); // one user's requests in turn: two at once cannot both pass the per-user limit
        try {
            return findDesktopLocked(request);
        } finally {
            userLock.unlock();
        }
    }

    private FindDesktopReply findDesktopLocked(FindDesktopRequest request) {
        List<Desktop> desktops = listDesktops();
        int maxPerUser = config.maxDesktopsPerUser();
        if (request.hasScope()) {
            // Only the pool's desktops serve the request; the user's desktops elsewhere still count against the limit.
            int elsewhere = PoolScopes.heldOutside(request.getScope(), desktops, request.getTenant(), request.getUser());
            if (elsewhere >= maxPerUser) {
                throw Status.ALREADY_EXISTS.withDescription("you already hold " + elsewhere + (elsewhere == 1 ? " desktop" : " desktops")
                        + " in other pools, the most one user may hold at once (limit " + maxPerUser + "); open or end it first")
                        .asRuntimeException();
            }
            maxPerUser -= elsewhere;
            desktops = PoolScopes.inScope(request.getScope(), desktops);
        }
        List<Desktop> candidates = switch (DesktopChooser.choose(desktops, request.getTenant(), request.getUser(), request.getDesktopId(),
                maxPerUser)) {
            case Refused(DesktopChooser.Refusal refusal, String message) -> throw (switch (refusal) {
                case NOT_FOUND -> Status.NOT_FOUND;
                case HELD_BY_ANOTHER -> Status.PERMISSION_DENIED;
                case NONE_AVAILABLE -> Status.RESOURCE_EXHAUSTED;
                case LIMIT_REACHED -> Status.ALREADY_EXISTS;
            }).withDescription(message).asRuntimeException();
            case Candidates(List<Desktop> inOrder) -> inOrder;
        };
        StatusRuntimeException last = null;
        for (Desktop candidate : candidates.subList(0, Math.min(MAX_ATTEMPTS, candidates.size()))) {
            AgentLink link = directory.get(DesktopChooser.agentOf(candidate.getDesktopId()));
            if (link == null) continue;
            try {
                InitiateSessionReply reply = link.stub().initiateSession(InitiateSessionRequest.newBuilder()
                        .setDesktopId(candidate.getDesktopId()).setSessionId(request.getSessionId())
                        .setUser(request.getUser()).setTenant(request.getTenant()).build());
                link.answered();
                LOG.info("session {} assigned desktop {}", request.getSessionId(), candidate.getDesktopId());
                boolean reconnect = DesktopChooser.ownedBy(candidate, request.getTenant(), request.getUser());
                return FindDesktopReply.newBuilder().setDesktop(reply.getDesktop())
                        .setVncPassword(reply.getVncPassword()).setReconnect(reconnect).build();
            } catch (StatusRuntimeException e) {
                last = e;
                if (AgentLink.isUnreachable(e.getStatus())) link.unreachable(e.getStatus());
                LOG.info("desktop {} refused session {} ({}); trying the next", candidate.getDesktopId(),
                        request.getSessionId(), e.getStatus().getCode());
            }
        }
        if (!request.getDesktopId().isEmpty() && last != null && !AgentLink.isUnreachable(last.getStatus())) throw last;
        throw Status.RESOURCE_EXHAUSTED.withDescription("no desktop available: the candidates were taken or their"
                + " agents did not answer").asRuntimeException();
    }

    void sessionStarted(SessionStartedRequest request) {
        route(request.getDesktopId(), link -> link.stub().sessionStarted(request));
    }

    void endSession(EndSessionRequest request) {
        route(request.getDesktopId(), link -> link.stub().endSession(request));
    }

    /** Calls the agent that owns {@code desktopId}; its refusal reaches the caller unchanged. */
    private <T> T route(String desktopId, Function<AgentLink, T> call) {
        String agentId = DesktopChooser.agentOf(desktopId);
        AgentLink link = directory.get(agentId);
        if (link == null) {
            listDesktops();
            link = directory.get(agentId);
        }
        if (link == null) {
            throw Status.NOT_FOUND.withDescription("no agent " + (agentId.isEmpty() ? "for " + desktopId : agentId))
                    .asRuntimeException();
        }
        try {
            T reply = call.apply(link);
            link.answered();
            return reply;
        } catch (StatusRuntimeException e) {
            if (AgentLink.isUnreachable(e.getStatus())) {
                link.unreachable(e.getStatus());
                throw Status.UNAVAILABLE.withDescription("agent " + agentId + " did not answer").asRuntimeException();
            }
            throw e;
        }
    }

    /** Stops the gRPC server and closes the agent channels. Idempotent. */
    @Override
    public void close() {
        if (server != null) {
            server.shutdownNow();
            try {
                server.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        fanOut.shutdownNow();
        links.forEach(AgentLink::close);
    }
}
