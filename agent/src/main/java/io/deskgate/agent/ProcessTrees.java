package io.deskgate.agent;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stopping processes the agent owns: a desktop's process trees, every process of a desktop's OS user,
 * and processes an earlier run left behind, recognised by pid and start time ({@code /proc/<pid>/stat}
 * field 22), so that a recycled pid is never hit. Stateless and thread-safe; every wait is bounded.
 */
final class ProcessTrees {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessTrees.class);
    static final Duration STOP_GRACE = Duration.ofSeconds(3);
    static final Duration ORPHAN_GRACE = Duration.ofMillis(500);
    static final Duration POLL_INTERVAL = Duration.ofMillis(20);
    /** Rounds of SIGTERM/SIGKILL over a user's processes (each may find children forked meanwhile). */
    static final int USER_KILL_ROUNDS = 5;

    private ProcessTrees() {}

    /**
     * Terminates processes and all their descendants; returns when all are gone or were killed.
     * Only the given processes get SIGTERM, and up to {@link #STOP_GRACE} to exit: their descendants
     * usually follow by themselves (an interactive shell ignores SIGTERM but exits on the hang-up when
     * its xterm closes the terminal). Descendants still there {@link #ORPHAN_GRACE} later, and roots
     * past their grace, get SIGKILL: the session they belonged to is over.
     */
    static void terminate(List<ProcessHandle> roots) {
        List<ProcessHandle> tree = new ArrayList<>(roots);
        for (ProcessHandle p : roots) p.descendants().forEach(tree::add);
        roots.forEach(ProcessHandle::destroy);
        boolean rootsGone = awaitGone(roots, STOP_GRACE);
        if (!rootsGone || !awaitGone(tree, ORPHAN_GRACE)) {
            tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
            if (!awaitGone(tree, STOP_GRACE)) {
                LOG.warn("processes survived SIGKILL: {}", tree.stream().filter(ProcessHandle::isAlive)
                        .map(ProcessHandle::pid).toList());
            }
        }
    }

    /**
     * Stops every process whose real or effective uid is {@code uid}: SIGTERM, then SIGKILL after
     * {@link #ORPHAN_GRACE}, repeated for children forked meanwhile. Returns how many processes were
     * found; false survivors are logged.
     */
    static int killUser(int uid) {
        int found = 0;
        for (int round = 0; round < USER_KILL_ROUNDS; round++) {
            List<ProcessHandle> procs = processesOf(uid);
            if (procs.isEmpty()) return found;
            found += procs.size();
            procs.forEach(ProcessHandle::destroy);
            if (!awaitGone(procs, ORPHAN_GRACE)) {
                procs.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
                awaitGone(procs, STOP_GRACE);
            }
        }
        List<ProcessHandle> left = processesOf(uid);
        if (!left.isEmpty()) LOG.warn("processes of uid {} survived SIGKILL: {}", uid, left.stream().map(ProcessHandle::pid).toList());
        return found;
    }

    /** The live processes whose real or effective uid is {@code uid}, read from {@code /proc}. */
    static List<ProcessHandle> processesOf(int uid) {
        List<ProcessHandle> out = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(Path.of("/proc"), p -> isPid(p.getFileName().toString()))) {
            for (Path dir : dirs) {
                try {
                    if (uidMatches(Files.readString(dir.resolve("status")), uid)) {
                        ProcessHandle.of(Long.parseLong(dir.getFileName().toString())).ifPresent(out::add);
                    }
                } catch (IOException | RuntimeException e) {
                    // The process ended meanwhile.
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot list /proc: {}", e.getMessage());
        }
        return out;
    }

    /** Whether a {@code /proc/<pid>/status} text has {@code uid} as its real or effective uid. */
    static boolean uidMatches(String status, int uid) {
        for (String line : status.split("\n")) {
            if (!line.startsWith("Uid:")) continue;
            String[] f = line.substring(4).trim().split("\\s+");
            return f.length >= 2 && (f[0].equals(Integer.toString(uid)) || f[1].equals(Integer.toString(uid)));
        }
        return false;
    }

    /** The start time of a live process in clock ticks since boot, or empty when it is gone. */
    static OptionalLong startTime(long pid) {
        try {
            return OptionalLong.of(parseStartTime(Files.readString(Path.of("/proc", Long.toString(pid), "stat"))));
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * Field 22 ({@code starttime}) of a {@code /proc/<pid>/stat} line. The command name (field 2) is in
     * parentheses and may hold spaces or parentheses, so fields are counted after the last ')'.
     */
    static long parseStartTime(String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0) throw new IllegalArgumentException("not a /proc stat line");
        String[] fields = stat.substring(close + 1).trim().split("\\s+");
        // fields[0] is field 3 (state), so field 22 is fields[19].
        return Long.parseLong(fields[19]);
    }

    static boolean awaitGone(Collection<ProcessHandle> procs, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (procs.stream().anyMatch(ProcessHandle::isAlive)) {
            if (System.nanoTime() - deadline >= 0) return false;
            try {
                Thread.sleep(POLL_INTERVAL);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private static boolean isPid(String name) {
        return !name.isEmpty() && name.chars().allMatch(c -> c >= '0' && c <= '9');
    }
}
