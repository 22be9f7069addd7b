package io.deskgate.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The CPU time of a set of processes, read from {@code /proc/<pid>/stat} ({@code utime + stime}, in clock ticks).
 * {@code bench client} sums it over every Chromium process under this JVM (Playwright's driver starts the browser,
 * which starts its renderer, GPU and utility processes). Stateless; Linux only.
 */
final class ProcessCpu {
    /** Linux's USER_HZ on every architecture Deskgate runs on (what {@code getconf CLK_TCK} prints). */
    static final int CLOCK_TICKS_PER_SECOND = 100;

    private ProcessCpu() {}

    /** Ticks of every live descendant of this JVM whose executable matches, by pid. */
    static Map<Long, Long> ticksOfDescendants(Predicate<String> command) {
        Map<Long, Long> out = new HashMap<>();
        ProcessHandle.current().descendants()
                .filter(p -> p.info().command().map(command::test).orElse(false))
                .forEach(p -> ticks(p.pid()).ifPresent(t -> out.put(p.pid(), t)));
        return out;
    }

    /**
     * The ticks spent between two readings: per pid, after minus before (a process that started in between counts
     * whole; one that ended in between is lost, its last ticks unknown).
     */
    static long spent(Map<Long, Long> before, Map<Long, Long> after) {
        long sum = 0;
        for (Map.Entry<Long, Long> e : after.entrySet()) sum += e.getValue() - before.getOrDefault(e.getKey(), 0L);
        return sum;
    }

    /** {@code utime + stime} of {@code pid}, or empty if it is gone. */
    static Optional<Long> ticks(long pid) {
        try {
            return Optional.of(parseTicks(Files.readString(Path.of("/proc", Long.toString(pid), "stat"))));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Fields 14 and 15 of a {@code /proc/<pid>/stat} line; the command (field 2) may hold spaces and parentheses. */
    static long parseTicks(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        // f[0] is field 3 (state): utime is field 14, stime field 15.
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
}
