package io.deskgate.bench;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts programs on a desktop of the platform this JVM runs, as the desktop's own user, the way the agent starts
 * the session's programs ({@code DesktopLauncher}, {@code DesktopAccount.command}): as root through {@code setpriv}
 * with the desktop user's uid and group, no supplementary groups, no capabilities, no new privileges; with only
 * {@code PATH}, {@code HOME}, {@code DISPLAY}, {@code XAUTHORITY} and {@code TERM} in the environment; in the user's
 * home. Nothing here runs as root on a user's display. What it learns of the desktop it reads from the desktop's
 * Xvnc process ({@code /proc/<pid>}: its display and {@code -auth} file from the command line, its real uid and gid,
 * its working directory, which is the user's home).
 *
 * <p>Not thread-safe; {@code bench client} uses it from its one thread.
 */
final class DesktopPrograms {
    static final String SETPRIV = "/usr/bin/setpriv";
    private static final long STOP_WAIT_SECONDS = 10;

    /** One desktop as its Xvnc shows it. */
    record Desktop(long xvncPid, int display, Path xauthority, int uid, int gid, Path home) {}

    private final Desktop desktop;
    private final Path logDir;
    private final List<Process> started = new ArrayList<>();

    DesktopPrograms(Desktop desktop, Path logDir) {
        this.desktop = desktop;
        this.logDir = logDir;
    }

    Desktop desktop() { return desktop; }

    /**
     * The desktop of the one Xvnc under this JVM that is not in {@code before}.
     *
     * @throws DeskgateException when there is not exactly one, or its {@code /proc} entry cannot be read
     */
    static Desktop find(java.util.Set<Long> before) {
        List<Long> pids = OpenBench.xvncDescendants().stream().filter(p -> !before.contains(p)).toList();
        if (pids.size() != 1) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "expected one Xvnc of the bench's platform, found " + pids.size());
        }
        long pid = pids.getFirst();
        try {
            Path proc = Path.of("/proc", Long.toString(pid));
            List<String> argv = Arrays.asList(new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8).split("\0"));
            int display = argv.stream().filter(a -> a.matches(":[0-9]+")).findFirst()
                    .map(a -> Integer.parseInt(a.substring(1))).orElseThrow(() -> new IOException("no display in its command line"));
            int auth = argv.indexOf("-auth");
            if (auth < 0 || auth + 1 >= argv.size()) throw new IOException("no -auth in its command line");
            List<String> status = Files.readAllLines(proc.resolve("status"));
            int uid = idField(status, "Uid:");
            int gid = idField(status, "Gid:");
            Path home = Files.readSymbolicLink(proc.resolve("cwd"));
            return new Desktop(pid, display, Path.of(argv.get(auth + 1)), uid, gid, home);
        } catch (IOException | RuntimeException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "cannot read the desktop's Xvnc (pid " + pid + "): " + e.getMessage());
        }
    }

    private static int idField(List<String> status, String name) throws IOException {
        for (String line : status) {
            if (line.startsWith(name)) return Integer.parseInt(line.substring(name.length()).trim().split("\\s+")[0]);
        }
        throw new IOException("no " + name + " in its status");
    }

    /** {@code argv} as the desktop's user runs it: through setpriv when that is not this JVM's own user. */
    List<String> asDesktopUser(List<String> argv) {
        if (desktop.uid() == myUid()) return List.copyOf(argv);
        if (desktop.uid() == 0) throw new DeskgateException(Status.INTERNAL_ERROR, "the desktop runs as root: not starting programs on it");
        List<String> out = new ArrayList<>(List.of(SETPRIV, "--reuid=" + desktop.uid(), "--regid=" + desktop.gid(),
                "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"));
        out.addAll(argv);
        return out;
    }

    /** Starts {@code argv} on the desktop (its output to a log file in the bench's directory). */
    void start(List<String> argv) throws IOException {
        Path log = logDir.resolve("desktop-program-" + (started.size() + 1) + ".log");
        ProcessBuilder pb = new ProcessBuilder(asDesktopUser(argv)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .directory(desktop.home().toFile());
        pb.environment().clear();
        pb.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin"));
        pb.environment().put("HOME", desktop.home().toString());
        pb.environment().put("DISPLAY", ":" + desktop.display());
        pb.environment().put("XAUTHORITY", desktop.xauthority().toString());
        pb.environment().put("TERM", "xterm");
        started.add(pb.start());
    }

    /** Kills what {@link #start} started, with its descendants, and waits for it to exit. */
    void stopAll() {
        for (Process p : started.reversed()) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            try {
                p.waitFor(STOP_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        started.clear();
    }

    /** Whether every program started is still running (a workload whose program died at once measures nothing). */
    boolean allAlive() {
        return started.stream().allMatch(Process::isAlive);
    }

    private static int myUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
