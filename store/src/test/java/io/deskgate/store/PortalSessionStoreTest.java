package io.deskgate.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PortalSessionStoreTest {
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
