package io.deskgate.frontdoor;

import io.deskgate.store.PortalSessionStore.LiveLogin;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Optional;
import java.util.UUID;

/**
 * One frontdoor's cache of live logins (portal sessions with their user and tenant), kept correct across
 * frontdoors by the store's notifications ({@link io.deskgate.store.PortalSessionNotifications}). Pure: events
 * in (notifications, store reads), answers out; time is an input ({@code nowNs} for ages and lags, {@code now}
 * for the sessions' wall-clock expiry). Not thread-safe: {@link LiveLogins} serialises the calls.
 *
 * <p>An entry is served only while the cache is <em>trusted</em>: {@code LISTEN} is in effect and the listener's
 * last ping that came back was sent at most {@link Limits#maxLag} ago, so every revocation committed before then
 * has been applied. A lost listener empties the cache; while it is not trusted every lookup goes to the store.
 * An entry is also never served past {@link Limits#maxAge} after it was read, nor at or past its session's
 * expiry. A store read is cached only when no invalidation happened since it began ({@link #readToken}), and
 * only when {@code LISTEN} was in effect when it began: a revocation committed after the read's snapshot is then
 * sure to be notified, and one committed before it is seen by the read.
 */
final class PortalSessionCache {
    /** {@link #readToken()} while not listening: the read is answered but not cached. */
    static final long NO_TOKEN = -1;

    /**
     * @param maxAge     an entry is read again from the store at most this long after it was read
     * @param maxLag     the cache is trusted while the listener's last returned ping was sent at most this long ago
     * @param maxEntries beyond this many entries the oldest is dropped
     */
    record Limits(Duration maxAge, Duration maxLag, int maxEntries) {
        static final Limits DEFAULT = new Limits(Duration.ofSeconds(30), Duration.ofSeconds(2), 100_000);

        Limits {
            if (maxAge.isNegative() || maxAge.isZero()) throw new IllegalArgumentException("maxAge must be positive");
            if (maxLag.isNegative() || maxLag.isZero()) throw new IllegalArgumentException("maxLag must be positive");
            if (maxEntries < 1) throw new IllegalArgumentException("maxEntries must be at least 1");
        }
    }

    private record Entry(LiveLogin login, long readNs) {}

    private final Limits limits;
    private final LinkedHashMap<UUID, Entry> entries = new LinkedHashMap<>();
    private boolean listening;
    private boolean caughtUp;
    private long caughtUpSentNs;
    /** Advances at every invalidation; a store read that began at another generation is not cached. */
    private long generation;

    PortalSessionCache(Limits limits) {
        this.limits = limits;
    }

    /**
     * The cached live login of portal session {@code id} of {@code username} in {@code tenant}; empty when it is not
     * cached, too old, expired at {@code now}, another user's, or while the cache is not trusted (then ask the store).
     */
    Optional<LiveLogin> get(UUID id, int tenant, String username, Instant now, long nowNs) {
        if (!trusted(nowNs)) return Optional.empty();
        Entry e = entries.get(id);
        if (e == null) return Optional.empty();
        if (nowNs - e.readNs() >= limits.maxAge().toNanos() || !now.isBefore(e.login().expiresAt())) {
            entries.remove(id);
            return Optional.empty();
        }
        if (e.login().user().tenant() != tenant || !e.login().user().username().equals(username)) return Optional.empty();
        return Optional.of(e.login());
    }

    /** Taken just before a store read; hand it to {@link #put} with the read's result. */
    long readToken() { return listening ? generation : NO_TOKEN; }

    /**
     * Caches a live login read from the store at {@code readNs} (when its {@link #readToken} was taken); ignored
     * when an invalidation happened since, or the read began while not listening. Returns whether it was cached.
     */
    boolean put(LiveLogin login, long token, long readNs) {
        if (token == NO_TOKEN || token != generation || !listening) return false;
        entries.put(login.sessionId(), new Entry(login, readNs));
        if (entries.size() > limits.maxEntries()) {
            Iterator<UUID> oldest = entries.keySet().iterator();
            oldest.next();
            oldest.remove();
        }
        return true;
    }

    /** {@code LISTEN} is in effect (again). Trust waits for the first ping to come back. */
    void listening() {
        listening = true;
        caughtUp = false;
        entries.clear();
        generation++;
    }

    /** Every notification committed before {@code sentNs} has been applied. */
    void caughtUp(long sentNs) {
        if (!listening) return;
        if (!caughtUp || sentNs - caughtUpSentNs > 0) caughtUpSentNs = sentNs;
        caughtUp = true;
    }

    /** Portal session {@code id} changed: drop it. */
    void revoked(UUID id) {
        entries.remove(id);
        generation++;
    }

    /** Anything may have changed: drop everything. */
    void flushAll() {
        entries.clear();
        generation++;
    }

    /** The listener lost its connection: notifications may be missed from now on, so drop everything and trust nothing. */
    void lost() {
        listening = false;
        caughtUp = false;
        entries.clear();
        generation++;
    }

    /** Whether cached entries may be served at {@code nowNs}. */
    boolean trusted(long nowNs) {
        return listening && caughtUp && nowNs - caughtUpSentNs <= limits.maxLag().toNanos();
    }

    int size() { return entries.size(); }
}
