package io.deskgate.store;

import io.zonky.test.db.postgres.util.LinuxUtils;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The PostgreSQL server process of one data directory, seen through {@code /proc} and
 * {@code postmaster.pid}: finds it, tells whether it still runs, stops it, and starts it with
 * {@code pg_ctl}. Every wait is bounded. Linux only, like the embedded binaries it drives.
 */
final class Postmaster {
    private static final Duration POLL = Duration.ofMillis(50);

    private Postmaster() {}

    /**
     * The server running on {@code pgDir} according to its {@code postmaster.pid}, if that process is alive
     * and really is a {@code postgres} whose working directory is {@code pgDir} (a stale file may name a
     * reused pid).
     */
    static Optional<ProcessHandle> running(Path pgDir) {
        Path pidFile = pgDir.resolve("postmaster.pid");
        long pid;
        try {
            List<String> lines = Files.readAllLines(pidFile);
            if (lines.isEmpty()) return Optional.empty();
            pid = Long.parseLong(lines.getFirst().strip());
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
        return ProcessHandle.of(pid).filter(Postmaster::alive).filter(h -> isPostgresIn(h.pid(), pgDir));
    }

    private static boolean isPostgresIn(long pid, Path pgDir) {
        try {
            Path proc = Path.of("/proc", Long.toString(pid));
            String exe = Files.readSymbolicLink(proc.resolve("exe")).getFileName().toString();
            return exe.startsWith("postgres") && Files.readSymbolicLink(proc.resolve("cwd")).equals(pgDir.toRealPath());
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    /** The executable of a running process ({@code /proc/<pid>/exe}). */
    static Path executable(ProcessHandle process) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc", Long.toString(process.pid()), "exe"));
    }

    /** Alive and not a zombie (an exited child nobody has reaped yet still has a pid). */
    static boolean alive(ProcessHandle process) {
        if (!process.isAlive()) return false;
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
            int end = stat.lastIndexOf(')');
            return end < 0 || end + 2 >= stat.length() || stat.charAt(end + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Stops a server and its backends: SIGTERM, up to {@code grace} for it to exit, then SIGKILL to it and to
     * every process it started. Returns whether everything is gone within a further {@code grace}.
     */
    static boolean stop(ProcessHandle postmaster, Duration grace) {
        List<ProcessHandle> backends = postmaster.descendants().toList();
        postmaster.destroy();
        if (awaitGone(List.of(postmaster), grace)) {
            return awaitGone(backends, grace);
        }
        List<ProcessHandle> all = new ArrayList<>(backends);
        all.add(postmaster);
        all.forEach(ProcessHandle::destroyForcibly);
        return awaitGone(all, grace);
    }

    /** Polls until no process of {@code processes} is alive; false if some still is after {@code timeout}. */
    static boolean awaitGone(List<ProcessHandle> processes, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (processes.stream().anyMatch(Postmaster::alive)) {
            if (System.nanoTime() - deadline > 0) return false;
            try {
                Thread.sleep(POLL);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /**
     * Starts the server of {@code pgDir} with {@code pg_ctl start -w} on {@code port}, its output appended to
     * {@code logFile}, waiting at most {@code timeout}.
     *
     * @throws IOException when {@code pg_ctl} fails or does not finish in time; the message is short
     */
    static void start(Path pgCtl, Path pgDir, int port, Map<String, String> serverConfig, Path logFile, Duration timeout)
            throws IOException {
        StringBuilder options = new StringBuilder("-p " + port + " -F");
        serverConfig.forEach((k, v) -> options.append(" -c ").append(k).append('=').append(v));
        long seconds = Math.max(1, timeout.toSeconds());
        List<String> command = new ArrayList<>();
        // As zonky does: PostgreSQL refuses to run as root, so root runs it in a user namespace.
        if (LinuxUtils.isUnshareAvailable()) command.addAll(List.of("unshare", "-U"));
        command.addAll(List.of(pgCtl.toString(), "-D", pgDir.toString(), "-l", logFile.toString(),
                "-o", options.toString(), "-w", "-t", Long.toString(seconds), "start"));
        Process pgCtlRun = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
        try {
            if (!pgCtlRun.waitFor(seconds + 5, TimeUnit.SECONDS)) {
                pgCtlRun.destroyForcibly();
                throw new IOException("pg_ctl start did not finish within " + (seconds + 5) + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pgCtlRun.destroyForcibly();
            throw new IOException("interrupted while starting PostgreSQL");
        }
        if (pgCtlRun.exitValue() != 0) {
            throw new IOException("pg_ctl start failed (exit " + pgCtlRun.exitValue() + ")");
        }
    }

    /**
     * PostgreSQL's own reason for a failure in what it logged from byte {@code from} on: the last
     * {@code FATAL}/{@code PANIC} line, else the last non-blank one, cut to 300 characters; {@code ""} when
     * there is none.
     */
    static String reason(Path logFile, long from) {
        try (FileChannel ch = FileChannel.open(logFile)) {
            long size = ch.size();
            long start = from <= size ? from : 0;
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(size - start, 64 * 1024));
            ch.read(buf, Math.max(start, size - buf.capacity()));
            List<String> lines = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).lines().toList();
            String last = "";
            for (int i = lines.size() - 1; i >= 0; i--) {
                String line = lines.get(i).strip();
                if (line.isEmpty()) continue;
                if (last.isEmpty()) last = line;
                int fatal = Math.max(line.indexOf("FATAL:"), line.indexOf("PANIC:"));
                if (fatal >= 0) return shorten(line.substring(fatal).replaceAll("\\s+", " "));
            }
            return shorten(last);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static String shorten(String line) {
        return line.length() > 300 ? line.substring(0, 300) : line;
    }
}

