package io.deskgate.bench;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.PlaywrightException;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.Secrets;
import io.deskgate.common.Status;
import io.deskgate.control.BrokerGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.ControlChannels;
import io.deskgate.control.Desktop;
import io.deskgate.control.FindDesktopReply;
import io.deskgate.control.FindDesktopRequest;
import io.deskgate.control.SessionStartedRequest;
import io.deskgate.launcher.Platform;
import io.deskgate.launcher.UpOptions;
import io.deskgate.testkit.Prerequisites;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The product as {@code deskgate up} runs it, in this JVM (embedded store, one real Xvnc desktop, real engine,
 * gateway and frontdoor on loopback, a fresh data directory), viewed by headless Chromium (Debian's, driven by
 * Playwright; viewport 1280x800) logged in as the administrator with the desktop open in the portal's viewer, and
 * a direct RFB connection on the same desktop (the input latency's reference).
 *
 * <p>The direct connection's credential is the product's own: before the browser logs in, the broker's
 * {@code FindDesktop} (gRPC with the control credential, as {@code bench open}'s direct reference) gives the
 * administrator the desktop and its one-time VNC password; the connection is shared, {@code SessionStarted} spends
 * the password. The browser's launch then is that user's reconnect: the broker gives them their desktop back and
 * the agent issues the engine a fresh one-time password. No security default is changed.
 *
 * <p>Single-threaded from the caller's point of view; {@link #close} stops everything and fails if an Xvnc it
 * started is still alive.
 */
final class LiveDesktop implements AutoCloseable {
    static final int VIEWPORT_WIDTH = 1280;
    static final int VIEWPORT_HEIGHT = 800;
    /** The flags Debian's Chromium needs here: headless as root on a closed network (as the system tests' Chromium). */
    static final List<String> CHROMIUM_FLAGS = List.of("--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage");
    /** True once the canvas shows the desktop: not one flat colour (root, xterm, its text and twm's title: at least 3). */
    static final String SHOWS_A_DESKTOP = "async () => { if (!window.deskgate || !window.deskgate.pixels) return false;"
            + " const { w, data: d } = await window.deskgate.pixels(); if (w < 100) return false; const seen = new Set();"
            + " for (let i = 0; i < d.length; i += 4 * 97) { seen.add((d[i] << 16) | (d[i+1] << 8) | d[i+2]); if (seen.size >= 3) return true; }"
            + " return false; }";
    private static final String USER = "admin";
    private static final int TENANT = 1;
    private static final String POOL = "default";
    private static final Duration GRPC_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration PAGE_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration XVNC_EXIT_TIMEOUT = Duration.ofSeconds(20);

    private final List<AutoCloseable> opened = new ArrayList<>();
    private final Set<Long> xvncBefore;
    private final Path data;
    private Platform platform;
    private DirectRfb direct;
    private Page page;
    private DesktopPrograms programs;

    private LiveDesktop(Set<Long> xvncBefore, Path data) {
        this.xvncBefore = xvncBefore;
        this.data = data;
    }

    /**
     * Checks for Xvnc, twm, xterm and Chromium, starts it all and returns once the canvas shows the desktop.
     *
     * @throws DeskgateException with one clear line when something is missing or does not start
     */
    static LiveDesktop start(PrintStream progress) {
        for (String[] need : new String[][] {{"Xvnc", "tigervnc-standalone-server"}, {"twm", "twm"}, {"xterm", "xterm"},
                {"chromium", "chromium"}}) {
            if (Prerequisites.which(need[0]).isEmpty()) {
                throw new DeskgateException(Status.INTERNAL_ERROR, need[0] + " not found: install the Debian package " + need[1]);
            }
        }
        LiveDesktop live = new LiveDesktop(OpenBench.xvncDescendants(), BenchDirectories.create("deskgate-client-bench-"));
        try {
            live.startAll(progress);
            return live;
        } catch (RuntimeException | Error e) {
            try {
                live.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void startAll(PrintStream progress) {
        String adminPassword = Secrets.randomPassword(24);
        long t0 = System.nanoTime();
        try {
            platform = Platform.start(UpOptions.builder().bindHost("127.0.0.1").port(0).desktops(1).dataDir(data)
                    .adminPassword(Optional.of(adminPassword)).build());
        } catch (IOException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "the platform did not start: " + e.getMessage());
        }
        opened.add(platform);
        progress.printf(Locale.ROOT, "platform ready in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        direct = openDirect();
        opened.add(direct);
        programs = new DesktopPrograms(DesktopPrograms.find(xvncBefore), data);
        opened.add(programs::stopAll);
        page = openViewer(adminPassword);
        progress.printf(Locale.ROOT, "Chromium shows the desktop (%s, display :%d, desktop user uid %d)%n",
                page.evaluate("() => { const s = window.deskgate.size(); return s.w + 'x' + s.h; }"),
                programs.desktop().display(), programs.desktop().uid());
    }

    private DirectRfb openDirect() {
        ManagedChannel channel = ControlChannels.open("127.0.0.1:" + platform.brokerGrpcPort(), new ControlAuth(platform.controlSecret()));
        try {
            String sessionId = UUID.randomUUID().toString();
            FindDesktopReply found;
            try {
                found = broker(channel).findDesktop(FindDesktopRequest.newBuilder().setSessionId(sessionId)
                        .setUser(USER).setTenant(TENANT).setPool(POOL).build());
            } catch (StatusRuntimeException e) {
                throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the broker found no desktop for the direct reference: "
                        + e.getStatus().getCode());
            }
            Desktop d = found.getDesktop();
            DirectRfb rfb = DirectRfb.connect(d.getHost(), d.getPort(), found.getVncPassword(), PAGE_TIMEOUT);
            try {
                broker(channel).sessionStarted(SessionStartedRequest.newBuilder().setDesktopId(d.getDesktopId())
                        .setSessionId(sessionId).build());
            } catch (StatusRuntimeException e) {
                rfb.close();
                throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the broker refused SessionStarted of the direct reference: "
                        + e.getStatus().getCode());
            }
            return rfb;
        } finally {
            ControlChannels.close(channel, Duration.ofSeconds(5));
        }
    }

    private static BrokerGrpc.BrokerBlockingStub broker(ManagedChannel channel) {
        return BrokerGrpc.newBlockingStub(channel).withDeadlineAfter(GRPC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private Page openViewer(String adminPassword) {
        Browser browser;
        try {
            Playwright pw = Playwright.create(new Playwright.CreateOptions().setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
            opened.add(pw);
            browser = pw.chromium().launch(new BrowserType.LaunchOptions()
                    .setExecutablePath(Prerequisites.which("chromium").orElseThrow()).setHeadless(true).setArgs(CHROMIUM_FLAGS));
        } catch (PlaywrightException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "Chromium did not start: " + firstLine(e.getMessage()));
        }
        try {
            BrowserContext context = browser.newContext(new Browser.NewContextOptions().setViewportSize(VIEWPORT_WIDTH, VIEWPORT_HEIGHT));
            Page p = context.newPage();
            p.setDefaultTimeout(PAGE_TIMEOUT.toMillis());
            p.navigate(platform.url().toString());
            p.fill("#username", USER);
            p.fill("#password", adminPassword);
            p.click("#login");
            p.waitForSelector(".desktop .open");
            p.click(".desktop .open");
            p.waitForFunction("() => window.deskgate && window.deskgate.framesDrawn > 0");
            p.waitForFunction(SHOWS_A_DESKTOP);
            return p;
        } catch (PlaywrightException e) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the portal did not show the desktop in Chromium: "
                    + firstLine(e.getMessage()));
        }
    }

    private static String firstLine(String s) {
        if (s == null) return "(no message)";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    Page page() { return page; }

    DirectRfb direct() { return direct; }

    DesktopPrograms programs() { return programs; }

    /** Whether a command names Chromium's executable (the browser and each of its child processes). */
    static boolean isChromium(String command) {
        return command.contains("/chromium") || command.endsWith("chromium") || command.contains("/chrome");
    }

    /** Closes the browser, the direct connection and the platform, deletes the data directory, checks Xvnc is gone. */
    @Override
    public void close() {
        RuntimeException failure = null;
        for (AutoCloseable c : opened.reversed()) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) failure = new DeskgateException(Status.INTERNAL_ERROR, "closing the live desktop: " + e.getMessage());
            }
        }
        opened.clear();
        try {
            long end = System.nanoTime() + XVNC_EXIT_TIMEOUT.toNanos();
            while (!OpenBench.xvncDescendants().stream().allMatch(xvncBefore::contains)) {
                if (System.nanoTime() > end) throw new DeskgateException(Status.INTERNAL_ERROR, "Xvnc processes started by the bench did not exit");
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            if (failure == null) failure = e;
        }
        try {
            BenchDirectories.delete(data);
        } catch (RuntimeException e) {
            if (failure == null) failure = e;
        }
        if (failure != null) throw failure;
    }
}
