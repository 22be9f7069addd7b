package io.deskgate.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Optional;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's connection: a pooled {@link DataSource} on PostgreSQL, migrated with Flyway
 * ({@code classpath:db/migration}) when opened. Either an embedded PostgreSQL whose data lives under a
 * directory and survives restarts ({@link #embedded}), or an external server ({@link #external}).
 * Thread-safe; {@link #close()} closes the pool, then stops the embedded server if there is one.
 */
public final class Database implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Database.class);
    private static final int MAX_POOL_SIZE = 10;

    private final HikariDataSource pool;
    private final Optional<EmbeddedPostgres> embedded;

    private Database(HikariDataSource pool, Optional<EmbeddedPostgres> embedded) {
        this.pool = pool;
        this.embedded = embedded;
    }

    /**
     * Starts (or restarts) an embedded PostgreSQL with its data under {@code dataDir/pg} on a free
     * loopback port, and migrates it.
     *
     * @throws DeskgateException when {@code dataDir} cannot be created or written
     */
    public static Database embedded(Path dataDir) throws IOException {
        Path pgDir = dataDir.resolve("pg").toAbsolutePath();
        requireWritable(dataDir.toAbsolutePath(), pgDir);
        EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setDataDirectory(pgDir)
                .setCleanDataDirectory(false)
                .start();
        try {
            String url = pg.getJdbcUrl("postgres", "postgres");
            log.info("embedded PostgreSQL started on port {} with data in {}", pg.getPort(), pgDir);
            return open(url, "postgres", "", Optional.of(pg));
        } catch (RuntimeException e) {
            pg.close();
            throw e;
        }
    }

    /** Connects to an external PostgreSQL (or compatible) server and migrates it. */
    public static Database external(String jdbcUrl, String user, String password) {
        return open(jdbcUrl, user, password, Optional.empty());
    }

    private static Database open(String url, String user, String password, Optional<EmbeddedPostgres> pg) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(MAX_POOL_SIZE);
        config.setPoolName("deskgate-store");
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(config);
        } catch (RuntimeException e) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE,
                    "cannot connect to the database at " + redact(url) + ": " + e.getMessage(), e);
        }
        try {
            Flyway.configure().dataSource(pool).locations("classpath:db/migration").load().migrate();
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
        return new Database(pool, pg);
    }

    /** The JDBC URL without its query (which may hold a password). */
    private static String redact(String url) {
        int q = url.indexOf('?');
        return q < 0 ? url : url.substring(0, q);
    }

    private static void requireWritable(Path dataDir, Path pgDir) {
        try {
            Files.createDirectories(pgDir);
            Path probe = Files.createTempFile(dataDir, ".write-probe", ".tmp");
            Files.delete(probe);
        } catch (IOException | SecurityException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "data directory " + dataDir + " is not writable", e);
        }
    }

    public DataSource dataSource() { return pool; }

    @Override
    public void close() {
        pool.close();
        embedded.ifPresent(pg -> {
            try {
                pg.close();
            } catch (IOException e) {
                log.warn("embedded PostgreSQL did not stop cleanly: {}", e.toString());
            }
        });
    }

    /** Runs {@code body}, turning a {@link SQLException} into an unchecked store failure. */
    static <T> T run(SqlCall<T> body) {
        try {
            return body.call();
        } catch (SQLException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "store query failed: " + e.getMessage(), e);
        }
    }

    @FunctionalInterface
    interface SqlCall<T> {
        T call() throws SQLException;
    }
}
