package io.deskgate.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import io.deskgate.testkit.Conditions;
import io.deskgate.testkit.DeskgateProcess;
import io.deskgate.testkit.Prerequisites;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 9's cluster-mode browser check, in real Chromium against {@code deskgate up --cluster} (14 processes behind
 * Debian's HAProxy, real Xvnc desktops): a desktop opened through the one URL; {@code status --json} names the
 * frontdoor that launched it (a frontdoor's sessions: the active ones it launched), which is killed with SIGKILL: the
 * desktop keeps updating and typing works (the stream never passed that frontdoor). The same session opened in a
 * second tab through the other frontdoor (its own address, as status lists it: through the URL, HAProxy's leastconn
 * could pick the killed frontdoor once {@code up} has started it again) is a further connection
 * ({@code POST /api/sessions/{id}/connections}) on the same engine, whose connection tally counts both; and both tabs
 * show the same desktop, whichever of them types.
 */
class UpClusterBrowserTest {
    private static final Duration START = Duration.ofMinutes(12);
    private static final Duration RECOVER = Duration.ofMinutes(2);
    private static final String PASSWORD = "cluster-Browser-Password-1";
    /** Each canvas is cut into blocks of this many pixels a side; two tabs show the same desktop when their blocks' means agree. */
    private static final int BLOCK = 16;
    /**
     * The canvas's block means (red+green+blue over the block, divided by 3), row by row: what two tabs compare (the
     * encoder may be lossy, so not the bytes). {@code null} until the viewer draws.
     */
    private static final String BLOCK_MEANS = "async (n) => { if (!window.deskgate || !window.deskgate.pixels) return null;"
            + " const { w, h, data: d } = await window.deskgate.pixels(); if (w < 100) return null; const out = [];"
            + " for (let by = 0; by + n <= h; by += n) for (let bx = 0; bx + n <= w; bx += n) { let s = 0;"
            + " for (let y = by; y < by + n; y += 2) for (let x = bx; x < bx + n; x += 2) { const i = (y * w + x) * 4; s += d[i] + d[i+1] + d[i+2]; }"
            + " out.push(Math.round(s / (3 * (n / 2) * (n / 2)))); } return w + 'x' + h + ':' + out.join(','); }";

    @Test
    void shouldKeepTheDesktopWhenItsFrontdoorIsKilledAndShowItInASecondTabThroughTheOtherFrontdoor() throws Exception {
        Prerequisites.require("Xvnc", "tigervnc-standalone-server");
        Prerequisites.require("haproxy", "haproxy");
        // Under target/: the members' logs stay there for a failure to be read.
        Path data = Path.of("target", "up-cluster-browser-" + System.currentTimeMillis()).toAbsolutePath();
        try (DeskgateProcess up = DeskgateProcess.start(DeskgateProcess.repoRoot(), "up", "--cluster", "--port", "0",
                "--data", data.toString(), "--desktops", "2", "--admin-password", PASSWORD);
             Playwright pw = Chromium.playwright()) {
            URI url = up.awaitUp(START);
            Browser browser = Chromium.launch(pw);
            BrowserContext context = browser.newContext(new Browser.NewContextOptions().setViewportSize(1000, 700));
            Page first = context.newPage();
            first.setDefaultTimeout(RECOVER.toMillis());

            // The first tab, through the one URL: the first open launches a session (no instance of its own).
            PortalPage.logIn(first, url, "admin", PASSWORD);
            first.click(".desktop .open");
            awaitDesktop(first);
            Map<?, ?> opened = (Map<?, ?>) first.evaluate("() => window.deskgate.opened");
            assertThat(opened.get("instanceId")).as("the first open is a launch").isEqualTo("");
            String sessionId = (String) opened.get("sessionId");
            String desktopId = (String) opened.get("desktopId");

            JsonNode processes = ClusterStatus.processes(data);
            String served = ClusterStatus.holding(processes, "frontdoor", 1);
            String other = ClusterStatus.ids(processes, "frontdoor").stream().filter(id -> !id.equals(served)).findFirst().orElseThrow();
            String engine = ClusterStatus.holding(processes, "engine", 1);
            String otherAddress = ClusterStatus.find(processes, other).path("address").asText();
            assertThat(otherAddress).as("the other frontdoor's portal URL").startsWith("http");

            // SIGKILL the frontdoor that launched the session: the desktop keeps updating, and typing works.
            long pid = ClusterStatus.pidOf(processes, served);
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();
            Conditions.await(served + " (pid " + pid + ") exits after SIGKILL", RECOVER,
                    () -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true));
            PortalPage.typeAndSeeTheCanvasChange(first, "echo after-the-kill-" + System.nanoTime());
            assertThat(first.locator("#status").getAttribute("data-state")).as("the first tab's stream").isEqualTo("connected");

            // A second tab of the same browser (logged in still) at the other frontdoor: the desktop the list shows with its
            // session opens as a further connection of that session.
            Page second = context.newPage();
            second.setDefaultTimeout(RECOVER.toMillis());
            second.navigate(otherAddress);
            String button = ".desktop[data-id=\"" + desktopId + "\"] .open";
            second.waitForSelector(button);
            second.click(button);
            awaitDesktop(second);
            Map<?, ?> again = (Map<?, ?>) second.evaluate("() => window.deskgate.opened");
            assertThat(again.get("sessionId")).as("the second tab's session").isEqualTo(sessionId);
            assertThat((String) again.get("instanceId")).as("a further connection: an instance of its own").isNotEmpty();

            // status --json: the same engine holds the session, and its connection tally (its load) counts both tabs.
            Conditions.await("engine " + engine + " holds the session with both tabs' connections", RECOVER, () -> {
                JsonNode now = ClusterStatus.processes(data);
                JsonNode row = ClusterStatus.find(now, engine);
                return row != null && row.path("sessions").asInt() == 1 && row.path("load").asInt() >= 2;
            });
            assertThat(ClusterStatus.holding(ClusterStatus.processes(data), "engine", 1)).as("the session's engine").isEqualTo(engine);

            // Both tabs show the same desktop, whichever types: each sees the other's typing, and their canvases agree.
            PortalPage.typeAndSeeTheCanvasChange(second, "echo from-the-second-tab-" + System.nanoTime());
            awaitSameDesktop(first, second);
            first.evaluate(ViewerPage.SNAPSHOT);
            second.evaluate(ViewerPage.SNAPSHOT);
            PortalPage.typeAndSeeTheCanvasChange(first, "echo from-the-first-tab-" + System.nanoTime());
            second.waitForFunction(ViewerPage.CHANGED_SINCE_SNAPSHOT);
            awaitSameDesktop(first, second);
            first.screenshot(new Page.ScreenshotOptions().setPath(Path.of("target", "cluster-first-tab.png")));
            second.screenshot(new Page.ScreenshotOptions().setPath(Path.of("target", "cluster-second-tab.png")));

            browser.close();
            assertThat(up.stop(RECOVER)).as("up's exit status after SIGTERM").isIn(0, 130, 143);
        }
        // Kept for reading only when the test failed.
        UpClusterTest.deleteTree(data);
    }

    private static void awaitDesktop(Page page) {
        page.waitForFunction("() => window.deskgate && window.deskgate.opened && window.deskgate.framesDrawn > 0");
        page.waitForFunction(ViewerPage.DESKTOP_FITS_THE_WINDOW);
        page.waitForFunction(ViewerPage.SHOWS_A_DESKTOP);
    }

    /**
     * Until both canvases have one size and no block's means differ by more than 8 (of 255): a line of text one tab
     * lacks moves a block's mean by far more, a lossy encoding of the same pixels by less.
     */
    private static void awaitSameDesktop(Page a, Page b) {
        List<String> last = new java.util.ArrayList<>(List.of("", ""));
        try {
            Conditions.await("both tabs show the same desktop", RECOVER, () -> {
            String x = (String) a.evaluate(BLOCK_MEANS, BLOCK);
            String y = (String) b.evaluate(BLOCK_MEANS, BLOCK);
            last.set(0, x == null ? "null" : x.substring(0, Math.min(x.length(), 80)));
            last.set(1, y == null ? "null" : y.substring(0, Math.min(y.length(), 80)));
            return x != null && y != null && agree(x, y);
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; the last block means seen: " + last, e);
        }
    }

    private static boolean agree(String x, String y) {
        String[] sx = x.split(":", 2), sy = y.split(":", 2);
        if (!sx[0].equals(sy[0])) return false;
        String[] mx = sx[1].split(","), my = sy[1].split(",");
        if (mx.length != my.length || mx.length == 0) return false;
        int differ = 0;
        for (int i = 0; i < mx.length; i++) if (Math.abs(Integer.parseInt(mx[i]) - Integer.parseInt(my[i])) > 8) differ++;
        return differ == 0;
    }
}
