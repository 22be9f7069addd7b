package io.deskgate.frontdoor;

import io.deskgate.store.PortalSessionNotifications;
import io.deskgate.store.PortalSessionStore;
import io.deskgate.store.PortalSessionStore.LiveLogin;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * The live login of a request's cookie: from this frontdoor's {@link PortalSessionCache} while it is trusted,
 * else from the store (one query: session, user and tenant), cached on the way. The cache follows the store's
 * notifications ({@link PortalSessionNotifications}, started here, on a dedicated connection). Thread-safe:
 * the cache's calls are serialised on it; store reads happen outside the lock.
 */
final class LiveLogins implements PortalSessionNotifications.Listener, AutoCloseable {
    /** How often the listener pings itself to measure its lag. */
    static final Duration PING_INTERVAL = Duration.ofMillis(500);

    private final PortalSessionStore store;
    private final PortalSessionCache cache;
    private final Clock clock;
    private final LongSupplier nanoTime;
    private final Counter hits;
    private final Counter misses;
    private final Counter lostFlushes;
    private final Counter notifiedFlushes;
    private volatile PortalSessionNotifications notifications;

    LiveLogins(PortalSessionStore store, PortalSessionCache.Limits limits, Clock clock, LongSupplier nanoTime, MeterRegistry metrics) {
        this.store = store;
        this.cache = new PortalSessionCache(limits);
        this.clock = clock;
        this.nanoTime = nanoTime;
        this.hits = Counter.builder("deskgate.frontdoor.portal.cache.lookups").tag("result", "hit")
                .description("login cookies checked against this frontdoor's portal session cache").register(metrics);
        this.misses = Counter.builder("deskgate.frontdoor.portal.cache.lookups").tag("result", "miss")
                .description("login cookies checked against this frontdoor's portal session cache").register(metrics);
        this.lostFlushes = Counter.builder("deskgate.frontdoor.portal.cache.flushes").tag("reason", "listener_lost")
                .description("times the portal session cache was emptied").register(metrics);
        this.notifiedFlushes = Counter.builder("deskgate.frontdoor.portal.cache.flushes").tag("reason", "notified")
                .description("times the portal session cache was emptied").register(metrics);
        Gauge.builder("deskgate.frontdoor.portal.cache.trusted", this, l -> l.trusted() ? 1 : 0)
                .description("1 while the portal session cache is served (its listener is connected and caught up)").register(metrics);
        Gauge.builder("deskgate.frontdoor.portal.cache.entries", this, LiveLogins::size)
                .description("portal sessions in this frontdoor's cache").register(metrics);
    }

    /** Starts following the store's notifications through {@code connector}. */
    void listen(PortalSessionNotifications.Connector connector) {
        notifications = PortalSessionNotifications.start(connector, this, PING_INTERVAL, nanoTime);
    }

    /** The listening connection's {@code application_name}; empty before {@link #listen}. */
    Optional<String> listenerName() {
        return Optional.ofNullable(notifications).map(PortalSessionNotifications::applicationName);
    }

    /** The live login of portal session {@code id} of {@code username} in {@code tenant}, or empty (401). */
    Optional<LiveLogin> find(UUID id, int tenant, String username) {
        long token;
        synchronized (cache) {
            Optional<LiveLogin> cached = cache.get(id, tenant, username, clock.instant(), nanoTime.getAsLong());
            if (cached.isPresent()) {
                hits.increment();
                return cached;
            }
            token = cache.readToken();
        }
        misses.increment();
        long readNs = nanoTime.getAsLong();
        Optional<LiveLogin> read = store.findLive(id, tenant, username, clock.instant());
        if (read.isPresent()) {
            synchronized (cache) {
                cache.put(read.get(), token, readNs);
            }
        }
        return read;
    }

    boolean trusted() {
        synchronized (cache) {
            return cache.trusted(nanoTime.getAsLong());
        }
    }

    int size() {
        synchronized (cache) {
            return cache.size();
        }
    }

    @Override public void listening() {
        synchronized (cache) {
            cache.listening();
        }
    }

    /**
     * Portal session {@code id} was revoked by this frontdoor (a logout): dropped here at once, without waiting for
     * the store's notification, so this frontdoor refuses the cookie on its very next call.
     */
    void revokedHere(UUID id) {
        revoked(id);
    }

    /** A user was removed by this frontdoor: every cached login is dropped here at once (the store notifies the others). */
    void flushAllHere() {
        synchronized (cache) {
            cache.flushAll();
        }
    }

    @Override public void revoked(UUID id) {
        synchronized (cache) {
            cache.revoked(id);
        }
    }

    @Override public void flushAll() {
        synchronized (cache) {
            cache.flushAll();
        }
        notifiedFlushes.increment();
    }

    @Override public void caughtUp(long sentNs) {
        synchronized (cache) {
            cache.caughtUp(sentNs);
        }
    }

    @Override public void lost(String reason) {
        synchronized (cache) {
            cache.lost();
        }
        lostFlushes.increment();
    }

    @Override
    public void close() {
        PortalSessionNotifications n = notifications;
        if (n != null) n.close();
    }
}
