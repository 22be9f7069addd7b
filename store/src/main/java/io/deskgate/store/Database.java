package io.deskgate.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.deskgate.common.Secrets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
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
    /** Under the data directory: the {@code postgres} role's password, readable by the owner only. */
    static final String PASSWORD_FILE = "pg-password";
    private static final int PASSWORD_LENGTH = 32;
    private static final String SCRAM = "scram-sha-256";
    private static final String LOOPBACK = "127.0.0.1";
    /** sun_path holds 108 bytes including the terminating NUL. */
    private static final int MAX_SOCKET_PATH = 107;
    /** {@code "/.s.PGSQL.65535.lock"}, the longest name PostgreSQL puts in the socket directory. */
    private static final int SOCKET_FILE_NAME_LENGTH = 20;

    private final HikariDataSource pool;
    private final Optional<EmbeddedPostgres> embedded;

    private Database(HikariDataSource pool, Optional<EmbeddedPostgres> embedded) {
        this.pool = pool;
        this.embedded = embedded;
    }

    /**
     * Starts (or restarts) an embedded PostgreSQL with its data under {@code dataDir/pg} on a free
     * loopback port, and migrates it. The server listens on 127.0.0.1 only, keeps its Unix socket in the
     * owner-only directory {@code dataDir/pg-socket}, and admits the {@code postgres} role only with the
     * password kept in the owner-only file {@code dataDir/pg-password} (scram-sha-256). The password is
     * generated on the first start, and a data directory from an earlier version (trust authentication, no
     * password file) gets one on its next start.
     *
     * @throws DeskgateException when {@code dataDir} cannot be created or written
     */
    public static Database embedded(Path dataDir) throws IOException {
        Path dir = dataDir.toAbsolutePath();
        Path pgDir = dir.resolve("pg");
        requireWritable(dir, pgDir);
        Path passwordFile = dir.resolve(PASSWORD_FILE);
        boolean fresh = !Files.exists(pgDir.resolve("postgresql.conf"));
        boolean hasPassword = Files.exists(passwordFile);
        String password;
        if (hasPassword) {
            password = readPassword(passwordFile);
        } else {
            password = Secrets.randomPassword(PASSWORD_LENGTH);
            // A fresh cluster takes it from the file at initdb; an old one only once ALTER ROLE succeeded.
            if (fresh) writeOwnerOnly(passwordFile, password);
        }
        boolean passwordSet = fresh || hasPassword;

        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setDataDirectory(pgDir)
                .setCleanDataDirectory(false)
                .setServerConfig("listen_addresses", LOOPBACK)
                .setServerConfig("unix_socket_directories", socketDirectory(dir))
                .setServerConfig("password_encryption", SCRAM)
                .setConnectConfig("password", password);
        if (fresh) {
            // Appended after zonky's own "-A trust", so these win: the cluster is never open without a password.
            builder.setLocaleConfig("auth", SCRAM).setLocaleConfig("pwfile", passwordFile.toString());
        }
        if (passwordSet) builder.setDataDirectoryCustomizer(d -> writeHba(d.toPath()));
        EmbeddedPostgres pg = builder.start();
        try {
            String url = "jdbc:postgresql://" + LOOPBACK + ":" + pg.getPort() + "/postgres";
            if (!passwordSet) requirePassword(url, password, pgDir, passwordFile);
            log.info("embedded PostgreSQL started on port {} with data in {}", pg.getPort(), pgDir);
            return open(url, "postgres", password, Optional.of(pg));
        } catch (RuntimeException e) {
            pg.close();
            throw e;
        }
    }

    /**
     * Upgrades a cluster that still trusts every local connection: sets the role's password, then writes
     * the password file and a scram-sha-256 {@code pg_hba.conf} and reloads the server's configuration.
     */
    private static void requirePassword(String url, String password, Path pgDir, Path passwordFile) {
        try (Connection c = DriverManager.getConnection(url, "postgres", password);
             Statement st = c.createStatement()) {
            st.execute("SET password_encryption = '" + SCRAM + "'");
            st.execute("ALTER ROLE postgres PASSWORD '" + password.replace("'", "''") + "'");
            writeOwnerOnly(passwordFile, password);
            writeHba(pgDir);
            st.execute("SELECT pg_reload_conf()");
        } catch (SQLException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR,
                    "cannot set a password on the embedded PostgreSQL in " + pgDir + " (SQL state " + e.getSQLState() + ")", e);
        } catch (IOException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "cannot write the database password file " + passwordFile, e);
        }
        log.info("embedded PostgreSQL in {} now requires the password in {}", pgDir, passwordFile);
    }

    /** Only the {@code postgres} role, only with its password, only over the socket or loopback. */
    private static void writeHba(Path pgDir) {
        String hba = "# Written by Deskgate on every start: password (scram-sha-256) required for every connection.\n"
                + "local all postgres " + SCRAM + "\n"
                + "host all postgres 127.0.0.1/32 " + SCRAM + "\n"
                + "host all postgres ::1/128 " + SCRAM + "\n";
        try {
            Files.writeString(pgDir.resolve("pg_hba.conf"), hba);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + pgDir.resolve("pg_hba.conf"), e);
        }
    }

    /**
     * The owner-only directory for the server's Unix socket, or {@code ""} (no Unix socket at all) when its
     * path would be too long for a socket address.
     */
    private static String socketDirectory(Path dataDir) throws IOException {
        Path socketDir = dataDir.resolve("pg-socket");
        if (socketDir.toString().length() + SOCKET_FILE_NAME_LENGTH > MAX_SOCKET_PATH) {
            log.info("data directory path is too long for a Unix socket; PostgreSQL listens on loopback TCP only");
            return "";
        }
        Files.createDirectories(socketDir);
        Files.setPosixFilePermissions(socketDir, PosixFilePermissions.fromString("rwx------"));
        return socketDir.toString();
    }

    private static String readPassword(Path file) throws IOException {
        String password = Files.readString(file).strip();
        if (password.isEmpty()) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "database password file " + file + " is empty");
        }
        return password;
    }

    /** Writes {@code text} to a file only its owner can read, replacing it atomically. */
    private static void writeOwnerOnly(Path file, String text) throws IOException {
        Path tmp = Files.createTempFile(file.getParent(), file.getFileName() + ".", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(tmp, text + "\n");
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
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

    /**
     * Runs {@code body}, turning a {@link SQLException} into an unchecked store failure. The message names
     * only the SQL state (the driver's text may quote data); the exception keeps the cause for the log.
     */
    static <T> T run(SqlCall<T> body) {
        try {
            return body.call();
        } catch (SQLException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "store query failed (SQL state " + e.getSQLState() + ")", e);
        }
    }

    @FunctionalInterface
    interface SqlCall<T> {
        T call() throws SQLException;
    }
}
