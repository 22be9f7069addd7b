package io.deskgate.store;

import io.deskgate.common.RateLimitedLog;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listens on channel {@value #CHANNEL} (migration V9: a trigger notifies every change that can end a portal
 * session, in the transaction of the change) on one dedicated connection, and hands what it hears to a
 * {@link Listener} on its own thread. Every {@code pingInterval} it notifies the channel itself with
 * {@code ping:<listener id>:<nanoTime>}; notifications arrive in commit order, so hearing its own ping back means
 * every notification committed before that ping was sent has been handed over ({@link Listener#caughtUp}). When
 * the connection fails or is closed under it, {@link Listener#lost} is called and it reconnects (backing off up
 * to {@link #MAX_BACKOFF}); {@link Listener#listening} is called each time {@code LISTEN} is in effect again.
 * Thread-safe; {@link #close()} stops the thread and closes the connection.
 */
public final class PortalSessionNotifications implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PortalSessionNotifications.class);
    public static final String CHANNEL = "deskgate_portal_sessions";
    /** The prefix of the listening connection's {@code application_name}. */
    public static final String APPLICATION_NAME_PREFIX = "deskgate-portal-listen-";
    static final Duration MIN_BACKOFF = Duration.ofMillis(100);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    /** What the notifications say; called on the listener's thread, one call at a time. */
    public interface Listener {
        /** {@code LISTEN} is in effect on a fresh connection: every notification committed from now on arrives. */
        void listening();

        /** Portal session {@code id} changed (was revoked). */
        void revoked(UUID id);

        /** Anything may have changed: forget every portal session. */
        void flushAll();

        /** Every notification committed before {@code sentNs} (on the listener's clock) has been handed over. */
        void caughtUp(long sentNs);

        /**
         * The connection is lost: notifications from now on may be missed until {@link #listening} again. Called once
         * per loss of a connection that was listening (not again for each failed reconnection).
         */
        void lost(String reason);
    }

    /** Opens the dedicated connection ({@link Database#dedicatedConnection}). */
    @FunctionalInterface
    public interface Connector {
        Connection open(String applicationName) throws SQLException;
    }

    private final Connector connector;
    private final Listener listener;
    private final Duration pingInterval;
    private final LongSupplier nanoTime;
    private final String id = UUID.randomUUID().toString().substring(0, 8);
    private final String pingPrefix = "ping:" + id + ":";
    private final CountDownLatch closed = new CountDownLatch(1);
    private final RateLimitedLog rateLimited = new RateLimitedLog(log);
    private final Thread thread;
    private volatile Connection current;

    private PortalSessionNotifications(Connector connector, Listener listener, Duration pingInterval, LongSupplier nanoTime) {
        this.connector = connector;
        this.listener = listener;
        this.pingInterval = pingInterval;
        this.nanoTime = nanoTime;
        this.thread = new Thread(this::run, "portal-session-listen");
        thread.setDaemon(true);
    }

    /** Starts listening (connecting on the new thread; a store that is down now is retried). */
    public static PortalSessionNotifications start(Connector connector, Listener listener, Duration pingInterval,
                                                   LongSupplier nanoTime) {
        Objects.requireNonNull(connector, "connector");
        Objects.requireNonNull(listener, "listener");
        if (pingInterval.isNegative() || pingInterval.isZero()) throw new IllegalArgumentException("ping interval must be positive");
        PortalSessionNotifications n = new PortalSessionNotifications(connector, listener, pingInterval, Objects.requireNonNull(nanoTime));
        n.thread.start();
        return n;
    }

    /** The listening connection's {@code application_name} (in {@code pg_stat_activity}). */
    public String applicationName() { return APPLICATION_NAME_PREFIX + id; }

    private void run() {
        Duration backoff = MIN_BACKOFF;
        boolean wasListening = false;
        while (closed.getCount() > 0) {
            try (Connection c = connector.open(applicationName())) {
                current = c;
                if (closed.getCount() == 0) return;
                try (Statement st = c.createStatement()) {
                    st.execute("LISTEN " + CHANNEL);
                }
                listener.listening();
                wasListening = true;
                backoff = MIN_BACKOFF;
                listen(c);
            } catch (SQLException | RuntimeException e) {
                if (closed.getCount() == 0) return;
                String reason = e.getClass().getSimpleName() + (e instanceof SQLException s ? " (SQL state " + s.getSQLState() + ")" : "");
                // Once per outage: the retries while the store stays unreachable lose nothing more.
                if (wasListening) listener.lost(reason);
                wasListening = false;
                rateLimited.warn("lost", "portal session notifications lost ({}); the frontdoor asks the store until they are back", reason);
            } finally {
                current = null;
            }
            try {
                if (closed.await(backoff.toMillis(), TimeUnit.MILLISECONDS)) return;
            } catch (InterruptedException e) {
                return;
            }
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
    }

    private void listen(Connection c) throws SQLException {
        PGConnection pg = c.unwrap(PGConnection.class);
        long intervalNs = pingInterval.toNanos();
        long nextPing = nanoTime.getAsLong();
        try (PreparedStatement ping = c.prepareStatement("SELECT pg_notify(?, ?)")) {
            while (closed.getCount() > 0) {
                long now = nanoTime.getAsLong();
                if (now - nextPing >= 0) {
                    ping.setString(1, CHANNEL);
                    ping.setString(2, pingPrefix + now);
                    ping.execute();
                    nextPing = now + intervalNs;
                }
                int waitMs = (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(nextPing - nanoTime.getAsLong()));
                PGNotification[] heard = pg.getNotifications(waitMs);
                if (heard == null) continue;
                for (PGNotification n : heard) {
                    if (CHANNEL.equals(n.getName())) dispatch(n.getParameter());
                }
            }
        }
    }

    private void dispatch(String payload) {
        if (payload.startsWith("s:")) {
            try {
                listener.revoked(UUID.fromString(payload.substring(2)));
            } catch (IllegalArgumentException e) {
                rateLimited.warn("payload", "portal session notification with a malformed id: forgetting every portal session");
                listener.flushAll();
            }
        } else if (payload.equals("flush")) {
            listener.flushAll();
        } else if (payload.startsWith(pingPrefix)) {
            try {
                listener.caughtUp(Long.parseLong(payload.substring(pingPrefix.length())));
            } catch (NumberFormatException e) {
                rateLimited.warn("payload", "malformed ping on the portal session channel: ignored");
            }
        } else if (!payload.startsWith("ping:")) {
            // Another frontdoor's ping is nothing to us; anything else is a change this version does not know.
            rateLimited.warn("payload", "unknown portal session notification: forgetting every portal session");
            listener.flushAll();
        }
    }

    @Override
    public void close() {
        closed.countDown();
        try {
            thread.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Connection c = current;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                log.debug("closing the portal session listener's connection: {}", e.toString());
            }
        }
    }
}
