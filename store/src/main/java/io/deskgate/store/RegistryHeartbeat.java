package io.deskgate.store;

import io.deskgate.common.RateLimitedLog;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one role instance's registry row alive (the edge around {@link RegistryStore}; the role itself
 * holds no JDBC): registers at start, then every {@link RegistryTiming#interval()} heartbeats with the load
 * the role reports, registers again when its row vanished, and keeps trying through a store outage (one
 * line when the store is lost, one when it is back). {@link #close()} stops the heartbeats and deregisters.
 * One scheduler thread per instance; {@code load} is called on it and must be cheap and thread-safe.
 */
public final class RegistryHeartbeat implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RegistryHeartbeat.class);

    private final RegistryStore store;
    private final Registration registration;
    private final IntSupplier load;
    private final RegistryTiming timing;
    private final ScheduledExecutorService thread;
    private final RateLimitedLog rateLimited = new RateLimitedLog(log);
    /** Touched by the scheduler thread only (and by {@link #start} before it runs). */
    private boolean registered;
    private volatile boolean storeLost;

    private RegistryHeartbeat(RegistryStore store, Registration registration, IntSupplier load, RegistryTiming timing) {
        this.store = store;
        this.registration = registration;
        this.load = load;
        this.timing = timing;
        String name = "registry-heartbeat-" + registration.role().sqlName() + "-" + registration.id();
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Registers {@code registration} and starts heartbeating. When another incarnation holds the id, waits
     * up to one timeout (plus an interval) for its row to time out: that is how a process restarted after a
     * crash takes its id back, while a second live process with the same id is refused. A store that does
     * not answer does not fail the start: the registration is retried at every interval.
     *
     * @param load the role's current load (sessions or instances held now), at least 0
     * @throws RegistryConflict when another running instance keeps heartbeating under the id (nothing is started)
     */
    public static RegistryHeartbeat start(RegistryStore store, Registration registration, IntSupplier load,
                                          RegistryTiming timing) {
        RegistryHeartbeat h = new RegistryHeartbeat(store, registration, load, timing);
        long deadline = System.nanoTime() + timing.timeout().plus(timing.interval()).toNanos();
        boolean waited = false;
        while (true) {
            try {
                store.register(registration, timing.timeout());
                h.registered = true;
                store.heartbeat(registration, h.currentLoad()); // a fresh row tells its true load at once
                log.info("registered {} {} in the registry", registration.role().sqlName(), registration.id());
                break;
            } catch (RegistryConflict e) {
                if (System.nanoTime() > deadline) {
                    h.thread.shutdownNow();
                    throw e;
                }
                if (!waited) {
                    waited = true;
                    log.info("{} {} is held by another start; waiting up to {} ms for it to time out",
                            registration.role().sqlName(), registration.id(), timing.timeout().plus(timing.interval()).toMillis());
                }
                pause(timing);
            } catch (RuntimeException e) {
                h.lost(e);
                break;
            }
        }
        long every = timing.interval().toMillis();
        h.thread.scheduleWithFixedDelay(h::beat, every, every, TimeUnit.MILLISECONDS);
        return h;
    }

    private static void pause(RegistryTiming timing) {
        try {
            Thread.sleep(timing.interval());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the registry id", e);
        }
    }

    public Registration registration() { return registration; }

    /** Whether the last attempt to reach the store failed (for diagnostics and tests). */
    boolean storeLost() { return storeLost; }

    /** The role's load now; 0 (with a rate-limited line) when its supplier fails. */
    private int currentLoad() {
        try {
            return Math.max(0, load.getAsInt());
        } catch (RuntimeException e) {
            rateLimited.warn("load supplier failed", "{} {}: cannot read its load, reporting 0: {}",
                    registration.role().sqlName(), registration.id(), e);
            return 0;
        }
    }

    private void beat() {
        int now = currentLoad();
        try {
            if (registered && !store.heartbeat(registration, now)) {
                registered = false;
                log.info("the registry row of {} {} vanished; registering again", registration.role().sqlName(),
                        registration.id());
            }
            if (!registered) {
                store.register(registration, timing.timeout());
                registered = true;
                store.heartbeat(registration, now);
            }
            if (storeLost) {
                storeLost = false;
                log.info("registry reachable again: {} {} heartbeats", registration.role().sqlName(), registration.id());
            }
        } catch (RegistryConflict e) {
            rateLimited.warn("registry conflict", "{}", e.getMessage());
        } catch (RuntimeException e) {
            lost(e);
        }
    }

    private void lost(RuntimeException e) {
        if (!storeLost) {
            storeLost = true;
            log.warn("cannot reach the registry for {} {} ({}); retrying every {} ms", registration.role().sqlName(),
                    registration.id(), e.getMessage(), timing.interval().toMillis());
        }
    }

    /** Stops heartbeating and removes the row (best effort: a row left behind times out). */
    @Override
    public void close() {
        thread.shutdown();
        try {
            if (!thread.awaitTermination(timing.timeout().toMillis(), TimeUnit.MILLISECONDS)) thread.shutdownNow();
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
        try {
            store.deregister(registration);
        } catch (RuntimeException e) {
            log.info("could not deregister {} {} ({}); its row times out", registration.role().sqlName(),
                    registration.id(), e.getMessage());
        }
    }
}
