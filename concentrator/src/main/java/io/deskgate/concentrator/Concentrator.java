package io.deskgate.concentrator;

import io.deskgate.common.RateLimitedLog;
import io.deskgate.concentrator.DesktopDirectory.Accepted;
import io.deskgate.concentrator.DesktopDirectory.Outcome;
import io.deskgate.concentrator.DesktopDirectory.Rejected;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.ControlChannels;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent concentrator role (seed 001): serves the gRPC {@code Concentrator} service
 * ({@link ConcentratorService}) over a {@link DesktopDirectory} held in memory only.
 *
 * <p>Threads: the directory is owned by one lock; the gRPC handlers (on the transport's event loop) and a ticker thread,
 * which forgets silent agents every {@link ConcentratorConfig#tickInterval}, take it for each event and
 * never call out while holding it. The caller owns the concentrator and must {@link #close()} it.
 */
public final class Concentrator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Concentrator.class);

    private final ConcentratorConfig config;
    private final ControlAuth auth;
    private final LongSupplier clock = System::nanoTime;
    private final RateLimitedLog refusals = new RateLimitedLog(LOG);
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}. */
    private final DesktopDirectory directory;
    /** Agent id to its live stream; guarded by {@link #lock}. */
    private final Map<String, AgentStream> streams = new HashMap<>();
    /** An agent's Agent service target to the channel the forwarded calls use; guarded by {@link #lock}. */
    private final Map<String, ManagedChannel> channels = new HashMap<>();
    private final ScheduledExecutorService ticker;
    private volatile int load;
    private volatile boolean closed;
    private Server server;
    private int port;

    /** The concentrator's side of one agent's report stream, as the directory knows it. */
    interface AgentStream {
        long connection();

        String agentId();

        String agentTarget();

        /** What the agent said of itself in its hello. */
        AgentInfo agentInfo();

        /** Ends the stream with {@code status}; may be called from any thread. */
        void end(Status status);
    }

    private final ConcentratorMetrics metrics;

    private Concentrator(ConcentratorConfig config, ControlAuth auth, ConcentratorMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
        this.auth = auth;
        this.directory = new DesktopDirectory(config.limits());
        java.util.concurrent.ScheduledThreadPoolExecutor t = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
            Thread th = new Thread(r, "concentrator-tick-" + config.id());
            th.setDaemon(true);
            return th;
        });
        t.setRemoveOnCancelPolicy(true); // the agent calls' deadlines, cancelled when answered
        this.ticker = t;
    }

    /**
     * Starts the gRPC server, behind the control credential, and the ticker.
     *
     * @throws IllegalArgumentException when the config has no control secret: reports decide which desktops
     *                                  brokers offer, so the concentrator never serves unauthenticated
     */
    public static Concentrator start(ConcentratorConfig config) throws IOException {
        return start(config, new ControlAuth(config.controlSecret()), ConcentratorMetrics.unread());
    }

    /**
     * {@link #start(ConcentratorConfig)} behind {@code auth} rather than the config's control secret: mutual TLS
     * ({@link ControlAuth#mutualTls}) when agents and brokers on other hosts call it; its agent channels use it too.
     */
    public static Concentrator start(ConcentratorConfig config, ControlAuth auth) throws IOException {
        return start(config, auth, ConcentratorMetrics.unread());
    }

    /** The same, counting into {@code metrics}. */
    public static Concentrator start(ConcentratorConfig config, ConcentratorMetrics metrics) throws IOException {
        return start(config, new ControlAuth(config.controlSecret()), metrics);
    }

    /** Behind {@code auth}, counting into {@code metrics}. */
    public static Concentrator start(ConcentratorConfig config, ControlAuth auth, ConcentratorMetrics metrics) throws IOException {
        Concentrator c = new Concentrator(config, auth, metrics);
        try {
            c.server = NettyServerBuilder.forAddress(new InetSocketAddress(config.bindHost(), config.grpcPort()), auth.serverCredentials())
                    .addService(new ConcentratorService(c))
                    .intercept(auth.serverInterceptor())
                    // Every handler only takes the directory's lock briefly or starts an async call: run on the
                    // event loop, with no hand-off to another thread per call (docs/benchmarks.md, "broker").
                    .directExecutor()
                    .build()
                    .start();
            c.port = c.server.getPort();
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        metrics.watch(c);
        long tick = config.tickInterval().toMillis();
        c.ticker.scheduleWithFixedDelay(c::tick, tick, tick, TimeUnit.MILLISECONDS);
        LOG.info("concentrator {} of set {} serving gRPC on {}:{}", config.id(), config.set(), config.bindHost(),
                c.grpcPort());
        return c;
    }

    /** The port it serves on (still known after {@link #close()}). */
    public int grpcPort() {
        return port;
    }

    public String id() {
        return config.id();
    }

    public String set() {
        return config.set();
    }

    /** The desktops held now: the load a concentrator registers, and agents choose the least loaded by. */
    public int load() {
        return load;
    }

    /** The agents connected now. */
    public int agents() {
        lock.lock();
        try {
            return directory.agents();
        } finally {
            lock.unlock();
        }
    }

    /** How many connections or reports were refused for {@code reason} since the start. */
    public long rejected(DesktopDirectory.Rejection reason) {
        lock.lock();
        try {
            return directory.rejected(reason);
        } finally {
            lock.unlock();
        }
    }

    ConcentratorMetrics metrics() {
        return metrics;
    }

    ConcentratorConfig config() {
        return config;
    }

    long nowNs() {
        return clock.getAsLong();
    }

    /** For input refused at the edge (before the directory): one rate-limited line per reason. */
    RateLimitedLog refusals() {
        return refusals;
    }

    /** A stream said hello: {@code empty} when accepted, else the status to end it with. */
    Optional<Status> connect(AgentStream stream) {
        long now = clock.getAsLong();
        AgentStream replaced = null;
        Optional<Status> refusal;
        lock.lock();
        try {
            if (!directory.holdsAgent(stream.agentId()) && directory.agents() >= config.maxAgents()) {
                metrics.error("max_agents");
                refusals.warn("max-agents", "refused agent {}: concentrator {} holds the most agents ({})",
                        stream.agentId(), config.id(), config.maxAgents());
                return Optional.of(Status.RESOURCE_EXHAUSTED.withDescription("concentrator " + config.id()
                        + " holds the most agents it may (" + config.maxAgents() + ")"));
            }
            switch (directory.connect(stream.agentId(), stream.connection(), stream.agentInfo(), now)) {
                case Accepted a -> {
                    AgentStream old = streams.put(stream.agentId(), stream);
                    if (old != null && old != stream) {
                        replaced = old;
                        release(old.agentTarget());
                    }
                    refusal = Optional.empty();
                }
                case Rejected r -> refusal = Optional.of(statusOf(r));
            }
            load = directory.desktops();
        } finally {
            lock.unlock();
        }
        if (replaced != null) replaced.end(Status.ALREADY_EXISTS.withDescription("replaced by a newer stream of the agent"));
        return refusal;
    }

    /** What became of a report: the desktops held for the agent afterwards, or the status ending its stream. */
    record Verdict(int desktops, Optional<Status> refusal) {}

    /** A report on a stream that said hello. */
    Verdict report(AgentStream stream, boolean full, List<DesktopReport> desktops) {
        long now = clock.getAsLong();
        lock.lock();
        try {
            int after = directory.desktops() + desktops.size() - (full ? directory.desktopsOf(stream.agentId()) : 0);
            if (after > config.maxDesktops() && streams.get(stream.agentId()) == stream) {
                metrics.error("max_desktops");
                refusals.warn("max-desktops", "refused a report of agent {}: concentrator {} would hold more than {} desktops",
                        stream.agentId(), config.id(), config.maxDesktops());
                return new Verdict(0, Optional.of(Status.RESOURCE_EXHAUSTED.withDescription("concentrator " + config.id()
                        + " holds the most desktops it may (" + config.maxDesktops() + ")")));
            }
            Outcome o = directory.report(stream.agentId(), stream.connection(), full, desktops, now);
            load = directory.desktops();
            return switch (o) {
                case Accepted a -> new Verdict(a.desktops(), Optional.empty());
                case Rejected r -> new Verdict(0, Optional.of(statusOf(r)));
            };
        } finally {
            lock.unlock();
        }
    }

    /** The stream ended (the agent closed it, it failed, or the concentrator ended it): forgets the agent. */
    void ended(AgentStream stream) {
        long now = clock.getAsLong();
        lock.lock();
        try {
            directory.disconnected(stream.agentId(), stream.connection(), now);
            if (streams.get(stream.agentId()) == stream) {
                streams.remove(stream.agentId());
                release(stream.agentTarget());
            }
            load = directory.desktops();
        } finally {
            lock.unlock();
        }
    }

    List<DesktopView> findAvailable(int tenant, String pool, String user, int limit) {
        lock.lock();
        try {
            return directory.findAvailable(tenant, pool, user, limit);
        } finally {
            lock.unlock();
        }
    }

    DesktopDirectory.Found find(DesktopDirectory.Query q) {
        lock.lock();
        try {
            return directory.find(q);
        } finally {
            lock.unlock();
        }
    }

    /** The agents reporting here that have a desktop held by or dedicated to {@code (tenant, user)}. */
    List<String> agentsOf(int tenant, String user) {
        lock.lock();
        try {
            return directory.agentsOf(tenant, user);
        } finally {
            lock.unlock();
        }
    }

    /** A coalesced FindAvailable ({@link DesktopDirectory#findBatch}). */
    DesktopDirectory.FoundBatch findBatch(int tenant, String pool, Optional<DesktopDirectory.Scope> scope, List<String> users,
                                          int limit) {
        lock.lock();
        try {
            return directory.findBatch(tenant, pool, scope, users, limit);
        } finally {
            lock.unlock();
        }
    }

    /** Whether its control plane is mutual TLS (issue 9): then it may call agents off loopback. */
    boolean mutualTls() {
        return auth.tls().isPresent();
    }

    /** The channel to the Agent service of {@code agentId}, when that agent reports here. */
    Optional<ManagedChannel> channelTo(String agentId) {
        lock.lock();
        try {
            AgentStream s = streams.get(agentId);
            if (s == null || closed || !directory.holdsAgent(agentId)) return Optional.empty();
            return Optional.of(channels.computeIfAbsent(s.agentTarget(), t -> ControlChannels.openDirect(t, auth)));
        } finally {
            lock.unlock();
        }
    }

    /** The live report stream of {@code agentId}, when that agent reports here. */
    Optional<AgentStream> streamOf(String agentId) {
        lock.lock();
        try {
            AgentStream s = streams.get(agentId);
            if (s == null || closed || !directory.holdsAgent(agentId)) return Optional.empty();
            return Optional.of(s);
        } finally {
            lock.unlock();
        }
    }

    /** The ticker: where the deadlines of the calls sent down agents' report streams fire (they only fail a call). */
    ScheduledExecutorService timers() {
        return ticker;
    }

    /** Under the lock: closes the channel to {@code target} when no live stream names it. */
    private void release(String target) {
        for (AgentStream s : streams.values()) if (s.agentTarget().equals(target)) return;
        ManagedChannel ch = channels.remove(target);
        if (ch != null) ch.shutdownNow();
    }

    /** On the ticker: forgets agents silent for the agent timeout and ends their streams. */
    private void tick() {
        List<AgentStream> gone = new ArrayList<>();
        lock.lock();
        try {
            for (String agentId : directory.tick(clock.getAsLong())) {
                AgentStream s = streams.remove(agentId);
                if (s != null) {
                    gone.add(s);
                    release(s.agentTarget());
                }
            }
            load = directory.desktops();
        } catch (RuntimeException e) {
            metrics.error("tick_failed");
            LOG.error("concentrator {} tick failed", config.id(), e);
        } finally {
            lock.unlock();
        }
        for (AgentStream s : gone) {
            s.end(Status.UNAVAILABLE.withDescription("silent for " + config.agentTimeout() + ": forgotten"));
        }
    }

    static Status statusOf(Rejected r) {
        return switch (r.rejection()) {
            case DUPLICATE_AGENT -> Status.ALREADY_EXISTS.withDescription(r.message());
            default -> Status.INVALID_ARGUMENT.withDescription(r.rejection() + ": " + r.message());
        };
    }

    /** Stops the server (ending every stream: the agents re-home) and the forwarded calls' channels. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        ticker.shutdownNow();
        if (server != null) server.shutdownNow();
        List<ManagedChannel> open;
        lock.lock();
        try {
            open = List.copyOf(channels.values());
            channels.clear();
        } finally {
            lock.unlock();
        }
        for (ManagedChannel ch : open) ControlChannels.close(ch, Duration.ofSeconds(1));
        try {
            if (server != null) server.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("concentrator {} closed", config.id());
    }
}
