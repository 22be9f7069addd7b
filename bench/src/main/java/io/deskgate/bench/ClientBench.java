package io.deskgate.bench;

import com.microsoft.playwright.Page;
import com.microsoft.playwright.PlaywrightException;
import io.deskgate.bench.workload.Workload;
import io.deskgate.bench.workload.Workloads;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code deskgate bench client}: what the browser pays for each live workload. On a {@link LiveDesktop} (the product
 * in this JVM, headless Chromium at 1280x800 showing its desktop), first the live input latency ({@link InputLatency},
 * on the idle desktop), then per workload W1..W4: its programs ({@link Workloads}) started on the desktop as the
 * desktop's user ({@link DesktopPrograms}), {@code settle} to start and draw, then a window of {@code window}
 * measuring
 * <ul>
 *   <li>{@code kbyte_s}: the bytes received on the viewer's WebSocket (the viewer's own counter,
 *       {@code window.deskgate.bytesReceived}: the binary messages' payloads, WebSocket framing not counted) / 1000 /
 *       the window's seconds;</li>
 *   <li>{@code fps}: the frames the viewer drew ({@code window.deskgate.framesDrawn}, counted when the drawing worker
 *       reports a frame's draws done on its requestAnimationFrame) / seconds;</li>
 *   <li>{@code cpu_pct}: the CPU of every Chromium process under this JVM (browser, renderer, GPU and utility
 *       processes: {@code utime + stime} of {@code /proc/<pid>/stat}, after minus before) / the window, as % of one
 *       core.</li>
 * </ul>
 * then the programs are killed and the desktop left to go quiet. Single-threaded; blocks for the whole run.
 */
final class ClientBench {
    static final Duration DEFAULT_SETTLE = Duration.ofMillis(2500);
    static final Duration DEFAULT_WINDOW = Duration.ofSeconds(10);
    static final List<String> LINE_WORKLOADS = List.of("w1", "w2", "w3", "w4");
    private static final Duration AFTER_QUIET = Duration.ofMillis(500);
    private static final Duration AFTER_TIMEOUT = Duration.ofSeconds(15);

    /** One workload's window. */
    record WorkloadResult(Workload workload, long bytes, long frames, long cpuTicks, double seconds) {
        double kbytePerSecond() { return bytes / 1000.0 / seconds; }

        double fps() { return frames / seconds; }

        double cpuPercent() { return 100.0 * cpuTicks / ProcessCpu.CLOCK_TICKS_PER_SECOND / seconds; }

        String line() {
            return String.format(Locale.ROOT, "%s-%s: kbyte_s=%.1f fps=%.1f cpu_pct=%.1f bytes=%d frames=%d seconds=%.2f",
                    workload.id(), workload.name(), kbytePerSecond(), fps(), cpuPercent(), bytes, frames, seconds);
        }
    }

    /** The workloads measured and the input latency, if it was. */
    record Result(List<WorkloadResult> workloads, Optional<InputLatency.Result> latency) {
        Result {
            workloads = List.copyOf(workloads);
        }

        /** {@code client: w1_kbyte_s=.. w1_fps=.. w1_cpu_pct=.. ... w4_cpu_pct=..}; {@code n/a} for a workload not run. */
        String line() {
            StringBuilder b = new StringBuilder("client:");
            for (String id : LINE_WORKLOADS) {
                Optional<WorkloadResult> r = workloads.stream().filter(w -> w.workload().id().equals(id)).findFirst();
                b.append(' ').append(id).append("_kbyte_s=").append(r.map(w -> fmt1(w.kbytePerSecond())).orElse("n/a"));
                b.append(' ').append(id).append("_fps=").append(r.map(w -> fmt1(w.fps())).orElse("n/a"));
                b.append(' ').append(id).append("_cpu_pct=").append(r.map(w -> fmt1(w.cpuPercent())).orElse("n/a"));
            }
            return b.toString();
        }
    }

    private ClientBench() {}

    /** The workloads {@code bench client} can run: W1..W4 (W5 is input sent over RFB, not a program). */
    static List<Workload> workloads(List<String> ids) {
        List<Workload> out = new ArrayList<>();
        for (String id : ids) {
            Workload w = Workloads.byId(id);
            if (!LINE_WORKLOADS.contains(w.id())) throw new IllegalArgumentException("bench client runs w1..w4, not " + id);
            out.add(w);
        }
        return out;
    }

    /** Runs it all (see the class comment); {@code presses} 0 skips the input latency. */
    static Result run(List<Workload> workloads, Duration settle, Duration window, int presses, PrintStream progress) {
        if (window.isNegative() || window.isZero()) throw new IllegalArgumentException("the window must be positive");
        if (presses < 0) throw new IllegalArgumentException("presses must be >= 0");
        try (LiveDesktop live = LiveDesktop.start(progress)) {
            Optional<InputLatency.Result> latency = presses == 0 ? Optional.empty()
                    : Optional.of(InputLatency.measure(live, presses, progress));
            List<WorkloadResult> results = new ArrayList<>();
            for (Workload w : workloads) {
                WorkloadResult r = one(live, w, settle, window);
                progress.println(r.line());
                results.add(r);
            }
            return new Result(results, latency);
        }
    }

    private static WorkloadResult one(LiveDesktop live, Workload w, Duration settle, Duration window) {
        Page page = live.page();
        DesktopPrograms programs = live.programs();
        try {
            for (List<String> c : w.commands(javaExecutable(), workloadClassPath())) programs.start(c);
            sleep(settle);
            if (!programs.allAlive()) {
                throw new DeskgateException(Status.INTERNAL_ERROR, w.id() + ": a program of the workload exited at start"
                        + " (see desktop-program-*.log in the bench's data directory)");
            }
            Map<Long, Long> cpuBefore = ProcessCpu.ticksOfDescendants(LiveDesktop::isChromium);
            long[] before = counters(page);
            long t0 = System.nanoTime();
            sleep(window);
            long[] after = counters(page);
            double seconds = (System.nanoTime() - t0) / 1e9;
            long ticks = ProcessCpu.spent(cpuBefore, ProcessCpu.ticksOfDescendants(LiveDesktop::isChromium));
            return new WorkloadResult(w, after[0] - before[0], after[1] - before[1], ticks, seconds);
        } catch (IOException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, w.id() + ": cannot start its programs: " + e.getMessage());
        } catch (PlaywrightException e) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, w.id() + ": the page did not answer: "
                    + e.getMessage().lines().findFirst().orElse(""));
        } finally {
            programs.stopAll();
            try {
                page.waitForFunction("q => { const f = window.deskgate.frameTimesMs(); return f.length === 0"
                        + " || performance.now() - f[f.length - 1] >= q; }", (int) AFTER_QUIET.toMillis(),
                        new Page.WaitForFunctionOptions().setPollingInterval(50).setTimeout(AFTER_TIMEOUT.toMillis()));
            } catch (PlaywrightException e) {
                // The next workload starts anyway; its settle time absorbs what is left.
            }
        }
    }

    /** The viewer's bytes received and frames drawn since the page loaded. */
    private static long[] counters(Page page) {
        @SuppressWarnings("unchecked")
        List<Number> c = (List<Number>) page.evaluate("() => [window.deskgate.bytesReceived, window.deskgate.framesDrawn]");
        return new long[] {c.get(0).longValue(), c.get(1).longValue()};
    }

    private static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Where the workload programs' classes are (the bench module's classes or jar), for {@code {cp}}. */
    static String workloadClassPath() {
        try {
            return Path.of(Workloads.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException | RuntimeException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "cannot tell where the workload programs' classes are: " + e.getMessage());
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeskgateException(Status.INTERNAL_ERROR, "interrupted");
        }
    }

    private static String fmt1(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
