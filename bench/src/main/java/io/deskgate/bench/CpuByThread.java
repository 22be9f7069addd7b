package io.deskgate.bench;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where the CPU of a bench phase went in this JVM, by thread-name prefix ({@link ThreadMXBean} per thread), plus
 * the JVM's own threads (GC, JIT: the process's CPU less its Java threads') and the processes this JVM started
 * (the embedded PostgreSQL: {@code /proc/<pid>/stat} of its descendants). A thread that ended during the phase is
 * not counted under its group (its time shows in the JVM's share). Virtual threads have no CPU time of their own:
 * theirs is their carriers' ({@code ForkJoinPool-...}). Not thread-safe; one per phase.
 */
final class CpuByThread {
    /** A group of threads: the first prefix that matches a thread's name names its group. */
    record Group(String label, List<String> prefixes) {}

    private static final long CLOCK_TICK_NS = 10_000_000L; // USER_HZ 100 on Linux

    private final List<Group> groups;
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final Map<Long, Long> startCpu = new HashMap<>();
    private final long startProcess;
    private final long startChildren;
    private final Path postmasterPid;

    private CpuByThread(List<Group> groups, Path postmasterPid) {
        this.groups = List.copyOf(groups);
        this.postmasterPid = postmasterPid;
        for (long id : threads.getAllThreadIds()) {
            long cpu = threads.getThreadCpuTime(id);
            if (cpu >= 0) startCpu.put(id, cpu);
        }
        startProcess = os.getProcessCpuTime();
        startChildren = childrenCpuNs();
    }

    /**
     * Starts counting now.
     *
     * @param postmasterPid the embedded PostgreSQL's {@code postmaster.pid} (its server and backends are counted as
     *                      the child processes: {@code pg_ctl} detaches them from this JVM)
     */
    static CpuByThread start(List<Group> groups, Path postmasterPid) {
        return new CpuByThread(groups, postmasterPid);
    }

    /** CPU nanoseconds since the start, by group label, then "jvm (gc, jit, ended threads)", "child processes" and "total". */
    Map<String, Long> sinceStart() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Group g : groups) out.put(g.label(), 0L);
        out.put("other threads", 0L);
        long javaThreads = 0;
        for (long id : threads.getAllThreadIds()) {
            long cpu = threads.getThreadCpuTime(id);
            java.lang.management.ThreadInfo info = threads.getThreadInfo(id);
            if (cpu < 0 || info == null) continue;
            long used = cpu - startCpu.getOrDefault(id, 0L);
            javaThreads += used;
            out.merge(groupOf(info.getThreadName()), used, Long::sum);
        }
        long process = os.getProcessCpuTime() - startProcess;
        out.put("jvm (gc, jit, ended threads)", Math.max(0, process - javaThreads));
        long children = childrenCpuNs() - startChildren;
        out.put("child processes (postgres)", children);
        out.put("total", process + children);
        return out;
    }

    /** One line: each group's CPU per {@code units} (e.g. per launch), in microseconds, and its share. */
    String perUnit(long units, String unit) {
        Map<String, Long> cpu = sinceStart();
        long total = Math.max(1, cpu.get("total"));
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "cpu per %s: %.0f us", unit, total / 1e3 / Math.max(1, units)));
        for (var e : cpu.entrySet()) {
            if (e.getKey().equals("total") || e.getValue() == 0) continue;
            b.append(String.format(Locale.ROOT, "; %s %.0f us (%.0f %%)", e.getKey(), e.getValue() / 1e3 / Math.max(1, units),
                    100.0 * e.getValue() / total));
        }
        return b.toString();
    }

    private String groupOf(String name) {
        for (Group g : groups) {
            for (String p : g.prefixes()) if (name.startsWith(p)) return g.label();
        }
        return "other threads";
    }

    /**
     * User and system CPU of every process this JVM started and of the PostgreSQL server and its backends, from /proc;
     * 0 where it cannot be read.
     */
    private long childrenCpuNs() {
        long[] sum = {0};
        java.util.stream.Stream<ProcessHandle> postgres = java.util.stream.Stream.empty();
        try {
            long pid = Long.parseLong(Files.readAllLines(postmasterPid).getFirst().trim());
            postgres = ProcessHandle.of(pid).stream().flatMap(p -> java.util.stream.Stream.concat(java.util.stream.Stream.of(p),
                    p.descendants()));
        } catch (IOException | RuntimeException e) {
            // no server (yet): not counted
        }
        java.util.stream.Stream.concat(ProcessHandle.current().descendants(), postgres).distinct().forEach(p -> {
            try {
                String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
                // Fields after the command's closing parenthesis: state is the 3rd field, utime the 14th, stime the 15th.
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                sum[0] += (Long.parseLong(f[11]) + Long.parseLong(f[12])) * CLOCK_TICK_NS;
            } catch (IOException | RuntimeException e) {
                // the process ended, or no /proc: not counted
            }
        });
        return sum[0];
    }
}
