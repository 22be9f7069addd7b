package io.deskgate.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.options.BoundingBox;
import io.deskgate.testkit.DeskgateProcess;
import io.deskgate.testkit.Prerequisites;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The newcomer's path, end to end: {@code ./deskgate up} with one real Xvnc desktop, Debian's Chromium
 * logs in, opens the desktop, sees it on the canvas, types a shell command into the xterm and sees the
 * text appear; then SIGTERM stops everything and leaves no desktop process behind.
 */
class UpEndToEndTest {
    private static final String PASSWORD = "e2e-Admin-Password-1";

    @TempDir
    Path data;

    /** The same scenario over each transport: plain HTTP/WS on loopback, and HTTPS/WSS (self-signed). */
    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {false, true})
    void shouldServeARealDesktopInTheBrowserAndTakeTypedInput(boolean tls) throws Exception {
        Prerequisites.require("Xvnc", "tigervnc-standalone-server");
        Prerequisites.require("xterm", "xterm");
        List<String> args = new java.util.ArrayList<>(List.of("up", "--port", "0", "--desktops", "1",
                "--data", data.toString(), "--admin-password", PASSWORD));
        if (tls) args.add("--tls");
        try (DeskgateProcess dg = DeskgateProcess.start(DeskgateProcess.repoRoot(), args.toArray(String[]::new));
             Playwright pw = Chromium.playwright()) {
            URI url = dg.awaitUp(Duration.ofSeconds(120));
            assertThat(url.getScheme()).isEqualTo(tls ? "https" : "http");
            System.out.println("e2e: up_ready_ms=" + dg.millisToUp());
            List<ProcessHandle> children = dg.process().toHandle().descendants().toList();
            assertThat(children).as("up runs desktop processes").anyMatch(p -> p.info().command().orElse("").matches(".*/(Xvnc|Xtigervnc)$"));
            assertThat(dg.lines()).as("a given admin password is never echoed").noneMatch(l -> l.contains(PASSWORD));

            Browser browser = Chromium.launch(pw);
            // The self-signed certificate is accepted here as a user would accept it once in the browser.
            BrowserContext context = browser.newContext(new Browser.NewContextOptions().setViewportSize(1280, 860)
                    .setIgnoreHTTPSErrors(tls));
            Page page = context.newPage();
            List<String> webSockets = new java.util.concurrent.CopyOnWriteArrayList<>();
            page.onWebSocket(ws -> webSockets.add(ws.url()));
            page.setDefaultTimeout(30_000);
            page.navigate(url.toString());

            page.fill("#username", "admin");
            page.fill("#password", "wrong-password");
            page.click("#login");
            page.waitForSelector("text=Invalid organization, username or password");

            page.fill("#password", PASSWORD);
            page.click("#login");
            page.waitForSelector(".desktop .open");
            if (!tls) page.screenshot(new Page.ScreenshotOptions().setPath(Path.of("target", "e2e-desktops.png")));
            page.click(".desktop .open");
            long openedNs = System.nanoTime();
            page.waitForFunction("() => window.deskgate && window.deskgate.framesDrawn > 0");
            System.out.println("e2e: first_frame_ms=" + (System.nanoTime() - openedNs) / 1_000_000);
            page.waitForSelector("#status[data-state=connected]", new Page.WaitForSelectorOptions()
                    .setState(com.microsoft.playwright.options.WaitForSelectorState.ATTACHED));

            // The desktop took the window's size, and the canvas (drawn in the viewer's Worker) shows it.
            page.waitForFunction(ViewerPage.DESKTOP_FITS_THE_WINDOW); // before pointing at anything: the scale changes with it
            page.waitForFunction(ViewerPage.SHOWS_A_DESKTOP);

            // Snapshot the canvas, point at the xterm (focus follows the pointer), type, wait for the pixels to change.
            page.evaluate(ViewerPage.SNAPSHOT);
            BoundingBox box = page.locator("#screen").boundingBox();
            double scale = ViewerPage.scale(page);
            page.mouse().move(box.x + 200 * scale, box.y + 150 * scale);
            page.mouse().click(box.x + 200 * scale, box.y + 150 * scale);
            page.keyboard().type("echo deskgate-e2e-ok");
            page.keyboard().press("Enter");
            page.waitForFunction(ViewerPage.CHANGED_SINCE_SNAPSHOT);
            assertThat(webSockets).as("the stream's WebSocket").isNotEmpty()
                    .allMatch(u -> u.startsWith(tls ? "wss://" : "ws://"));
            page.screenshot(new Page.ScreenshotOptions().setPath(Path.of("target", "e2e-desktop" + (tls ? "-tls" : "") + ".png")));
            browser.close();

            int exit = dg.stop(Duration.ofSeconds(30));
            assertThat(exit).as("exit code after SIGTERM").isIn(0, 130, 143);
            for (ProcessHandle child : children) {
                try {
                    child.onExit().get(10, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    // asserted below
                }
            }
            assertThat(children).as("no child process (Xvnc, xterm, ...) outlives deskgate").noneMatch(ProcessHandle::isAlive);
        }
    }
}
