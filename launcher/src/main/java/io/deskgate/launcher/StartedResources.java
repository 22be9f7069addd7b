package io.deskgate.launcher;

import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code up} (one JVM, or {@code --cluster}) started, stopped in reverse start order; and what it does when
 * its embedded PostgreSQL is lost for good. Thread-safe; {@link #close} never throws.
 */
final class StartedResources implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StartedResources.class);

    private final Deque<AutoCloseable> started = new ArrayDeque<>();

    /** Remembers {@code resource} to close before everything started earlier; returns it. */
    synchronized <T extends AutoCloseable> T own(T resource) {
        started.push(resource);
        return resource;
    }

    /** Closes everything owned, the last first; a failure is one warning line, and the rest are still closed. */
    @Override
    public synchronized void close() {
        while (!started.isEmpty()) {
            AutoCloseable c = started.pop();
            try {
                c.close();
            } catch (Exception e) {
                log.warn("stopping {} failed: {}", c.getClass().getSimpleName(), e.toString());
            }
        }
    }

    /**
     * The store is gone for good: one clear line, {@code everything} stopped, and the JVM exits with status 1 (the
     * embedded PostgreSQL's supervisor calls this from its own thread).
     */
    static void postgresLost(String reason, AutoCloseable everything) {
        System.err.println("deskgate: PostgreSQL stopped and could not be restarted: " + reason);
        System.err.flush();
        try {
            everything.close();
        } catch (Exception e) {
            log.warn("stopping failed: {}", e.toString());
        }
        Runtime.getRuntime().exit(1);
    }
}
