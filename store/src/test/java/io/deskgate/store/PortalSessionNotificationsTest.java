package io.deskgate.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.testkit.Conditions;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Migration V9's triggers and the listener: every change that can end a cached login is notified (a revocation by
 * id; purged rows and user changes as a flush), the listener's own pings come back, and findLive reads session,
 * user and tenant in one query.
 */
class PortalSessionNotificationsTest {
    static final Duration LIMIT = Duration.ofSeconds(20);
    @TempDir static Path dir;
    static Database db;

    @BeforeAll
    static void start() throws Exception {
        db = Database.embedded(dir);
    }

    @AfterAll
    static void stop() {
        if (db != null) db.close();
    }

    @Test
    void shouldReadTheEntitledPoolsWithTheLoginAndNotifyEntitlementAndPoolChangesAsAFlush() {
        Heard heard = new Heard();
        PortalSessionStore sessions = new PortalSessionStore(db.dataSource());
        UserStore users = new UserStore(db.dataSource());
        PoolStore pools = new PoolStore(db.dataSource());
        EntitlementStore entitlements = new EntitlementStore(db.dataSource());
        users.create(1, "erin", "$argon2id$x", false);
        pools.create(1, "erin-lab", List.of("agent-3"), List.of(), Pool.Assignment.FLOATING, true);
        pools.create(1, "erin-art", List.of(), List.of("gpu"), Pool.Assignment.PERSISTENT, false);
        Instant now = Instant.now();
        UUID id = UUID.randomUUID();
        sessions.create(id, 1, "erin", now.plus(Duration.ofHours(1)));
        assertThat(sessions.findLive(id, 1, "erin", now)).as("no pool yet: the login all the same")
                .hasValueSatisfying(l -> assertThat(l.pools()).isEmpty());
        try (PortalSessionNotifications n = PortalSessionNotifications.start(db::dedicatedConnection, heard, Duration.ofMillis(100),
                System::nanoTime)) {
            Conditions.await("listening and a ping back", LIMIT, () -> heard.events.contains("listening") && heard.lastPing != Long.MIN_VALUE);
            assertThat(entitlements.entitle(1, "erin", "erin-lab")).isTrue();
            Conditions.await("an entitlement given notified as a flush", LIMIT, () -> flushes(heard) >= 1);
            assertThat(entitlements.entitle(1, "erin", "erin-art")).isTrue();
            Conditions.await("a second one too", LIMIT, () -> flushes(heard) >= 2);
            assertThat(sessions.findLive(id, 1, "erin", now)).hasValueSatisfying(l -> {
                assertThat(l.user().username()).isEqualTo("erin");
                assertThat(l.pools()).extracting(Pool::name).as("by name").containsExactly("erin-art", "erin-lab");
                assertThat(l.pools().get(1).agents()).containsExactly("agent-3");
            });
            assertThat(entitlements.revoke(1, "erin", "erin-lab")).isTrue();
            Conditions.await("an entitlement revoked notified as a flush", LIMIT, () -> flushes(heard) >= 3);
            assertThat(sessions.findLive(id, 1, "erin", now)).hasValueSatisfying(l ->
                    assertThat(l.pools()).extracting(Pool::name).containsExactly("erin-art"));
            try (java.sql.Connection c = db.dataSource().getConnection(); java.sql.Statement st = c.createStatement()) {
                st.executeUpdate("UPDATE pools SET labels = '{cad}' WHERE tenant_id = 1 AND name = 'erin-art'");
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException(e);
            }
            Conditions.await("a pool changed notified as a flush", LIMIT, () -> flushes(heard) >= 4);
            assertThat(heard.events).doesNotContain("lost");
        }
    }

    private static long flushes(Heard heard) {
        return heard.events.stream().filter("flush"::equals).count();
    }

    /** What the listener heard, in order. */
    static final class Heard implements PortalSessionNotifications.Listener {
        final List<String> events = new CopyOnWriteArrayList<>();
        volatile long lastPing = Long.MIN_VALUE;
        @Override public void listening() { events.add("listening"); }
        @Override public void revoked(UUID id) { events.add("revoked " + id); }
        @Override public void flushAll() { events.add("flush"); }
        @Override public void caughtUp(long sentNs) { lastPing = sentNs; }
        @Override public void lost(String reason) { events.add("lost"); }
    }

    @Test
    void shouldNotifyRevocationsPurgesAndUserChangesAndHearItsOwnPings() {
        Heard heard = new Heard();
        PortalSessionStore sessions = new PortalSessionStore(db.dataSource());
        UserStore users = new UserStore(db.dataSource());
        users.create(1, "dave", "$argon2id$x", false);
        try (PortalSessionNotifications n = PortalSessionNotifications.start(db::dedicatedConnection, heard, Duration.ofMillis(100),
                System::nanoTime)) {
            assertThat(n.applicationName()).startsWith(PortalSessionNotifications.APPLICATION_NAME_PREFIX);
            Conditions.await("listening and a ping back", LIMIT, () -> heard.events.contains("listening") && heard.lastPing != Long.MIN_VALUE);
            Instant now = Instant.now();
            UUID id = UUID.randomUUID();
            sessions.create(id, 1, "dave", now.plus(Duration.ofHours(1)));
            assertThat(sessions.findLive(id, 1, "dave", now)).hasValueSatisfying(l -> {
                assertThat(l.user().username()).isEqualTo("dave");
                assertThat(l.tenantName()).isEqualTo(Tenant.DEFAULT_NAME);
                assertThat(l.sessionId()).isEqualTo(id);
            });
            assertThat(sessions.findLive(id, 1, "mallory", now)).isEmpty();

            sessions.revoke(id);
            Conditions.await("the revocation notified", LIMIT, () -> heard.events.contains("revoked " + id));
            assertThat(sessions.findLive(id, 1, "dave", now)).isEmpty();
            assertThat(heard.events).as("a creation is not notified, nor a revoke of nothing").doesNotContain("flush");

            sessions.create(UUID.randomUUID(), 1, "dave", now.minusSeconds(60));
            assertThat(sessions.purgeExpired(now)).isGreaterThanOrEqualTo(1);
            Conditions.await("the purge notified as a flush", LIMIT, () -> heard.events.contains("flush"));

            int flushes = (int) heard.events.stream().filter("flush"::equals).count();
            assertThat(sessions.purgeExpired(now)).isZero();
            assertThat(users.setPassword(1, "dave", "$argon2id$y")).isTrue();
            Conditions.await("the user change notified as a flush", LIMIT,
                    () -> heard.events.stream().filter("flush"::equals).count() > flushes);
            long afterChanges = System.nanoTime();
            Conditions.await("a ping sent after those changes came back", LIMIT, () -> heard.lastPing - afterChanges > 0);
            assertThat(heard.events).as("exactly one more flush: a purge that deleted nothing sends none")
                    .filteredOn("flush"::equals).hasSize(flushes + 1);
            assertThat(heard.events).doesNotContain("lost");
        }
    }
}
