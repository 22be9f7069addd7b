package io.deskgate.testkit;

import io.deskgate.common.Secrets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's own PostgreSQL server (package {@code postgresql}, binaries in
 * {@code /usr/lib/postgresql/<major>/bin}) started for one test class: {@code initdb} in a fresh temporary
 * directory, password authentication (scram-sha-256) for the {@code postgres} role with a random password,
 * listening on 127.0.0.1 only on a free port, its Unix socket in its own directory. PostgreSQL refuses to
 * run as root, so under root both run as the {@code postgres} system user (via {@code setpriv}) in a
 * directory it owns. {@link #close()} stops the server and deletes the directory. Missing binaries skip
 * the test outside CI and fail it in CI ({@link Prerequisites}). Test fixture.
 */
public final class DebianPostgres implements AutoCloseable {
    private static final Path INSTALL_ROOT = Path.of("/usr/lib/postgresql");
    private static final String SYSTEM_USER = "postgres";
    private static final Duration READY_DEADLINE = Duration.ofSeconds(90);
    private static final Duration STOP_DEADLINE = Duration.ofSeconds(30);
    private static final int PORT_ATTEMPTS = 3;

    private final Path dir;
    private final Process server;
    private final int port;
    private final String password;

    private DebianPostgres(Path dir, Process server, int port, String password) {
        this.dir = dir;
        this.server = server;
        this.port = port;
        this.password = password;
    }

    /** Starts a fresh server and waits until it accepts connections. */
    public static DebianPostgres start() throws IOException, InterruptedException {
        Path bin = binaries().orElse(null);
        if (bin == null) {
            Prerequisites.missing("Debian's PostgreSQL server not found under " + INSTALL_ROOT
                    + " (install the Debian package 'postgresql')");
            throw new AssertionError("unreachable");
        }
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root && !systemUserExists()) {
            Prerequisites.missing("no '" + SYSTEM_USER + "' system user to run PostgreSQL as (install the Debian package 'postgresql')");
        }
        Path dir = Files.createTempDirectory("deskgate-debian-pg",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try {
            String password = Secrets.randomPassword(24);
            Path pwfile = Files.writeString(dir.resolve("pwfile"), password + "\n");
            Files.setPosixFilePermissions(pwfile, PosixFilePermissions.fromString("rw-------"));
            Path socketDir = Files.createDirectory(dir.resolve("socket"),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            if (root) chownTree(dir);
            Path log = dir.resolve("server.log");
            run(root, dir, List.of(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", SYSTEM_USER,
                    "--auth=scram-sha-256", "--pwfile=" + pwfile, "-E", "UTF8", "--locale=C", "--no-sync"), log);
            for (int attempt = 1; ; attempt++) {
                int port = freePort();
                Process server = start(root, dir, List.of(bin.resolve("postgres").toString(), "-D", dir.resolve("data").toString(),
                        "-p", Integer.toString(port), "-c", "listen_addresses=127.0.0.1",
                        "-c", "unix_socket_directories=" + socketDir, "-c", "max_connections=300", "-c", "fsync=off"), log);
                if (awaitReady(bin, root, dir, server, port)) return new DebianPostgres(dir, server, port, password);
                if (attempt == PORT_ATTEMPTS) {
                    throw new IllegalStateException("Debian's PostgreSQL did not start: " + lastLines(log));
                }
            }
        } catch (IOException | RuntimeException | InterruptedException e) {
            delete(dir);
            throw e;
        }
    }

    /** {@code jdbc:postgresql://127.0.0.1:<port>/postgres}. */
    public String jdbcUrl() { return "jdbc:postgresql://127.0.0.1:" + port + "/postgres"; }

    /** The superuser role: {@code postgres}. */
    public String user() { return SYSTEM_USER; }

    /** The {@code postgres} role's password, generated for this server. */
    public String password() { return password; }

    /** Stops the server (fast shutdown, then a kill) and deletes its directory. */
    @Override
    public void close() throws IOException, InterruptedException {
        if (server.isAlive()) {
            server.destroy(); // SIGTERM: PostgreSQL's smart shutdown; SIGINT would be fast, either ends it
            if (!server.waitFor(STOP_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
                server.destroyForcibly();
                server.waitFor(STOP_DEADLINE.toSeconds(), TimeUnit.SECONDS);
            }
        }
        delete(dir);
    }

    /** The newest {@code /usr/lib/postgresql/<major>/bin} that has {@code initdb} and {@code postgres}. */
    static Optional<Path> binaries() throws IOException {
        if (!Files.isDirectory(INSTALL_ROOT)) return Optional.empty();
        try (Stream<Path> majors = Files.list(INSTALL_ROOT)) {
            return majors.filter(d -> d.getFileName().toString().matches("\\d+"))
                    .sorted(Comparator.comparingInt((Path d) -> Integer.parseInt(d.getFileName().toString())).reversed())
                    .map(d -> d.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("postgres")))
                    .findFirst();
        }
    }

    private static boolean awaitReady(Path bin, boolean root, Path dir, Process server, int port)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + READY_DEADLINE.toNanos();
        Path isReady = bin.resolve("pg_isready");
        while (System.nanoTime() < deadline) {
            if (!server.isAlive()) return false; // e.g. the port was taken meanwhile: the caller tries another
            Process probe = new ProcessBuilder(isReady.toString(), "-q", "-h", "127.0.0.1", "-p", Integer.toString(port),
                    "-t", "2").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (probe.waitFor(10, TimeUnit.SECONDS) && probe.exitValue() == 0) return true;
            probe.destroyForcibly();
            Thread.sleep(100);
        }
        server.destroyForcibly();
        throw new IllegalStateException("Debian's PostgreSQL did not accept connections within "
                + READY_DEADLINE.toSeconds() + " s: " + lastLines(dir.resolve("server.log")));
    }

    private static void run(boolean root, Path dir, List<String> command, Path log) throws IOException, InterruptedException {
        Process p = start(root, dir, command, log);
        if (!p.waitFor(READY_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(command.getFirst() + " did not finish: " + lastLines(log));
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(command.getFirst() + " failed (status " + p.exitValue() + "): " + lastLines(log));
        }
    }

    /** Runs {@code command} in {@code dir}, as the {@code postgres} system user when this JVM is root. */
    private static Process start(boolean root, Path dir, List<String> command, Path log) throws IOException {
        List<String> full = new ArrayList<>();
        if (root) {
            full.addAll(List.of(Prerequisites.require("setpriv", "util-linux").toString(),
                    "--reuid=" + SYSTEM_USER, "--regid=" + SYSTEM_USER, "--clear-groups", "--"));
        }
        full.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(full).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().keySet().removeIf(k -> !k.equals("PATH"));
        pb.environment().put("LANG", "C");
        return pb.start();
    }

    private static boolean systemUserExists() throws IOException {
        try {
            INSTALL_ROOT.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(SYSTEM_USER);
            return true;
        } catch (UserPrincipalNotFoundException e) {
            return false;
        }
    }

    private static void chownTree(Path root) throws IOException {
        UserPrincipal user = root.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(SYSTEM_USER);
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.toList()) Files.setOwner(p, user);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String lastLines(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getClass().getSimpleName() + ")";
        }
    }

    private static void delete(Path root) throws IOException {
        if (!Files.exists(root)) return;
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) throw new UncheckedIOException(e);
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
