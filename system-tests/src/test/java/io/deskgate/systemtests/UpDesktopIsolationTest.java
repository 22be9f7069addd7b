package io.deskgate.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.options.BoundingBox;
import io.deskgate.testkit.DeskgateProcess;
import io.deskgate.testkit.Prerequisites;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 6 item 1, end to end: {@code ./deskgate up} as root with two desktops; in the browser, the
 * user types into the desktop's xterm a probe that tries to read the platform's database password,
 * log in to the embedded PostgreSQL with it and list the other desktop's home. Every attempt is
 * refused, and the shell's uid is the desktop's own user, not root.
 */
class UpDesktopIsolationTest {
    private static final String PASSWORD = "iso-Admin-Password-1";
    private static final Path HOMES = Path.of("/var/lib/deskgate-desktops");
    private static final List<String> USERS = List.of("deskgate-d1", "deskgate-d2");

    @TempDir
    Path data;

    @Test
    void shouldRefuseTheDesktopsShellThePlatformsDataAndTheOtherDesktop() throws Exception {
        Prerequisites.require("Xvnc", "tigervnc-standalone-server");
        Prerequisites.require("xterm", "xterm");
        Prerequisites.require("psql", "postgresql-client");
        Prerequisites.requireRoot();
        for (String user : USERS) Files.deleteIfExists(HOMES.resolve(user).resolve("probe.txt"));
        try (DeskgateProcess dg = DeskgateProcess.start(DeskgateProcess.repoRoot(), "up", "--port", "0",
                "--desktops", "2", "--data", data.toString(), "--admin-password", PASSWORD);
             Playwright pw = Chromium.playwright()) {
            URI url = dg.awaitUp(Duration.ofSeconds(120));
            int pgPort = Integer.parseInt(Files.readAllLines(data.resolve("pg/postmaster.pid")).get(3).strip());
            Browser browser = Chromium.launch(pw);
            Page page = browser.newContext(new Browser.NewContextOptions().setViewportSize(1280, 860)).newPage();
            page.setDefaultTimeout(30_000);
            page.navigate(url.toString());
            page.fill("#username", "admin");
            page.fill("#password", PASSWORD);
            page.click("#login");
            page.waitForSelector(".desktop .open");
            page.click(".desktop .open");
            page.waitForFunction("() => window.deskgate && window.deskgate.framesDrawn > 0");
            page.waitForFunction(ViewerPage.DESKTOP_FITS_THE_WINDOW); // before pointing at anything: the scale changes with it
            page.waitForFunction(ViewerPage.SHOWS_A_DESKTOP);

            BoundingBox box = page.locator("#screen").boundingBox();
            double scale = ViewerPage.scale(page);
            page.mouse().move(box.x + 200 * scale, box.y + 150 * scale);
            page.mouse().click(box.x + 200 * scale, box.y + 150 * scale);
            String out = " >> ~/probe.tmp 2>&1; ";
            page.keyboard().type("id -u" + out
                    + "cat " + data.resolve("pg-password") + out
                    + "PGPASSWORD=$(cat " + data.resolve("pg-password") + ") psql -w -h 127.0.0.1 -p " + pgPort
                    + " -U postgres -c 'select 1'" + out
                    + "ls " + HOMES.resolve(USERS.get(0)) + " " + HOMES.resolve(USERS.get(1)) + out
                    + "echo done" + out + "mv ~/probe.tmp ~/probe.txt");
            page.keyboard().press("Enter");

            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            Optional<Path> report = Optional.empty();
            while (report.isEmpty() && System.nanoTime() < deadline) {
                report = USERS.stream().map(u -> HOMES.resolve(u).resolve("probe.txt")).filter(Files::exists).findFirst();
                if (report.isEmpty()) Thread.sleep(100);
            }
            assertThat(report).as("the probe typed into the xterm ran").isPresent();
            List<String> lines = Files.readAllLines(report.get());
            String text = String.join("\n", lines);
            int uid = Integer.parseInt(lines.getFirst().strip());
            assertThat(uid).as(text).isNotZero()
                    .isEqualTo(Files.getAttribute(report.get().getParent(), "unix:uid"));
            assertThat(text).as("the database password file").contains("pg-password: Permission denied");
            assertThat(text).as("PostgreSQL").contains("psql: error").doesNotContain("(1 row)");
            assertThat(text).as("the other desktop's home").containsPattern("deskgate-d[12]': Permission denied");
            assertThat(lines.getLast()).isEqualTo("done");
            browser.close();
        }
    }
}
