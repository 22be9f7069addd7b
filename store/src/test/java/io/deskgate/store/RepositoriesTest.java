package io.deskgate.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RepositoriesTest {
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
    void userRoundTripsAndUsernameIsUniquePerTenant() {
        UserStore users = new UserStore(db.dataSource());
        User bob = users.create(1, "bob", "$argon2id$hash1", true);
        assertThat(users.find(1, "bob")).contains(bob);
        assertThat(bob.admin()).isTrue();
        assertThat(users.find(1, "nobody")).isEmpty();
        assertThatThrownBy(() -> users.create(1, "bob", "$argon2id$other", false))
                .isInstanceOfSatisfying(DeskgateException.class, e -> assertThat(e.status()).isEqualTo(Status.ALREADY_EXISTS));

        assertThat(users.setPassword(1, "bob", "$argon2id$hash2")).isTrue();
        assertThat(users.find(1, "bob").orElseThrow().passwordHash()).isEqualTo("$argon2id$hash2");
        assertThat(users.setPassword(1, "nobody", "$argon2id$x")).isFalse();
        assertThat(bob.toString()).doesNotContain("hash1");
    }

    @Test
    void sessionIsActiveUntilMarkedEnded() {
        User carol = new UserStore(db.dataSource()).create(1, "carol", "$argon2id$h", false);
        SessionStore sessions = new SessionStore(db.dataSource());
        UUID id = UUID.randomUUID();
        SessionRow row = sessions.create(id, 1, carol.id(), "agent-1/1", "engine-1", "gateway-1", "inst-1");
        assertThat(row.active()).isTrue();
        assertThat(row.state()).isEqualTo(SessionRow.ACTIVE);
        assertThat(sessions.findById(id)).contains(row);
        assertThat(sessions.listActiveByUser(carol.id())).containsExactly(row);

        assertThat(sessions.markEnded(id)).isTrue();
        assertThat(sessions.markEnded(id)).isFalse();
        SessionRow ended = sessions.findById(id).orElseThrow();
        assertThat(ended.state()).isEqualTo(SessionRow.ENDED);
        assertThat(ended.endedAt()).isPresent();
        assertThat(sessions.listActiveByUser(carol.id())).isEmpty();
        assertThat(sessions.findById(UUID.randomUUID())).isEmpty();
    }

    @Test
    void activeSessionsAreCountedByTheFrontdoorThatLaunchedThem() {
        User dave = new UserStore(db.dataSource()).create(1, "dave", "$argon2id$h", false);
        SessionStore sessions = new SessionStore(db.dataSource());
        UUID a = UUID.randomUUID(), b = UUID.randomUUID(), c = UUID.randomUUID(), unclaimed = UUID.randomUUID();
        for (UUID id : List.of(a, b, c, unclaimed)) sessions.create(id, 1, dave.id(), "agent-1/" + id, "engine-1", "gateway-1", "i");
        assertThat(sessions.launchedBy(a, "fd-1")).isTrue();
        assertThat(sessions.launchedBy(b, "fd-2")).isTrue();
        assertThat(sessions.launchedBy(c, "fd-2")).isTrue();
        assertThat(sessions.launchedBy(UUID.randomUUID(), "fd-1")).as("an unknown session").isFalse();
        assertThat(sessions.activeByFrontdoor()).containsAllEntriesOf(java.util.Map.of("fd-1", 1, "fd-2", 2))
                .doesNotContainKey("");

        sessions.markEnded(c);
        assertThat(sessions.activeByFrontdoor()).containsEntry("fd-2", 1);
        for (UUID id : List.of(a, b, unclaimed)) sessions.markEnded(id);
    }

    @Test
    void secretIsCreatedOnceEvenUnderConcurrentFirstCalls() throws Exception {
        SecretStore secrets = new SecretStore(db.dataSource());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            Callable<byte[]> call = () -> secrets.getOrCreate("race", 32);
            List<Future<byte[]>> results = pool.invokeAll(List.of(call, call, call, call, call, call, call, call));
            byte[] first = results.getFirst().get();
            assertThat(first).hasSize(32);
            for (Future<byte[]> f : results) assertThat(f.get()).isEqualTo(first);
        } finally {
            pool.shutdownNow();
        }
        assertThat(secrets.getOrCreate("race", 64)).hasSize(32);
        assertThat(secrets.getOrCreate("other", 32)).isNotEqualTo(secrets.getOrCreate("race", 32));
    }

    @Test
    void auditRecordsNewestFirst() {
        AuditLog audit = new AuditLog(db.dataSource());
        audit.record(1, "admin", "login", "from 127.0.0.1");
        audit.record(1, "admin", "session.start", "desktop agent-1/1");
        List<AuditLog.Entry> recent = audit.recent(1, 2);
        assertThat(recent).extracting(AuditLog.Entry::action).containsExactly("session.start", "login");
        assertThat(recent.getFirst().actor()).isEqualTo("admin");
    }

    @Test
    void aSessionIsLiveUntilRevokedOrExpiredAndOnlyForItsOwner() {
        PortalSessionStore sessions = new PortalSessionStore(db.dataSource());
        Instant now = Instant.now();
        UUID id = UUID.randomUUID();
        sessions.create(id, 1, "carol", now.plus(Duration.ofHours(1)));
        assertThat(sessions.isLive(id, 1, "carol", now)).isTrue();
        assertThat(sessions.isLive(id, 1, "mallory", now)).as("another user's name").isFalse();
        assertThat(sessions.isLive(UUID.randomUUID(), 1, "carol", now)).as("unknown id").isFalse();
        assertThat(sessions.isLive(id, 1, "carol", now.plus(Duration.ofHours(2)))).as("expired").isFalse();

        assertThat(sessions.revoke(id)).isTrue();
        assertThat(sessions.revoke(id)).as("already revoked").isFalse();
        assertThat(sessions.isLive(id, 1, "carol", now)).isFalse();

        UUID old = UUID.randomUUID();
        sessions.create(old, 1, "carol", now.minus(Duration.ofMinutes(1)));
        assertThat(sessions.purgeExpired(now)).isGreaterThanOrEqualTo(1);
        assertThat(sessions.isLive(id, 1, "carol", now)).isFalse();
    }
}
