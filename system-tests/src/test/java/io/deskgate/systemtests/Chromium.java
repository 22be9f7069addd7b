package io.deskgate.systemtests;

import io.deskgate.testkit.Prerequisites;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Playwright;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Debian's Chromium driven by Playwright for Java, headless, with the flags this machine needs as
 * root on a closed network. Playwright never downloads a browser here.
 */
final class Chromium {
    static final List<String> FLAGS = List.of("--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage");

    private Chromium() {}

    /** Starts Playwright; the caller closes it (which also closes its browsers). */
    static Playwright playwright() {
        Path exe = Prerequisites.require("chromium", "chromium");
        Playwright pw = Playwright.create(new Playwright.CreateOptions()
                .setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
        System.setProperty("deskgate.chromium", exe.toString());
        return pw;
    }

    static Browser launch(Playwright pw) {
        return pw.chromium().launch(new BrowserType.LaunchOptions()
                .setExecutablePath(Path.of(System.getProperty("deskgate.chromium", "/usr/bin/chromium")))
                .setHeadless(true)
                .setArgs(FLAGS));
    }
}
