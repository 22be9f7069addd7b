package io.deskgate.agent;

import io.deskgate.agent.DesktopLauncher.RunningDesktop;
import io.deskgate.agent.DesktopLifecycle.Accepted;
import io.deskgate.agent.DesktopLifecycle.Action;
import io.deskgate.agent.DesktopLifecycle.Launch;
import io.deskgate.agent.DesktopLifecycle.Outcome;
import io.deskgate.agent.DesktopLifecycle.ScramblePassword;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server agent of one desktop host (seed 001): runs N TigerVNC desktops on this machine, keeps
 * their state and serves the gRPC {@code Agent} service.
 *
 * <p>Threads: one loop thread owns the {@link DesktopLifecycle} core and the map of running desktops;
 * gRPC handlers and process callbacks hand their events to it. Launching and stopping desktops block
 * and run on virtual threads. Public methods are thread-safe. The caller owns the agent and must
 * {@link #close()} it; the agent registers no shutdown hook.
 */
public final class Agent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
    static final String RFB_HOST = "127.0.0.1";
    static final Duration TICK = Duration.ofMillis(100);
    /** Probe the RFB connections of IN_USE desktops every this many ticks (1 s). */
    static final int VIEWER_PROBE_TICKS = 10;
    static final Duration LOOP_CALL_TIMEOUT = Duration.ofSeconds(5);
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(15);

    /** The answer to a request, with the one-time password when one was issued (never logged). */
    record Reply(Outcome outcome, String vncPassword) {
        @Override
        public String toString() {
            return "Reply[" + outcome + "]";
        }
    }

    private final AgentConfig config;
    private final DesktopLauncher launcher;
    private final DesktopLifecycle core;
    private final ScheduledExecutorService loop;
    private final ExecutorService processWork = Executors.newVirtualThreadPerTaskExecutor();
    /** Loop-owned: the current launch of each desktop once it is ready. */
    private final Map<Integer, RunningDesktop> running = new HashMap<>();
    /** Every desktop started and not yet stopped, whatever its generation: what close() must stop. */
    private final Set<RunningDesktop> live = ConcurrentHashMap.newKeySet();
    private final Object stateChanged = new Object();
    private final List<Consumer<List<Desktop>>> listeners = new CopyOnWriteArrayList<>();
    private volatile List<Desktop> snapshot;
    private volatile boolean closed;
    private Server server;
    /** Loop-owned tick counter. */
    private long ticks;

    private Agent(AgentConfig config, DesktopLauncher launcher) {
        this.config = config;
        this.launcher = launcher;
        this.core = new DesktopLifecycle(config.agentId(), config.desktops(), config.width(), config.height(),
                config.oneTimePasswordTtl().toNanos(), config.disconnectedRelease().toNanos(),
                DesktopLifecycle.RestartPolicy.DEFAULT);
        this.snapshot = core.desktops();
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "agent-loop-" + config.agentId());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The session calls this agent answers on its report streams ({@link ConcentratorLinks.SessionCalls}): the same
     * InitiateSession as its Agent service, with the same compare-and-set. It may block (it sets the one-time
     * password): give the links an executor that may.
     */
    public ConcentratorLinks.SessionCalls sessionCalls() {
        AgentService service = new AgentService(this);
        return service::initiateSession;
    }

    /**
     * Checks that Xvnc and the session programs are installed, prepares the runtime directory, starts
     * the gRPC server and launches every desktop in parallel. Returns without waiting for the desktops:
     * see {@link #awaitReady}.
     *
     * @throws io.deskgate.common.DeskgateException naming the Debian package when a program is missing
     * @throws IllegalArgumentException when the config has no control secret: the agent never serves
     *                                  unauthenticated, since its replies carry one-time VNC passwords
     */
    public static Agent start(AgentConfig config) throws IOException {
        return start(config, new ControlAuth(config.controlSecret()), AgentMetrics.unread());
    }

    /**
     * {@link #start(AgentConfig)} behind {@code auth} rather than the config's control secret: mutual TLS
     * ({@link ControlAuth#mutualTls}) when the agent is called from other hosts.
     */
    public static Agent start(AgentConfig config, ControlAuth auth) throws IOException {
        return start(config, auth, AgentMetrics.unread());
    }

    /** The same, counting into {@code metrics}. */
    public static Agent start(AgentConfig config, AgentMetrics metrics) throws IOException {
        return start(config, new ControlAuth(config.controlSecret()), metrics);
    }

    /** Behind {@code auth}, counting into {@code metrics}. */
    public static Agent start(AgentConfig config, ControlAuth auth, AgentMetrics metrics) throws IOException {
        DesktopLauncher launcher = DesktopLauncher.create(config);
        try {
            launcher.prepare();
        } catch (IOException | RuntimeException e) {
            launcher.releaseUsers();
            throw e;
        }
        Agent agent = new Agent(config, launcher);
        agent.metrics = metrics;
        metrics.watch(agent::desktops);
        try {
            agent.server = NettyServerBuilder.forAddress(new InetSocketAddress(config.bindHost(), config.grpcPort()), auth.serverCredentials())
                    .addService(new AgentService(agent))
                    .intercept(auth.serverInterceptor())
                    .executor(Executors.newVirtualThreadPerTaskExecutor())
                    .build()
                    .start();
        } catch (IOException | RuntimeException e) {
            agent.close();
            throw e;
        }
        agent.loop.execute(() -> agent.perform(agent.core.start(System.nanoTime())));
        agent.loop.scheduleWithFixedDelay(agent::tick, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
        LOG.info("agent {} serving gRPC on {}:{} with {} desktops", config.agentId(), config.bindHost(),
                agent.grpcPort(), config.desktops());
        return agent;
    }

    private volatile AgentMetrics metrics = AgentMetrics.unread();

    AgentMetrics metrics() {
        return metrics;
    }

    public int grpcPort() {
        return server.getPort();
    }

    public String agentId() {
        return config.agentId();
    }

    /** The agent's labels (config {@code labels}). */
    public List<String> labels() {
        return config.labels();
    }

    /** Where its desktops' RFB servers listen (what the engine connects to). */
    public String desktopHost() {
        return RFB_HOST;
    }

    /** The desktops as last published by the loop. */
    public List<Desktop> desktops() {
        return snapshot;
    }

    /** Desktops a session holds now (assigned, in use or disconnected): the agent's load, as it registers it. */
    public int desktopsHeld() {
        return (int) snapshot.stream().filter(d -> d.getState() == DesktopState.ASSIGNED || d.getState() == DesktopState.IN_USE
                || d.getState() == DesktopState.DISCONNECTED).count();
    }

    /**
     * Calls {@code listener} with every desktop at each change, on the agent's loop, in order (for
     * {@link ConcentratorLinks#desktopsChanged}, which must see every step). It must not block.
     */
    public void onDesktopsChanged(Consumer<List<Desktop>> listener) {
        listeners.add(listener);
    }

    /**
     * As {@link #onDesktopsChanged}, but first calls {@code listener} with the desktops as they are, on the loop,
     * so that it misses no change between reading them and subscribing (for {@link ConcentratorLinks}, started
     * with an earlier reading: every list it is given is at least as new).
     */
    public void watchDesktops(Consumer<List<Desktop>> listener) {
        post(() -> {
            listeners.add(listener);
            listener.accept(snapshot);
        });
    }

    /**
     * Waits until every desktop is up: none STARTING or UNHEALTHY (after {@link #start}, all are then
     * AVAILABLE). False if that did not happen within {@code timeout} or the agent was closed.
     */
    public boolean awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (stateChanged) {
            while (snapshot.stream().anyMatch(d -> d.getState() == DesktopState.STARTING
                    || d.getState() == DesktopState.UNHEALTHY)) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || closed) return false;
                try {
                    TimeUnit.NANOSECONDS.timedWait(stateChanged, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    Reply initiateSession(String desktopId, String sessionId, int tenant, String user) {
        return initiateSession(desktopId, DesktopLifecycle.ANY_VERSION, sessionId, tenant, user);
    }

    /** A compare-and-set on the desktop's version ({@link DesktopLifecycle#ANY_VERSION}: unconditional). */
    Reply initiateSession(String desktopId, long expectedVersion, String sessionId, int tenant, String user) {
        return initiateSession(desktopId, expectedVersion, sessionId, tenant, user, false);
    }

    /** As above; {@code dedicate}: the desktop's pool is persistent ({@link DesktopLifecycle#initiate}). */
    Reply initiateSession(String desktopId, long expectedVersion, String sessionId, int tenant, String user, boolean dedicate) {
        return onLoop(() -> {
            Outcome outcome = core.initiate(desktopId, expectedVersion, sessionId, tenant, user, dedicate, System.nanoTime());
            String password = "";
            if (outcome instanceof Accepted a) {
                if (a.issuesPassword()) password = issuePassword(a.index());
                perform(a.actions());
                LOG.info("desktop {} assigned to session {}", desktopId, sessionId);
            }
            publish();
            return new Reply(outcome, password);
        });
    }

    Reply sessionStarted(String desktopId, String sessionId) {
        return onLoop(() -> {
            Outcome outcome = core.sessionStarted(desktopId, sessionId, System.nanoTime());
            if (outcome instanceof Accepted a) perform(a.actions());
            publish();
            return new Reply(outcome, "");
        });
    }

    Reply endSession(String desktopId, String sessionId) {
        return endSession(desktopId, sessionId, false);
    }

    /** As above; {@code keep}: the pool keeps desktops at logout ({@link DesktopLifecycle#endSession}). */
    Reply endSession(String desktopId, String sessionId, boolean keep) {
        return onLoop(() -> {
            Outcome outcome = core.endSession(desktopId, sessionId, keep, System.nanoTime());
            if (outcome instanceof Accepted a) {
                if (a.actions().stream().anyMatch(x -> x instanceof Launch)) {
                    LOG.info("desktop {} session {} ended: resetting", desktopId, sessionId);
                } else if (!a.actions().isEmpty()) {
                    LOG.info("desktop {} session {} ended: kept for its user", desktopId, sessionId);
                }
                perform(a.actions());
            }
            publish();
            return new Reply(outcome, "");
        });
    }

    /** Releases the user {@code (tenant, user)} on every desktop ({@link DesktopLifecycle#releaseUser}); how many. */
    int releaseUser(int tenant, String user) {
        return onLoop(() -> {
            DesktopLifecycle.Released r = core.releaseUser(tenant, user, System.nanoTime());
            perform(r.actions());
            publish();
            if (r.desktops() > 0) LOG.info("agent {}: released {} desktop(s) of a user removed or revoked", config.agentId(), r.desktops());
            return r.desktops();
        });
    }

    private <T> T onLoop(Supplier<T> task) {
        try {
            return CompletableFuture.supplyAsync(task, loop).get(LOOP_CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            throw new IllegalStateException("agent " + config.agentId() + " is closed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("agent loop failed: " + e, e);
        }
    }

    /** On the loop. */
    private String issuePassword(int index) {
        try {
            return launcher.issuePassword(index);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the password file of desktop " + (index + 1), e);
        }
    }

    /** On the loop: carries out the core's actions. */
    private void perform(List<Action> actions) {
        for (Action action : actions) {
            switch (action) {
                case Launch(int index, long generation) -> launch(index, generation);
                case ScramblePassword(int index) -> {
                    try {
                        launcher.scramblePassword(index);
                    } catch (IOException e) {
                        LOG.error("desktop {}/{}: cannot replace the one-time password: {}",
                                config.agentId(), index + 1, e.getMessage());
                    }
                }
            }
        }
        publish();
    }

    /** On the loop: stops what runs for the desktop, then launches generation {@code generation}. */
    private void launch(int index, long generation) {
        RunningDesktop old = running.remove(index);
        if (closed) return;
        processWork.execute(() -> {
            if (old != null) stopDesktop(old);
            if (closed) return;
            try {
                RunningDesktop desktop = launcher.launch(index);
                live.add(desktop);
                if (closed) {
                    stopDesktop(desktop);
                    return;
                }
                post(() -> launched(index, generation, desktop));
            } catch (DesktopLauncher.SessionProgramExited e) {
                if (closed) return;
                metrics.error("unhealthy");
                LOG.error("desktop {}/{} unhealthy: {}", config.agentId(), index + 1, e.getMessage());
                post(() -> perform(core.onLaunchFailed(index, generation, System.nanoTime())));
            } catch (IOException e) {
                if (closed) return;
                metrics.error("launch_failed");
                LOG.error("desktop {}/{} failed to launch: {}", config.agentId(), index + 1, e.getMessage());
                post(() -> perform(core.onLaunchFailed(index, generation, System.nanoTime())));
            }
        });
    }

    /** On the loop. */
    private void launched(int index, long generation, RunningDesktop desktop) {
        if (!core.isCurrent(index, generation)) {
            processWork.execute(() -> stopDesktop(desktop));
            return;
        }
        running.put(index, desktop);
        desktop.xvnc().onExit().thenRun(() -> post(() -> exited(index, generation, desktop)));
        perform(core.onLaunched(index, generation, RFB_HOST, desktop.rfbPort(), System.nanoTime()));
    }

    /** On the loop: Xvnc exited; unexpected unless we replaced or stopped this desktop already. */
    private void exited(int index, long generation, RunningDesktop desktop) {
        if (running.get(index) != desktop) return;
        running.remove(index);
        metrics.error("xvnc_exited");
        LOG.warn("desktop {}/{}: Xvnc (pid {}) exited unexpectedly with status {}; restarting after backoff",
                config.agentId(), index + 1, desktop.xvnc().pid(), desktop.xvnc().exitValue());
        processWork.execute(() -> stopDesktop(desktop));
        perform(core.onExited(index, generation, System.nanoTime()));
        if (core.gaveUp(index)) {
            LOG.error("desktop {}/{} failed too often in a row: left UNHEALTHY", config.agentId(), index + 1);
        }
    }

    /** On the loop, every {@link #TICK}. */
    private void tick() {
        try {
            long now = System.nanoTime();
            if (++ticks % VIEWER_PROBE_TICKS == 0) probeViewers(now);
            perform(core.tick(now));
        } catch (RuntimeException e) {
            metrics.error("tick_failed");
            LOG.error("agent {} tick failed", config.agentId(), e);
        }
    }

    /** On the loop: tells the core how many connections each IN_USE desktop's RFB port has. */
    private void probeViewers(long now) {
        String tables = null;
        for (Map.Entry<Integer, RunningDesktop> e : running.entrySet()) {
            if (core.state(e.getKey()) != DesktopState.IN_USE) continue;
            if (tables == null) tables = RfbViewerCount.readTables();
            if (tables.isEmpty()) return;
            core.onViewerCount(e.getKey(), RfbViewerCount.count(tables, e.getValue().rfbPort()), now);
        }
    }

    private void stopDesktop(RunningDesktop desktop) {
        launcher.stop(desktop);
        live.remove(desktop);
    }

    private void post(Runnable event) {
        try {
            loop.execute(event);
        } catch (RejectedExecutionException e) {
            // Closed: close() stops whatever is left.
        }
    }

    private void publish() {
        List<Desktop> now = core.desktops();
        if (now.equals(snapshot)) return;
        snapshot = now;
        for (Consumer<List<Desktop>> l : listeners) l.accept(now);
        synchronized (stateChanged) {
            stateChanged.notifyAll();
        }
    }

    /**
     * Stops the gRPC server and every process the agent started (session programs, Xvnc and their
     * descendants), and removes the X locks they left. Idempotent.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (server != null) server.shutdownNow();
        loop.shutdownNow();
        processWork.shutdownNow();
        try {
            if (!processWork.awaitTermination(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("agent {}: desktop launches still running after {}", config.agentId(), CLOSE_TIMEOUT);
            }
            loop.awaitTermination(1, TimeUnit.SECONDS);
            if (server != null) server.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (RunningDesktop desktop : List.copyOf(live)) stopDesktop(desktop);
        launcher.releaseUsers();
        synchronized (stateChanged) {
            stateChanged.notifyAll();
        }
        LOG.info("agent {} closed", config.agentId());
    }
}
