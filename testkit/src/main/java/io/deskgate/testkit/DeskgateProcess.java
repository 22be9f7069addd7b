package io.deskgate.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The real {@code ./deskgate} launcher run as a child process, for system tests. Collects its output
 * lines (and writes them to {@code target/deskgate-<n>.log} of the test's module, not to the console),
 * finds the {@code Deskgate is up: URL} line, and stops it with SIGTERM as a user's Ctrl-C would.
 */
public final class DeskgateProcess implements AutoCloseable {
    private final Process process;
    private final List<String> lines = Collections.synchronizedList(new ArrayList<>());
    private final CompletableFuture<URI> up = new CompletableFuture<>();
    private final long startedNs = System.nanoTime();
    private volatile long upNs;
    private static final java.util.concurrent.atomic.AtomicInteger STARTED = new java.util.concurrent.atomic.AtomicInteger();
    private final Path logFile;

    private DeskgateProcess(Process process) {
        this.process = process;
        this.logFile = Path.of("target", "deskgate-" + STARTED.incrementAndGet() + ".log").toAbsolutePath();
        Thread reader = Thread.ofVirtual().start(this::readOutput);
        reader.setName("deskgate-output");
    }

    /** Starts {@code <repoRoot>/deskgate args...} without rebuilding (the build under test must exist). */
    public static DeskgateProcess start(Path repoRoot, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(repoRoot.resolve("deskgate").toString());
        Collections.addAll(cmd, args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(repoRoot.toFile()).redirectErrorStream(true);
        pb.environment().put("DESKGATE_NO_BUILD", "1");
        return new DeskgateProcess(pb.start());
    }

    /** The repository root, found from the working directory of a module's tests. */
    public static Path repoRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isExecutable(dir.resolve("deskgate"))) dir = dir.getParent();
        if (dir == null) throw new IllegalStateException("no ./deskgate launcher above " + Path.of("").toAbsolutePath());
        return dir;
    }

    private void readOutput() {
        java.io.Writer log = openLog();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                lines.add(line);
                if (log != null) {
                    log.write(line + "\n");
                    log.flush();
                }
                if (line.startsWith("Deskgate is up: ")) {
                    upNs = System.nanoTime();
                    up.complete(URI.create(line.substring("Deskgate is up: ".length()).trim()));
                }
            }
        } catch (IOException e) {
            // the process ended; fall through
        } finally {
            if (log != null) {
                try {
                    log.close();
                } catch (IOException ignored) {
                    // the lines are kept in memory as well
                }
            }
        }
        up.completeExceptionally(new IllegalStateException("deskgate exited before it was up:\n" + String.join("\n", lines)));
    }

    /** The log file of the process's output; null (output kept in memory only) if it cannot be written. */
    private java.io.Writer openLog() {
        try {
            Files.createDirectories(logFile.getParent());
            return Files.newBufferedWriter(logFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        }
    }

    /** Where the process's output is written. */
    public Path logFile() { return logFile; }

    /** Waits for the {@code Deskgate is up:} line and returns its URL. */
    public URI awaitUp(Duration timeout) throws Exception {
        try {
            return up.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("deskgate was not up within " + timeout + "; output:\n" + String.join("\n", lines));
        }
    }

    /**
     * Waits for an output line that {@code matches} (such as {@code deskgate run}'s {@code Deskgate <role> <id> is
     * up: ...}) and returns it; fails with the output so far if none came within {@code timeout} or the process ended.
     */
    public String awaitLine(java.util.function.Predicate<String> matches, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int seen = 0;
        while (true) {
            List<String> now = lines();
            for (; seen < now.size(); seen++) if (matches.test(now.get(seen))) return now.get(seen);
            if (!process.isAlive() && lines().size() == now.size()) {
                throw new AssertionError("deskgate exited (" + process.exitValue() + ") before the line; output:\n" + String.join("\n", now));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no such line within " + timeout + "; output:\n" + String.join("\n", now));
            }
            process.waitFor(100, TimeUnit.MILLISECONDS); // wakes at once when the process ends
        }
    }

    /** Milliseconds from process start to the ready line. */
    public long millisToUp() { return (upNs - startedNs) / 1_000_000; }

    public List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    public Process process() { return process; }

    /** Sends SIGTERM and waits; returns the exit code, or throws if it does not stop in time. */
    public int stop(Duration timeout) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("deskgate did not stop within " + timeout + " of SIGTERM");
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            List<ProcessHandle> children = process.toHandle().descendants().toList();
            process.destroyForcibly();
            children.forEach(ProcessHandle::destroyForcibly);
        }
    }
}
