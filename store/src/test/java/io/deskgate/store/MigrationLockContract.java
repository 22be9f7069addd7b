package io.deskgate.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Roles on many machines share one external store: whichever starts first migrates it, under Flyway's
 * PostgreSQL advisory lock, and the others wait and find it migrated (issue 8 item 3). Run against each
 * server by a subclass.
 */
interface MigrationLockContract {
    int INSTANCES = 6;
    AtomicInteger FRESH = new AtomicInteger();

    /** A database on the same server that answers as the server's superuser. */
    Database database();

    /** The password of {@link #database()}'s user ({@code postgres}). */
    String password();

    @Test
    default void shouldMigrateAFreshDatabaseOnceWhenManyInstancesStartAtOnce() throws Exception {
        String name = "fresh_" + ProcessHandle.current().pid() + "_" + FRESH.incrementAndGet();
        try (Connection c = database().dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        }
        String base = database().url();
        String url = base.substring(0, base.lastIndexOf('/') + 1) + name;
        ExecutorService threads = Executors.newFixedThreadPool(INSTANCES);
        List<Database> opened = new ArrayList<>();
        try {
            CountDownLatch go = new CountDownLatch(1);
            Callable<Database> start = () -> {
                go.await();
                return Database.external(url, "postgres", password());
            };
            List<Future<Database>> starts = new ArrayList<>();
            for (int i = 0; i < INSTANCES; i++) starts.add(threads.submit(start));
            go.countDown();
            for (Future<Database> f : starts) opened.add(f.get()); // each one succeeds
            try (Connection c = opened.getFirst().dataSource().getConnection(); Statement st = c.createStatement()) {
                try (ResultSet rs = st.executeQuery("SELECT count(*), count(DISTINCT version), bool_and(success) "
                        + "FROM flyway_schema_history WHERE version IS NOT NULL")) {
                    assertThat(rs.next()).isTrue();
                    int migrations = migrationCount();
                    assertThat(rs.getInt(1)).as("each migration applied once").isEqualTo(migrations);
                    assertThat(rs.getInt(2)).isEqualTo(migrations);
                    assertThat(rs.getBoolean(3)).isTrue();
                }
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM tenants")) {
                    rs.next();
                    assertThat(rs.getInt(1)).as("V1's seed row inserted once").isEqualTo(1);
                }
            }
        } finally {
            opened.forEach(Database::close);
            threads.shutdownNow();
        }
    }

    /** The versioned migrations in {@code db/migration} (the store's classes directory when tests run). */
    private static int migrationCount() throws Exception {
        Path dir = Path.of(MigrationLockContract.class.getResource("/db/migration").toURI());
        try (var files = Files.list(dir)) {
            return (int) files.filter(f -> f.getFileName().toString().matches("V\\d+__.*\\.sql")).count();
        }
    }
}
