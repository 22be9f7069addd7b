package io.deskgate.bench;

import com.microsoft.playwright.Page;
import com.microsoft.playwright.PlaywrightException;
import com.microsoft.playwright.options.BoundingBox;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The live input latency of issue 10 on a {@link LiveDesktop} whose desktop is idle but for its session xterm (under
 * the pointer, so it has the focus): {@code presses} times, alternately, a key pressed in Chromium until the viewer
 * draws a frame, and the same key sent by the direct RFB client until a FramebufferUpdate changes pixels; the keys
 * alternate {@code x} and BackSpace, so the xterm's line stays short. Before each press both sides wait until the
 * desktop is quiet (no frame drawn and no pixels changed for {@link #QUIET}).
 *
 * <ul>
 *   <li>browser: from the page's {@code keydown} (a capturing listener on the window, so before the viewer's own,
 *       {@code performance.now()}) to the first frame the viewer reports drawn after it
 *       ({@code window.deskgate.frameTimesMs()}: the main thread's time of each {@code frameDrawn} from the drawing
 *       worker, after that frame's draws ran on the worker's requestAnimationFrame);</li>
 *   <li>direct: from writing the RFB KeyEvent to the end of the first FramebufferUpdate whose pixels differ from the
 *       previous framebuffer.</li>
 * </ul>
 * Added latency: the browser's p50 minus the direct p50, and the same for p99 (nearest rank).
 */
final class InputLatency {
    static final int DEFAULT_PRESSES = 40;
    static final Duration QUIET = Duration.ofMillis(200);
    private static final Duration PRESS_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration QUIET_TIMEOUT = Duration.ofSeconds(20);
    private static final String[] BROWSER_KEYS = {"x", "Backspace"};
    private static final long[] KEYSYMS = {'x', 0xff08};

    /** Milliseconds per press, each side. */
    record Result(List<Double> browserMs, List<Double> directMs) {
        Result {
            browserMs = List.copyOf(browserMs);
            directMs = List.copyOf(directMs);
            if (browserMs.isEmpty() || directMs.isEmpty()) throw new IllegalArgumentException("no presses measured");
        }

        double addedP50Ms() { return percentile(browserMs, 50) - percentile(directMs, 50); }

        double addedP99Ms() { return percentile(browserMs, 99) - percentile(directMs, 99); }

        /** {@code input latency: browser_p50_ms=.. browser_p99_ms=.. direct_p50_ms=.. direct_p99_ms=.. presses=..}. */
        String line() {
            return String.format(Locale.ROOT, "input latency: browser_p50_ms=%.1f browser_p99_ms=%.1f direct_p50_ms=%.1f"
                            + " direct_p99_ms=%.1f added_p50_ms=%.1f added_p99_ms=%.1f presses=%d",
                    percentile(browserMs, 50), percentile(browserMs, 99), percentile(directMs, 50), percentile(directMs, 99),
                    addedP50Ms(), addedP99Ms(), browserMs.size());
        }
    }

    private InputLatency() {}

    /** Measures {@code presses} presses each way on {@code live}. */
    static Result measure(LiveDesktop live, int presses, PrintStream progress) {
        if (presses < 1) throw new IllegalArgumentException("presses must be >= 1, was " + presses);
        Page page = live.page();
        DirectRfb direct = live.direct();
        List<Double> browser = new ArrayList<>();
        List<Double> ref = new ArrayList<>();
        direct.watch(true);
        try {
            focusTheSessionXterm(page);
            page.evaluate("() => { if (!window.__benchKeydown) { window.__benchKeydown = true;"
                    + " window.addEventListener('keydown', () => { window.__benchPressedAtMs = performance.now(); }, true); } }");
            for (int i = 0; i < presses; i++) {
                int k = i % 2;
                awaitQuiet(page, direct);
                page.evaluate("() => { window.__benchPressedAtMs = undefined; }");
                page.keyboard().press(BROWSER_KEYS[k]);
                page.waitForFunction("() => { const t = window.__benchPressedAtMs; return t !== undefined"
                        + " && window.deskgate.frameTimesMs().some(x => x > t); }", null,
                        new Page.WaitForFunctionOptions().setPollingInterval(2).setTimeout(PRESS_TIMEOUT.toMillis()));
                browser.add(((Number) page.evaluate("() => { const t = window.__benchPressedAtMs;"
                        + " return Math.min(...window.deskgate.frameTimesMs().filter(x => x > t)) - t; }")).doubleValue());
                awaitQuiet(page, direct);
                ref.add(direct.pressAndAwaitChange(KEYSYMS[k], PRESS_TIMEOUT) / 1e6);
            }
        } catch (PlaywrightException e) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the browser's key presses did not show: "
                    + e.getMessage().lines().findFirst().orElse(""));
        } finally {
            direct.watch(false);
        }
        Result r = new Result(browser, ref);
        progress.println(r.line());
        return r;
    }

    /** Points at the session's xterm (twm puts it at desktop pixel 200,150; focus follows the pointer). */
    private static void focusTheSessionXterm(Page page) {
        BoundingBox box = page.locator("#screen").boundingBox();
        double scale = box.width / ((Number) page.evaluate("() => window.deskgate.size().w")).doubleValue();
        page.mouse().move(box.x + 200 * scale, box.y + 150 * scale);
        page.mouse().click(box.x + 200 * scale, box.y + 150 * scale);
    }

    private static void awaitQuiet(Page page, DirectRfb direct) {
        page.waitForFunction("q => { const f = window.deskgate.frameTimesMs(); return f.length === 0"
                + " || performance.now() - f[f.length - 1] >= q; }", (int) QUIET.toMillis(),
                new Page.WaitForFunctionOptions().setPollingInterval(20).setTimeout(QUIET_TIMEOUT.toMillis()));
        if (!direct.awaitQuiet(QUIET, QUIET_TIMEOUT)) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the desktop did not become quiet within "
                    + QUIET_TIMEOUT.toSeconds() + " s (the input latency needs an idle desktop)");
        }
    }

    /** Nearest rank: the ceil(p/100 * n)-th smallest value. */
    static double percentile(List<Double> values, int p) {
        if (values.isEmpty()) throw new IllegalArgumentException("no values");
        List<Double> sorted = values.stream().sorted().toList();
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(1, rank) - 1);
    }
}
