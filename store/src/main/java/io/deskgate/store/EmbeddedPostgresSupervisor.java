package io.deskgate.store;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the embedded PostgreSQL running: a watchdog thread checks twice a second that the postmaster
 * (the pid in {@code postmaster.pid}) is alive, and when it is gone restarts it with {@code pg_ctl} on the
 * same port and data directory, backing off between failed tries ({@link RestartBackoff}). When every try
 * failed it calls {@code onGiveUp} once with a short reason and stops watching. The pool reconnects by
 * itself once the server is back.
 */
final class EmbeddedPostgresSupervisor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresSupervisor.class);
    static final Duration CHECK_EVERY = Duration.ofMillis(500);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);

    /** What a restart needs: the binaries, the data directory, the port and the server options. */
    record Server(Path pgCtl, Path pgDir, int port, Map<String, String> config, Path logFile) {
        Server {
            config = Map.copyOf(config);
        }
    }

    private final Server server;
    private final RestartBackoff backoff;
    private final Consumer<String> onGiveUp;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Thread watchdog;
    private volatile ProcessHandle postmaster;
    private volatile boolean up = true;

    private EmbeddedPostgresSupervisor(Server server, ProcessHandle postmaster, RestartBackoff backoff, Consumer<String> onGiveUp) {
        this.server = server;
        this.postmaster = postmaster;
        this.backoff = backoff;
        this.onGiveUp = onGiveUp;
        this.watchdog = Thread.ofPlatform().daemon().name("deskgate-pg-watchdog").unstarted(this::watch);
    }

    /** Starts watching the server that runs now on {@code server.pgDir()}. */
    static EmbeddedPostgresSupervisor watch(Server server, RestartBackoff backoff, Consumer<String> onGiveUp) throws IOException {
        ProcessHandle pm = Postmaster.running(server.pgDir())
                .orElseThrow(() -> new IOException("no running postmaster found in " + server.pgDir()));
        EmbeddedPostgresSupervisor s = new EmbeddedPostgresSupervisor(server, pm, backoff, onGiveUp);
        s.watchdog.start();
        return s;
    }

    /** False while the server is gone and being restarted, or after giving up. */
    boolean up() { return up; }

    /** The postmaster being watched. */
    ProcessHandle postmaster() { return postmaster; }

    private void watch() {
        while (!awaitClosed(CHECK_EVERY)) {
            if (Postmaster.alive(postmaster)) continue;
            up = false;
            // A shutdown hook (zonky's own, or the platform's) stopped it: restarting would outlive the JVM.
            if (jvmShuttingDown()) return;
            log.warn("embedded PostgreSQL (pid {}) stopped; restarting it on port {}", postmaster.pid(), server.port());
            Optional<String> failure = restart();
            if (failure.isPresent()) {
                if (closed.getCount() == 0 || jvmShuttingDown()) return;
                log.error("embedded PostgreSQL could not be restarted: {}", failure.get());
                onGiveUp.accept(failure.get());
                return;
            }
            up = true;
        }
    }

    /** Empty when the server runs again; else the last try's reason. */
    private Optional<String> restart() {
        String reason = "no restart tried";
        for (int attempt = 1; ; attempt++) {
            Optional<Duration> delay = backoff.delayBefore(attempt);
            if (delay.isEmpty() || awaitClosed(delay.get())) return Optional.of(reason);
            if (jvmShuttingDown()) return Optional.of("the JVM is shutting down");
            long logFrom = logSize();
            try {
                // Backends of the killed server may linger for a moment and keep its shared memory in use.
                Postmaster.running(server.pgDir()).ifPresent(old -> Postmaster.stop(old, STOP_GRACE));
                Postmaster.start(server.pgCtl(), server.pgDir(), server.port(), server.config(), server.logFile(), START_TIMEOUT);
                Optional<ProcessHandle> pm = Postmaster.running(server.pgDir());
                if (pm.isPresent()) {
                    postmaster = pm.get();
                    log.info("embedded PostgreSQL restarted (pid {}, try {})", postmaster.pid(), attempt);
                    return Optional.empty();
                }
                reason = "it started but no postmaster runs in " + server.pgDir();
            } catch (IOException e) {
                String pg = Postmaster.reason(server.logFile(), logFrom);
                reason = e.getMessage() + (pg.isEmpty() ? "" : ": " + pg);
            }
            log.warn("restarting embedded PostgreSQL failed (try {} of {}): {}", attempt, backoff.attempts(), reason);
        }
    }

    private long logSize() {
        try {
            return java.nio.file.Files.size(server.logFile());
        } catch (IOException e) {
            return 0;
        }
    }

    private static boolean jvmShuttingDown() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }

    private boolean awaitClosed(Duration d) {
        try {
            return closed.await(d.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    /** Stops watching (the server itself is stopped by its owner). Safe from the {@code onGiveUp} callback. */
    @Override
    public void close() {
        closed.countDown();
        if (Thread.currentThread() != watchdog) {
            try {
                watchdog.join(START_TIMEOUT.plus(STOP_GRACE.multipliedBy(2)).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
