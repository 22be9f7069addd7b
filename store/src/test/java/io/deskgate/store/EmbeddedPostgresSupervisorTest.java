package io.deskgate.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 of the embedded PostgreSQL: the store comes back by itself, or says why it cannot. */
class EmbeddedPostgresSupervisorTest {
    private static final Duration DEADLINE = Duration.ofSeconds(90);

    @Test
    void shouldAnswerQueriesAgainAfterThePostmasterIsKilled(@TempDir Path dir) throws Exception {
        try (Database db = Database.embedded(dir)) {
            new UserStore(db.dataSource()).create(1, "alice", "$argon2id$x", false);
            ProcessHandle first = db.postmaster().orElseThrow();
            assertThat(db.ready()).isTrue();

            first.destroyForcibly(); // SIGKILL
            assertThat(first.onExit().get(30, TimeUnit.SECONDS).isAlive()).isFalse();

            awaitTrue(() -> countUsers(db) == 1, "a query works again after kill -9 of the postmaster");
            assertThat(db.postmaster().orElseThrow().pid()).isNotEqualTo(first.pid());
            assertThat(db.ready()).isTrue();
        }
    }

    @Test
    void shouldReportOnceWhenThePostmasterCannotBeRestarted(@TempDir Path dir) throws Exception {
        CompletableFuture<String> lost = new CompletableFuture<>();
        RestartBackoff quick = new RestartBackoff(2, Duration.ofMillis(100), Duration.ofMillis(200));
        try (Database db = Database.embedded(dir, quick, lost::complete)) {
            ProcessHandle pm = db.postmaster().orElseThrow();
            Files.writeString(dir.resolve("pg").resolve("postgresql.conf"), "this is = not ' a valid setting\n");
            pm.destroyForcibly();

            String reason = lost.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            assertThat(reason).as("names PostgreSQL's own reason").contains("FATAL");
            assertThat(db.ready()).isFalse();
        }
    }

    private static int countUsers(Database db) {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM users")) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            return -1;
        }
    }

    static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) throw new AssertionError("not within " + DEADLINE + ": " + what);
            Thread.sleep(200);
        }
    }
}
