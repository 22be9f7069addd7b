package io.deskgate.broker;

import io.deskgate.broker.DesktopChooser.Candidates;
import io.deskgate.broker.DesktopChooser.Refused;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import io.deskgate.control.EndSessionRequest;
import io.deskgate.control.FindDesktopReply;
import io.deskgate.control.FindDesktopRequest;
import io.deskgate.control.ListDesktopsReply;
import io.deskgate.control.ReleaseUserReply;
import io.deskgate.control.ReleaseUserRequest;
import io.deskgate.control.ListDesktopsRequest;
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
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import io.deskgate.common.RateLimitedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker (seed 001), minimal form: asks every agent for its desktops in parallel (the config's fixed
 * targets and those its agent source names at that moment: the registry's live agents),
 * merges the lists, lets {@link DesktopChooser} decide, and asks the owning agent to initiate the
 * session. Sessions are routed by desktop id {@code <agentId>/<n>}; which agent id lives at which
 * target is learned from the agents' own lists. An agent that does not answer within the call
 * deadline is skipped (and logged once); the others keep serving. Concentrator sets come later and
 * will sit between this edge and the agents without changing the chooser.
 *
 * <p>Thread-safe: gRPC handlers run on virtual threads and block on agent calls. The caller owns the
 * broker and must {@link #close()} it.
 */
public final class Broker implements BrokerCalls, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Broker.class);
    /** How many candidates FindDesktop tries before giving up (others may be taking them concurrently). */
    static final int MAX_ATTEMPTS = 3;

    private final BrokerConfig config;
    private final ControlAuth auth;
    private final Supplier<List<String>> agentSource;
    /** Target to its link: the fixed targets and the source's last answer. */
    private final Map<String, AgentLink> links = new ConcurrentHashMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final RateLimitedLog rateLimited = new RateLimitedLog(LOG);
    private volatile boolean sourceFailed;
    /** Agent id to the link it was last seen on. */
    private final Map<String, AgentLink> directory = new ConcurrentHashMap<>();
    private final ExecutorService fanOut = Executors.newVirtualThreadPerTaskExecutor();
    /** Striped by user name: FindDesktop of one user runs one at a time (the per-user limit's check and take). */
    private final Lock[] userLocks = new Lock[64];
    private Server server;

    private Broker(BrokerConfig config, ControlAuth auth, Supplier<List<String>> agentSource) {
        this.config = config;
        this.auth = auth;
        this.agentSource = agentSource;
        for (int i = 0; i < userLocks.length; i++) userLocks[i] = new ReentrantLock();
        for (String target : config.agentTargets()) links.put(target, new AgentLink(target, config.agentCallTimeout(), auth));
    }

    /**
     * A broker that asks only the config's fixed agent targets.
     *
     * @throws IllegalArgumentException when the config names no agent target, or has no control secret
     */
    public static Broker start(BrokerConfig config) throws IOException {
        if (config.agentTargets().isEmpty()) {
            throw new IllegalArgumentException("agent-targets must name at least one agent when there is no agent source");
        }
        return start(config, List::of);
    }

    /**
     * Opens channels to the agents (lazily connected) and starts the gRPC server. Both sides use the
     * control credential: the server refuses calls without it, the agent channels carry it.
     *
     * @param agentSource the agents' {@code host:port} targets now, besides the config's fixed ones (the registry's
     *                    live agents); called before each listing, on the calling thread, and must be
     *                    thread-safe. When it fails, the targets it last named are kept (one log line)
     * @throws IllegalArgumentException when the config has no control secret: the broker never serves
     *                                  unauthenticated, since its replies carry one-time VNC passwords
     */
    public static Broker start(BrokerConfig config, Supplier<List<String>> agentSource) throws IOException {
        return start(config, agentSource, new ControlAuth(config.controlSecret()), BrokerMetrics.unread());
    }

    /**
     * {@link #start(BrokerConfig, Supplier)} behind {@code auth} rather than the config's control secret: mutual
     * TLS ({@link ControlAuth#mutualTls}) for the frontdoor's calls and the agent channels, across hosts.
     */
    public static Broker start(BrokerConfig config, Supplier<List<String>> agentSource, ControlAuth auth) throws IOException {
        return start(config, agentSource, auth, BrokerMetrics.unread());
    }

    /** The same, counting its placements into {@code metrics}. */
    public static Broker start(BrokerConfig config, Supplier<List<String>> agentSource, BrokerMetrics metrics) throws IOException {
        return start(config, agentSource, new ControlAuth(config.controlSecret()), metrics);
    }

    /** Behind {@code auth}, counting its placements into {@code metrics}. */
    public static Broker start(BrokerConfig config, Supplier<List<String>> agentSource, ControlAuth auth, BrokerMetrics metrics)
            throws IOException {
        Broker broker = new Broker(config, auth, Objects.requireNonNull(agentSource, "agentSource"));
        broker.metrics = Objects.requireNonNull(metrics, "metrics");
        try {
            broker.server = NettyServerBuilder.forAddress(new InetSocketAddress(config.bindHost(), config.grpcPort()), auth.serverCredentials())
                    .addService(new BrokerService(broker))
                    .intercept(auth.serverInterceptor())
                    .executor(Executors.newVirtualThreadPerTaskExecutor())
                    .build()
                    .start();
        } catch (IOException | RuntimeException e) {
            broker.close();
            throw e;
        }
        LOG.info("broker serving gRPC on {}:{} for agents {}{}", config.bindHost(), broker.grpcPort(),
                config.agentTargets(), " and those its agent source names");
        return broker;
    }

    private volatile BrokerMetrics metrics = BrokerMetrics.unread();

    public int grpcPort() {
        return server.getPort();
    }

    /** FindDesktop calls being served now: the broker's load, as it registers it. */
    public int inFlight() {
        return inFlight.get();
    }

    /** Every desktop of every agent that answered in time; learns which agent id sits at which target. */
    List<Desktop> listDesktops() {
        refreshLinks();
        List<Future<List<Desktop>>> replies = new ArrayList<>();
        for (AgentLink link : List.copyOf(links.values())) replies.add(fanOut.submit(() -> list(link)));
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

    /**
     * Opens links to the targets the source names now and closes those of targets it no longer names (the
     * config's fixed ones stay). A failing source leaves the links as they are.
     */
    private void refreshLinks() {
        List<String> named;
        try {
            named = List.copyOf(agentSource.get());
        } catch (RuntimeException e) {
            if (!sourceFailed) {
                sourceFailed = true;
                LOG.warn("cannot read the agent source ({}); keeping the {} agent(s) known", e.getMessage(), links.size());
            }
            return;
        }
        if (sourceFailed) {
            sourceFailed = false;
            LOG.info("agent source readable again");
        }
        Set<String> wanted = new LinkedHashSet<>(config.agentTargets());
        for (String target : named) {
            try {
                io.deskgate.control.ControlChannels.Target.parse(target);
                wanted.add(target);
            } catch (IllegalArgumentException e) {
                rateLimited.warn("agent target unusable", "skipping agent target {}: {}", target, e.getMessage());
            }
        }
        synchronized (links) {
            for (String target : wanted) links.computeIfAbsent(target, t -> new AgentLink(t, config.agentCallTimeout(), auth));
            for (String target : List.copyOf(links.keySet())) {
                if (wanted.contains(target)) continue;
                AgentLink gone = links.remove(target);
                directory.values().removeIf(l -> l == gone);
                gone.close();
                LOG.info("agent {} is no longer listed; its link is closed", target);
            }
        }
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

    /** Every desktop of every agent that answered in time (the request names no filter a direct broker needs). */
    @Override
    public ListDesktopsReply listDesktops(ListDesktopsRequest request) {
        return ListDesktopsReply.newBuilder().addAllDesktops(listDesktops()).build();
    }

    /** Chooses a desktop and initiates the session on its agent. */
    @Override
    public FindDesktopReply findDesktop(FindDesktopRequest request) {
        long start = System.nanoTime();
        try {
            FindDesktopReply reply = findDesktopCounted(request);
            metrics.placement("placed", System.nanoTime() - start);
            return reply;
        } catch (StatusRuntimeException e) {
            metrics.placement(switch (e.getStatus().getCode()) {
                case ALREADY_EXISTS -> "limit";
                case NOT_FOUND -> "not_found";
                case PERMISSION_DENIED -> "held_by_another";
                case RESOURCE_EXHAUSTED -> "no_desktop";
                case FAILED_PRECONDITION -> "persistent_elsewhere";
                case INVALID_ARGUMENT -> "invalid";
                default -> "error";
            }, System.nanoTime() - start);
            throw e;
        }
    }

    private FindDesktopReply findDesktopCounted(FindDesktopRequest request) {
        if (request.getSessionId().isEmpty() || request.getUser().isEmpty()) {
            throw Status.INVALID_ARGUMENT.withDescription("session_id and user are required").asRuntimeException();
        }
        Lock userLock = userLocks[Math.floorMod(Objects.hash(request.getTenant(), request.getUser()), userLocks.length)];
        inFlight.incrementAndGet();
        userLock.lock(); // one user's requests in turn: two at once cannot both pass the per-user limit
        try {
            return findDesktopLocked(request);
        } finally {
            userLock.unlock();
            inFlight.decrementAndGet();
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
        boolean persistent = request.hasScope() && request.getScope().getPersistent();
        List<Desktop> candidates = switch (DesktopChooser.choose(desktops, request.getTenant(), request.getUser(), request.getDesktopId(),
                maxPerUser, persistent)) {
            case Refused(DesktopChooser.Refusal refusal, String message) -> throw (switch (refusal) {
                case NOT_FOUND -> Status.NOT_FOUND;
                case HELD_BY_ANOTHER -> Status.PERMISSION_DENIED;
                case NONE_AVAILABLE -> Status.RESOURCE_EXHAUSTED;
                case LIMIT_REACHED -> Status.ALREADY_EXISTS;
                case PERSISTENT_ELSEWHERE -> Status.FAILED_PRECONDITION;
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
                        .setUser(request.getUser()).setTenant(request.getTenant()).setDedicate(persistent).build());
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

    @Override
    public void sessionStarted(SessionStartedRequest request) {
        route(request.getDesktopId(), link -> link.stub().sessionStarted(request));
    }

    @Override
    public void endSession(EndSessionRequest request) {
        route(request.getDesktopId(), link -> link.stub().endSession(request));
    }

    /**
     * Releases the user on every agent that answers (each drops the user's dedications and resets what they hold);
     * the sum released. An agent that does not answer is logged and skipped: its desktops keep the user's ties.
     */
    @Override
    public ReleaseUserReply releaseUser(ReleaseUserRequest request) {
        if (request.getTenant() < 1 || request.getUser().isEmpty()) {
            throw Status.INVALID_ARGUMENT.withDescription("tenant and user are required").asRuntimeException();
        }
        listDesktops();
        List<Future<Integer>> replies = new ArrayList<>();
        for (AgentLink link : Set.copyOf(directory.values())) {
            replies.add(fanOut.submit(() -> {
                try {
                    int n = link.stub().releaseUser(request).getReleased();
                    link.answered();
                    return n;
                } catch (StatusRuntimeException e) {
                    if (AgentLink.isUnreachable(e.getStatus())) link.unreachable(e.getStatus());
                    rateLimited.warn("release", "an agent did not release a removed user: {}", e.getStatus().getCode());
                    return 0;
                }
            }));
        }
        int released = 0;
        for (Future<Integer> f : replies) {
            try {
                released += f.get();
            } catch (ExecutionException e) {
                LOG.error("releasing a user failed", e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
            }
        }
        return ReleaseUserReply.newBuilder().setReleased(released).build();
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
        links.values().forEach(AgentLink::close);
    }
}
