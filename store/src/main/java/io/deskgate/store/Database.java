package io.deskgate.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import io.deskgate.common.Secrets;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
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
    /** Under the data directory: the unpacked PostgreSQL binaries, owner-only. */
    static final String BINARIES_DIR = "pg-bin";
    /** Under the data directory: the server's output. */
    static final String LOG_FILE = "pg.log";
    private static final long MAX_LOG_BYTES = 4L << 20;
    private static final String ZONKY_WORKING_DIR = "ot.epg.working-dir";
    private static final String ZONKY_LOCK_FILE = "epg-lock";
    private static final Duration LEFTOVER_STOP_GRACE = Duration.ofSeconds(10);
    /** A connection is waited for at most this long, so that a lost server fails calls fast. */
    static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration VALIDATION_TIMEOUT = Duration.ofSeconds(1);

    private final HikariDataSource pool;
    private final String url;
    private final Optional<EmbeddedPostgres> embedded;
    private final Optional<EmbeddedPostgresSupervisor> supervisor;
    /** The embedded server's password file, which other processes of this machine's fleet log in with. */
    private Optional<Path> embeddedPasswordFile = Optional.empty();

    private Database(HikariDataSource pool, String url, Optional<EmbeddedPostgres> embedded,
                     Optional<EmbeddedPostgresSupervisor> supervisor) {
        this.pool = pool;
        this.url = url;
        this.embedded = embedded;
        this.supervisor = supervisor;
    }

    /**
     * Starts (or restarts) an embedded PostgreSQL with its data under {@code dataDir/pg} on a free
     * loopback port, and migrates it. The server listens on 127.0.0.1 only, keeps its Unix socket in the
     * owner-only directory {@code dataDir/pg-socket}, and admits the {@code postgres} role only with the
     * password kept in the owner-only file {@code dataDir/pg-password} (scram-sha-256). The password is
     * generated on the first start, and a data directory from an earlier version (trust authentication, no
     * password file) gets one on its next start. The binaries run from the owner-only {@code dataDir/pg-bin}
     * (never the shared temporary directory); the server's output goes to {@code dataDir/pg.log}. A server
     * that an earlier, dead owner of {@code dataDir} left running is stopped first. While open, the server
     * is supervised ({@link EmbeddedPostgresSupervisor}): restarted when it dies, else {@code onPostgresLost}
     * is called once with a short reason.
     *
     * @throws DeskgateException when {@code dataDir} cannot be created or written, is in use by another
     *                           process, or PostgreSQL does not start (the message quotes its reason)
     */
    public static Database embedded(Path dataDir, Consumer<String> onPostgresLost) throws IOException {
        return embedded(dataDir, RestartBackoff.DEFAULT, onPostgresLost);
    }

    /** {@link #embedded(Path, Consumer)} that only logs when PostgreSQL is lost for good. */
    public static Database embedded(Path dataDir) throws IOException {
        return embedded(dataDir, reason -> { });
    }

    static Database embedded(Path dataDir, RestartBackoff backoff, Consumer<String> onPostgresLost) throws IOException {
        Path dir = dataDir.toAbsolutePath();
        Path pgDir = dir.resolve("pg");
        requireWritable(dir, pgDir);
        stopLeftover(pgDir);
        Path binDir = OwnerOnlyFiles.directory(dir.resolve(BINARIES_DIR));
        Path logFile = logFile(dir);
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

        Map<String, String> config = new LinkedHashMap<>();
        // zonky's own defaults, repeated so that a restart by the supervisor runs the same server; but a commit
        // is durable (zonky turns that off for tests): a killed server must not lose the last second's writes.
        config.put("timezone", "UTC");
        config.put("synchronous_commit", "on");
        config.put("max_connections", "300");
        config.put("listen_addresses", LOOPBACK);
        config.put("unix_socket_directories", socketDirectory(dir));
        config.put("unix_socket_permissions", "0700");
        config.put("password_encryption", SCRAM);
        EmbeddedPostgres.Builder builder = privateBuilder(binDir)
                .setDataDirectory(pgDir)
                .setCleanDataDirectory(false)
                .setOutputRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .setErrorRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .setConnectConfig("password", password);
        config.forEach(builder::setServerConfig);
        if (fresh) {
            // Appended after zonky's own "-A trust", so these win: the cluster is never open without a password.
            builder.setLocaleConfig("auth", SCRAM).setLocaleConfig("pwfile", passwordFile.toString());
        }
        if (passwordSet) builder.setDataDirectoryCustomizer(d -> writeHba(d.toPath()));
        EmbeddedPostgres pg = start(builder, pgDir, logFile);
        Optional<EmbeddedPostgresSupervisor> supervisor = Optional.empty();
        try {
            OwnerOnlyFiles.restrictTree(binDir);
            OwnerOnlyFiles.file(pgDir.resolve(ZONKY_LOCK_FILE));
            String url = "jdbc:postgresql://" + LOOPBACK + ":" + pg.getPort() + "/postgres";
            if (!passwordSet) requirePassword(url, password, pgDir, passwordFile);
            ProcessHandle postmaster = Postmaster.running(pgDir)
                    .orElseThrow(() -> new IOException("PostgreSQL started but no postmaster runs in " + pgDir));
            Path pgCtl = Postmaster.executable(postmaster).resolveSibling("pg_ctl");
            supervisor = Optional.of(EmbeddedPostgresSupervisor.watch(
                    new EmbeddedPostgresSupervisor.Server(pgCtl, pgDir, pg.getPort(), config, logFile), backoff, onPostgresLost));
            log.info("embedded PostgreSQL started on port {} with data in {}", pg.getPort(), pgDir);
            Database db = open(url, "postgres", password, Optional.of(pg), supervisor);
            db.embeddedPasswordFile = Optional.of(passwordFile);
            return db;
        } catch (RuntimeException | IOException e) {
            supervisor.ifPresent(EmbeddedPostgresSupervisor::close);
            pg.close();
            throw e;
        }
    }

    /**
     * A zonky builder whose binaries and scratch directory are {@code binDir}, not the shared temporary
     * directory (world-writable, where zonky would reuse any unpacked tree another account planted). Zonky
     * reads its scratch directory from a system property when the builder is made, hence the lock.
     */
    private static EmbeddedPostgres.Builder privateBuilder(Path binDir) {
        EmbeddedPostgres.Builder builder;
        synchronized (Database.class) {
            String previous = System.getProperty(ZONKY_WORKING_DIR);
            System.setProperty(ZONKY_WORKING_DIR, binDir.toString());
            try {
                builder = EmbeddedPostgres.builder();
            } finally {
                if (previous == null) System.clearProperty(ZONKY_WORKING_DIR);
                else System.setProperty(ZONKY_WORKING_DIR, previous);
            }
        }
        // The resolver is zonky's cache key: one per directory, so a tree unpacked elsewhere is never reused.
        return builder.setOverrideWorkingDirectory(binDir.toFile()).setPgBinaryResolver(new PrivateBinaries(binDir));
    }

    /** Zonky's own binaries, keyed (equal) by the private directory they are unpacked into. */
    private record PrivateBinaries(Path dir) implements PgBinaryResolver {
        @Override
        public InputStream getPgBinary(String system, String machineHardware) throws IOException {
            return DefaultPostgresBinaryResolver.INSTANCE.getPgBinary(system, machineHardware);
        }
    }

    private static EmbeddedPostgres start(EmbeddedPostgres.Builder builder, Path pgDir, Path logFile) throws IOException {
        long logFrom = Files.size(logFile);
        try {
            return builder.start();
        } catch (IOException | RuntimeException e) {
            String reason = Postmaster.reason(logFile, logFrom);
            throw new DeskgateException(Status.INTERNAL_ERROR, "the embedded PostgreSQL in " + pgDir + " did not start"
                    + (reason.isEmpty() ? "" : ": " + reason) + " (its log: " + logFile + ")", e);
        }
    }

    /**
     * Stops the server an earlier owner of {@code pgDir} left running (a JVM killed with -9 leaves its
     * postmaster behind). Zonky holds {@code epg-lock} for the life of its JVM: a lock that is free means that
     * owner is dead.
     */
    private static void stopLeftover(Path pgDir) throws IOException {
        Optional<ProcessHandle> leftover = Postmaster.running(pgDir);
        if (leftover.isEmpty()) return;
        if (!lockIsFree(pgDir.resolve(ZONKY_LOCK_FILE))) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "the embedded PostgreSQL in " + pgDir + " is in use by another process");
        }
        long pid = leftover.get().pid();
        log.warn("stopping the embedded PostgreSQL (pid {}) that an earlier run left in {}", pid, pgDir);
        if (!Postmaster.stop(leftover.get(), LEFTOVER_STOP_GRACE)) {
            throw new DeskgateException(Status.INTERNAL_ERROR,
                    "the embedded PostgreSQL (pid " + pid + ") that an earlier run left in " + pgDir + " does not stop");
        }
    }

    private static boolean lockIsFree(Path lockFile) throws IOException {
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = ch.tryLock()) {
            return lock != null;
        } catch (OverlappingFileLockException e) {
            return false;
        }
    }

    /** The server's log, owner-only, started afresh when it has grown past {@link #MAX_LOG_BYTES}. */
    private static Path logFile(Path dir) throws IOException {
        Path file = OwnerOnlyFiles.file(dir.resolve(LOG_FILE));
        if (Files.size(file) > MAX_LOG_BYTES) Files.newOutputStream(file, StandardOpenOption.TRUNCATE_EXISTING).close();
        return file;
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

    /**
     * Connects to an external PostgreSQL (or PostgreSQL-compatible) server and migrates it. Any number of
     * roles on any number of machines may do this at once against one database: Flyway takes a PostgreSQL
     * advisory lock, so the migrations run once, by whichever comes first, and the others wait for it.
     *
     * @param jdbcUrl  {@code jdbc:postgresql://host:port/database[?options]}, without credentials
     * @param password from {@link StorePassword} (a file or the environment), never the command line
     * @throws DeskgateException when the URL is not a PostgreSQL URL or carries a user or password, or the
     *                           server cannot be reached (the message names the URL without its options)
     */
    public static Database external(String jdbcUrl, String user, String password) {
        requireCredentialFree(jdbcUrl);
        return open(jdbcUrl, user, password, Optional.empty(), Optional.empty());
    }

    /** Connects to the external store {@code config} names, its password read as {@link StoreConfig#password} says. */
    public static Database external(StoreConfig config, Map<String, String> env) {
        return external(config.url(), config.user(), config.password(env));
    }

    static void requireCredentialFree(String jdbcUrl) {
        if (!jdbcUrl.startsWith("jdbc:postgresql://")) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "the store URL must start with jdbc:postgresql:// (got "
                    + redact(jdbcUrl) + ")");
        }
        int q = jdbcUrl.indexOf('?');
        String authority = jdbcUrl.substring("jdbc:postgresql://".length(), q < 0 ? jdbcUrl.length() : q);
        boolean credentialInQuery = q >= 0 && java.util.Arrays.stream(jdbcUrl.substring(q + 1).split("&"))
                .map(p -> p.toLowerCase(java.util.Locale.ROOT))
                .anyMatch(p -> p.startsWith("password=") || p.startsWith("user="));
        if (authority.contains("@") || credentialInQuery) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "the store URL " + redact(jdbcUrl) + " must not carry a user"
                    + " or password: give the user in the configuration and the password in a file or the environment");
        }
    }

    private static Database open(String url, String user, String password, Optional<EmbeddedPostgres> pg,
                                 Optional<EmbeddedPostgresSupervisor> supervisor) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(MAX_POOL_SIZE);
        config.setPoolName("deskgate-store");
        config.setConnectionTimeout(CONNECTION_TIMEOUT.toMillis());
        config.setValidationTimeout(VALIDATION_TIMEOUT.toMillis());
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
        return new Database(pool, url, pg, supervisor);
    }

    /** The JDBC URL without its query and without user information (either may hold a password). */
    private static String redact(String url) {
        int q = url.indexOf('?');
        String base = q < 0 ? url : url.substring(0, q);
        int at = base.lastIndexOf('@');
        int start = base.indexOf("//");
        return at > start && start >= 0 ? base.substring(0, start + 2) + "***" + base.substring(at) : base;
    }

    private static void requireWritable(Path dataDir, Path pgDir) {
        try {
            Files.createDirectories(dataDir);
            OwnerOnlyFiles.directory(pgDir);
            Path probe = Files.createTempFile(dataDir, ".write-probe", ".tmp");
            Files.delete(probe);
        } catch (IOException | SecurityException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "data directory " + dataDir + " is not writable", e);
        }
    }

    public DataSource dataSource() { return pool; }

    /** The JDBC URL this database was opened with (the embedded server's: loopback, no credentials). */
    String url() { return url; }

    /**
     * A connection of its own, outside the pool, for a caller that holds it for long (the portal sessions'
     * {@code LISTEN}, {@link PortalSessionNotifications}): same server, same credentials; its backend shows
     * {@code applicationName} in {@code pg_stat_activity}. A statement on it that gets no answer for
     * {@link #DEDICATED_SOCKET_TIMEOUT} fails. The caller closes it.
     */
    public Connection dedicatedConnection(String applicationName) throws SQLException {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", pool.getUsername());
        if (pool.getPassword() != null) p.setProperty("password", pool.getPassword());
        p.setProperty("ApplicationName", applicationName);
        p.setProperty("connectTimeout", Long.toString(CONNECTION_TIMEOUT.toSeconds()));
        p.setProperty("socketTimeout", Long.toString(DEDICATED_SOCKET_TIMEOUT.toSeconds()));
        p.setProperty("tcpKeepAlive", "true");
        return DriverManager.getConnection(url, p);
    }

    /** How long a statement on a {@link #dedicatedConnection} may go unanswered before it fails. */
    static final Duration DEDICATED_SOCKET_TIMEOUT = Duration.ofSeconds(10);

    /**
     * How another process on this machine, running as the same user, reaches this embedded store (its
     * loopback URL, the {@code postgres} role, the owner-only password file): what {@code deskgate up
     * --cluster} hands its roles. Empty for an external store, whose config the caller already has.
     */
    public Optional<StoreConfig> embeddedStoreConfig() {
        return embeddedPasswordFile.map(f -> StoreConfig.builder().url(url).user("postgres").passwordFile(f).build());
    }

    /**
     * Whether the store answers now: false while the embedded server is being restarted, else a pooled
     * connection that passes a validation round trip. Takes at most about 3 s; never throws.
     */
    public boolean ready() {
        if (supervisor.isPresent() && !supervisor.get().up()) return false;
        try (Connection c = pool.getConnection()) {
            return c.isValid((int) VALIDATION_TIMEOUT.toSeconds());
        } catch (SQLException | RuntimeException e) {
            return false;
        }
    }

    /** The embedded server's postmaster process, if this database runs one (for tests and diagnostics). */
    Optional<ProcessHandle> postmaster() { return supervisor.map(EmbeddedPostgresSupervisor::postmaster); }

    @Override
    public void close() {
        supervisor.ifPresent(EmbeddedPostgresSupervisor::close);
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
