package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.store.PortalSessionStore.LiveLogin;
import io.deskgate.store.User;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The portal session cache's rules, on a fake clock: what is served, what goes to the store, what is never cached. */
class PortalSessionCacheTest {
    static final long SECOND = 1_000_000_000L;
    static final PortalSessionCache.Limits LIMITS = new PortalSessionCache.Limits(Duration.ofSeconds(30), Duration.ofSeconds(2), 3);
    static final Instant T0 = Instant.parse("2026-12-01T12:00:00Z");

    PortalSessionCache cache;
    long nowNs = 1_000 * SECOND;

    @BeforeEach
    void trustedCache() {
        cache = new PortalSessionCache(LIMITS);
        cache.listening();
        cache.caughtUp(nowNs);
    }

    static LiveLogin login(UUID id, String user, Instant expiresAt) {
        return new LiveLogin(id, new User(7, 1, user, "$argon2id$x", false, T0), "default", expiresAt, java.util.List.of());
    }

    /** A store read as LiveLogins does it: token, read, put. */
    boolean read(LiveLogin l) {
        long token = cache.readToken();
        return cache.put(l, token, nowNs);
    }

    Instant wall() { return T0.plusNanos(nowNs - 1_000 * SECOND); }

    @Test
    void shouldServeAReadLoginWhileTrustedAndOnlyToItsOwnUser() {
        UUID id = UUID.randomUUID();
        assertThat(cache.get(id, 1, "alice", wall(), nowNs)).isEmpty();
        assertThat(read(login(id, "alice", T0.plusSeconds(3600)))).isTrue();
        assertThat(cache.get(id, 1, "alice", wall(), nowNs)).map(LiveLogin::sessionId).contains(id);
        assertThat(cache.get(id, 1, "mallory", wall(), nowNs)).as("another user's name on the same id").isEmpty();
        assertThat(cache.get(id, 2, "alice", wall(), nowNs)).as("another tenant").isEmpty();
    }

    @Test
    void shouldDropARevokedSessionAndNotCacheAReadThatARevocationOvertook() {
        UUID id = UUID.randomUUID();
        read(login(id, "alice", T0.plusSeconds(3600)));
        cache.revoked(id);
        assertThat(cache.get(id, 1, "alice", wall(), nowNs)).isEmpty();

        long token = cache.readToken();          // a read begins...
        cache.revoked(UUID.randomUUID());        // ...any invalidation lands before it is cached...
        assertThat(cache.put(login(id, "alice", T0.plusSeconds(3600)), token, nowNs)).as("stale read").isFalse();
        assertThat(cache.get(id, 1, "alice", wall(), nowNs)).isEmpty();
    }

    @Test
    void shouldFlushAndStopServingWhenTheListenerIsLostAndNotCacheReadsBegunWhileNotListening() {
        UUID id = UUID.randomUUID();
        read(login(id, "alice", T0.plusSeconds(3600)));
        cache.lost();
        assertThat(cache.size()).isZero();
        assertThat(cache.trusted(nowNs)).isFalse();
        long token = cache.readToken();
        assertThat(token).isEqualTo(PortalSessionCache.NO_TOKEN);
        cache.listening();                       // back, but this read began before LISTEN was in effect
        assertThat(cache.put(login(id, "alice", T0.plusSeconds(3600)), token, nowNs)).isFalse();

        assertThat(read(login(id, "alice", T0.plusSeconds(3600)))).as("a read begun while listening").isTrue();
        assertThat(cache.get(id, 1, "alice", wall(), nowNs)).as("not served before a ping came back").isEmpty();
        cache.caughtUp(nowNs);
        assertThat(cache.get(id, 1, "alice", wall(), nowNs)).isPresent();
    }

    @Test
    void shouldStopServingWhileTheListenerLagsAndServeAgainOnceCaughtUp() {
        UUID id = UUID.randomUUID();
        read(login(id, "alice", T0.plusSeconds(3600)));
        nowNs += 2 * SECOND;
        assertThat(cache.get(id, 1, "alice", wall(), nowNs)).as("at the lag bound").isPresent();
        nowNs += 1;
        assertThat(cache.trusted(nowNs)).isFalse();
        assertThat(cache.get(id, 1, "alice", wall(), nowNs)).as("past the lag bound").isEmpty();
        cache.caughtUp(nowNs - SECOND / 2);
        assertThat(cache.get(id, 1, "alice", wall(), nowNs)).isPresent();
        cache.caughtUp(nowNs - 10 * SECOND);     // an older ping cannot move the mark back
        assertThat(cache.trusted(nowNs)).isTrue();
    }

    @Test
    void shouldRefuseAnExpiredSessionAndReadAgainPastTheMaximumAge() {
        UUID shortLived = UUID.randomUUID();
        UUID longLived = UUID.randomUUID();
        read(login(shortLived, "alice", wall().plusSeconds(5)));
        read(login(longLived, "bob", wall().plusSeconds(3600)));
        nowNs += 5 * SECOND;
        cache.caughtUp(nowNs);
        assertThat(cache.get(shortLived, 1, "alice", wall(), nowNs)).as("at its expiry").isEmpty();
        assertThat(cache.get(longLived, 1, "bob", wall(), nowNs)).isPresent();
        nowNs += 25 * SECOND;
        cache.caughtUp(nowNs);
        assertThat(cache.get(longLived, 1, "bob", wall(), nowNs)).as("30 s after it was read").isEmpty();
        assertThat(cache.size()).isZero();
    }

    @Test
    void shouldDropEverythingOnAFlushAndTheOldestBeyondTheLimit() {
        UUID[] ids = {UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID()};
        for (UUID id : ids) read(login(id, "alice", T0.plusSeconds(3600)));
        assertThat(cache.size()).isEqualTo(3);
        assertThat(cache.get(ids[0], 1, "alice", wall(), nowNs)).as("the oldest went").isEmpty();
        assertThat(cache.get(ids[3], 1, "alice", wall(), nowNs)).isPresent();
        cache.flushAll();
        assertThat(cache.size()).isZero();
        assertThat(cache.get(ids[3], 1, "alice", wall(), nowNs)).isEmpty();
    }
}
