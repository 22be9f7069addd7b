package io.deskgate.bench;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Secrets;
import io.deskgate.common.Status;
import io.deskgate.control.BrokerGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.ControlChannels;
import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import io.deskgate.control.EndSessionRequest;
import io.deskgate.control.FindDesktopReply;
import io.deskgate.control.FindDesktopRequest;
import io.deskgate.control.ListDesktopsRequest;
import io.deskgate.control.SessionStartedRequest;
import io.deskgate.launcher.Platform;
import io.deskgate.launcher.UpOptions;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * {@code deskgate bench open}: how long a user waits. Starts the whole platform in this JVM (one desktop,
 * loopback, a fresh data directory) and measures
 * <ul>
 *   <li>{@code up_ready_ms}: {@link Platform#start} on an empty data directory (embedded PostgreSQL's
 *       initdb, migrations, admin creation, one Xvnc desktop ready) -- the first {@code deskgate up};</li>
 *   <li>{@code up_ready_warm_ms}: {@link Platform#start} again on the same directory after a clean stop,
 *       without an admin password, as a user's second {@code deskgate up};</li>
 *   <li>per open, on the warm platform and a login made once: from sending {@code POST /api/sessions} to
 *       the first {@code FRAME_END} on the gateway's WebSocket ({@code first_frame_ms}) and to the first
 *       {@code FRAME_END} at which every pixel has been painted ({@code full_picture_ms}, see
 *       {@link ViewerProbe}); as the web viewer does, the viewer sends nothing on open (the gateway's
 *       {@code REFRESH_REQUEST} on attach brings the whole picture) and acknowledges every frame;</li>
 *   <li>per open, the physical floor on the same desktop, freshly reset like the one the open got: the
 *       broker's {@code FindDesktop} (gRPC) issues a one-time VNC password, then {@link RfbFirstFrame} times
 *       TCP connect to the end of the first full FramebufferUpdate ({@code rfb_direct_ms}).</li>
 * </ul>
 * After each open the session is ended ({@code DELETE /api/sessions/{id}}) and after each direct
 * reference the broker's {@code EndSession} resets the desktop; the next step waits until the desktop is
 * AVAILABLE again. Every wait has a deadline inside an overall budget; on the way out the platform is
 * closed, the data directory deleted, and the run fails if an Xvnc it started is still alive.
 *
 * <p>Single-threaded from the caller's point of view; blocks for the whole run.
 */
final class OpenBench {
    static final int DEFAULT_OPENS = 10;
    /** The budget of a whole run: this much, plus {@link #BUDGET_PER_OPEN} per open. */
    static final Duration BUDGET_BASE = Duration.ofMinutes(3);
    static final Duration BUDGET_PER_OPEN = Duration.ofSeconds(15);
    private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STREAM_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration RESET_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration GRPC_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration XVNC_EXIT_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration POLL_INTERVAL = Duration.ofMillis(20);
    private static final int ADMIN_PASSWORD_CHARS = 24;
    private static final String DIRECT_USER = "bench-direct";
    private static final String POOL = "default";
    private static final int TENANT = 1;

    /** The measurements of one run, in milliseconds. */
    record Result(long upReadyMs, long upReadyWarmMs, List<Double> launchMs, List<Double> firstFrameMs,
                  List<Double> fullPictureMs, List<Double> rfbDirectMs) {
        Result {
            launchMs = List.copyOf(launchMs);
            firstFrameMs = List.copyOf(firstFrameMs);
            fullPictureMs = List.copyOf(fullPictureMs);
            rfbDirectMs = List.copyOf(rfbDirectMs);
        }

        /**
         * {@code open: up_ready_ms=.. up_ready_warm_ms=.. first_frame_ms_p50=.. first_frame_ms_max=..
         * full_picture_ms_p50=.. rfb_direct_ms_p50=.. ratio_vs_direct=.. opens=..}; milliseconds with one
         * decimal, the ratio computed from the printed p50 values so that the line checks itself.
         */
        String line() {
            double firstP50 = round1(p50(firstFrameMs));
            double directP50 = round1(p50(rfbDirectMs));
            return String.format(Locale.ROOT, "open: up_ready_ms=%d up_ready_warm_ms=%d first_frame_ms_p50=%.1f"
                            + " first_frame_ms_max=%.1f full_picture_ms_p50=%.1f rfb_direct_ms_p50=%.1f"
                            + " ratio_vs_direct=%.2f opens=%d",
                    upReadyMs, upReadyWarmMs, firstP50, max(firstFrameMs), p50(fullPictureMs), directP50,
                    firstP50 / directP50, firstFrameMs.size());
        }
    }

    private OpenBench() {}

    /** Runs {@code opens} opens, writing a line per open to {@code progress}, and returns {@link Result#line()}. */
    static String run(int opens, PrintStream progress) {
        return measure(opens, progress).line();
    }

    static Result measure(int opens, PrintStream progress) {
        if (opens < 1) throw new IllegalArgumentException("opens must be >= 1, was " + opens);
        long deadlineNs = System.nanoTime() + BUDGET_BASE.plus(BUDGET_PER_OPEN.multipliedBy(opens)).toNanos();
        Set<Long> xvncBefore = xvncDescendants();
        Path data = BenchDirectories.create("deskgate-open-bench-");
        String adminPassword = Secrets.randomPassword(ADMIN_PASSWORD_CHARS);
        Throwable failure = null;
        try {
            long t0 = System.nanoTime();
            start(data, Optional.of(adminPassword)).close();
            long upReadyMs = msSince(t0);
            progress.printf(Locale.ROOT, "platform ready in %d ms on an empty data directory%n", upReadyMs);
            checkBudget(deadlineNs, "the second start");

            t0 = System.nanoTime();
            try (Platform platform = start(data, Optional.empty())) {
                long upReadyWarmMs = msSince(t0);
                progress.printf(Locale.ROOT, "platform ready in %d ms on the same data directory%n", upReadyWarmMs);
                return opens(platform, adminPassword, opens, deadlineNs, progress, upReadyMs, upReadyWarmMs);
            }
        } catch (RuntimeException | Error e) {
            failure = e;
            throw e;
        } finally {
            cleanUp(failure, () -> awaitXvncGone(xvncBefore));
            cleanUp(failure, () -> BenchDirectories.delete(data));
        }
    }

    /** Runs a clean-up step; its failure is added to {@code failure} if the run already failed, else thrown. */
    private static void cleanUp(Throwable failure, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            if (failure == null) throw e;
            failure.addSuppressed(e);
        }
    }

    private static Result opens(Platform platform, String adminPassword, int opens, long deadlineNs, PrintStream progress,
                                long upReadyMs, long upReadyWarmMs) {
        List<Double> launch = new ArrayList<>();
        List<Double> first = new ArrayList<>();
        List<Double> full = new ArrayList<>();
        List<Double> direct = new ArrayList<>();
        ManagedChannel brokerChannel = ControlChannels.open("127.0.0.1:" + platform.brokerGrpcPort(),
                new ControlAuth(platform.controlSecret()));
        try (FrontdoorClient api = new FrontdoorClient(platform.url())) {
            api.login("admin", adminPassword, bounded(HTTP_TIMEOUT, deadlineNs, "login"));
            for (int i = 1; i <= opens; i++) {
                OpenTimes o = openOnce(api, deadlineNs);
                double d = directOnce(brokerChannel, deadlineNs);
                launch.add(o.launchMs);
                first.add(o.firstFrameMs);
                full.add(o.fullPictureMs);
                direct.add(d);
                progress.printf(Locale.ROOT, "open %d/%d: launch %.1f ms, first frame %.1f ms, full picture %.1f ms"
                        + " (%d frames); direct RFB first frame %.1f ms%n", i, opens, o.launchMs, o.firstFrameMs,
                        o.fullPictureMs, o.frames, d);
            }
        } finally {
            ControlChannels.close(brokerChannel, Duration.ofSeconds(5));
        }
        progress.printf(Locale.ROOT, "launch (POST /api/sessions answered): p50 %.1f ms, max %.1f ms%n", p50(launch), max(launch));
        return new Result(upReadyMs, upReadyWarmMs, launch, first, full, direct);
    }

    private record OpenTimes(double launchMs, double firstFrameMs, double fullPictureMs, int frames) {}

    /** One open through the frontdoor and gateway, then ends the session and waits for the desktop's reset. */
    private static OpenTimes openOnce(FrontdoorClient api, long deadlineNs) {
        long t0 = System.nanoTime();
        FrontdoorClient.Launch l = api.launch(bounded(HTTP_TIMEOUT, deadlineNs, "a launch"));
        long launchedNs = System.nanoTime();
        HeadlessViewer.Times times;
        try (HeadlessViewer viewer = HeadlessViewer.open(api.http(), l.streamUri(), l.width(), l.height(),
                bounded(STREAM_TIMEOUT, deadlineNs, "opening the stream"))) {
            times = viewer.awaitFullPicture(bounded(STREAM_TIMEOUT, deadlineNs, "the first picture"));
        } finally {
            api.end(l.sessionId(), bounded(HTTP_TIMEOUT, deadlineNs, "ending a session"));
        }
        awaitUntil(() -> api.desktopState(l.desktopId(), HTTP_TIMEOUT).filter("AVAILABLE"::equals).isPresent(),
                bounded(RESET_TIMEOUT, deadlineNs, "the desktop's reset"), "desktop " + l.desktopId() + " did not become AVAILABLE after its session ended");
        return new OpenTimes(ms(launchedNs - t0), ms(times.firstFrameNs() - t0), ms(times.fullPictureNs() - t0), times.frames());
    }

    /** The direct RFB reference on a desktop the broker assigns, then its reset; returns milliseconds. */
    private static double directOnce(ManagedChannel brokerChannel, long deadlineNs) {
        String sessionId = UUID.randomUUID().toString();
        FindDesktopReply found;
        try {
            found = broker(brokerChannel, deadlineNs).findDesktop(FindDesktopRequest.newBuilder().setSessionId(sessionId)
                    .setUser(DIRECT_USER).setTenant(TENANT).setPool(POOL).build());
        } catch (StatusRuntimeException e) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the broker found no desktop for the direct reference: "
                    + e.getStatus().getCode());
        }
        Desktop desktop = found.getDesktop();
        long ns;
        try {
            ns = RfbFirstFrame.measureNs(desktop.getHost(), desktop.getPort(), found.getVncPassword(),
                    deadlineNs(bounded(STREAM_TIMEOUT, deadlineNs, "the direct RFB first frame")));
            broker(brokerChannel, deadlineNs).sessionStarted(SessionStartedRequest.newBuilder()
                    .setDesktopId(desktop.getDesktopId()).setSessionId(sessionId).build());
        } finally {
            try {
                broker(brokerChannel, deadlineNs).endSession(EndSessionRequest.newBuilder()
                        .setDesktopId(desktop.getDesktopId()).setSessionId(sessionId).build());
            } catch (StatusRuntimeException e) {
                throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the broker did not end the direct reference's session: "
                        + e.getStatus().getCode());
            }
        }
        awaitUntil(() -> broker(brokerChannel, deadlineNs).listDesktops(ListDesktopsRequest.newBuilder().setTenant(TENANT).setPool(POOL).build())
                        .getDesktopsList().stream().anyMatch(d -> d.getDesktopId().equals(desktop.getDesktopId())
                                && d.getState() == DesktopState.AVAILABLE),
                bounded(RESET_TIMEOUT, deadlineNs, "the desktop's reset"), "desktop " + desktop.getDesktopId()
                        + " did not become AVAILABLE after the direct reference");
        return ms(ns);
    }

    private static BrokerGrpc.BrokerBlockingStub broker(ManagedChannel channel, long deadlineNs) {
        return BrokerGrpc.newBlockingStub(channel)
                .withDeadlineAfter(bounded(GRPC_TIMEOUT, deadlineNs, "a broker call").toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The platform on loopback, any free port, one desktop. */
    private static Platform start(Path data, Optional<String> adminPassword) {
        try {
            return Platform.start(UpOptions.builder().bindHost("127.0.0.1").port(0).desktops(1).dataDir(data)
                    .adminPassword(adminPassword).build());
        } catch (IOException e) {
            throw new UncheckedIOException("the platform did not start: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------ waiting

    /** {@code step}, or what is left of the run's budget if less; fails when the budget is spent. */
    private static Duration bounded(Duration step, long deadlineNs, String what) {
        checkBudget(deadlineNs, what);
        return Duration.ofNanos(Math.min(step.toNanos(), deadlineNs - System.nanoTime()));
    }

    private static void checkBudget(long deadlineNs, String what) {
        if (deadlineNs - System.nanoTime() <= 0) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "bench open ran out of its time budget before " + what);
        }
    }

    private static long deadlineNs(Duration d) {
        return System.nanoTime() + d.toNanos();
    }

    /** Polls {@code condition} every {@link #POLL_INTERVAL} until it holds; fails with {@code failure} past {@code timeout}. */
    private static void awaitUntil(BooleanSupplier condition, Duration timeout, String failure) {
        long endNs = deadlineNs(timeout);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - endNs >= 0) {
                throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, failure + " within " + timeout.toMillis() + " ms");
            }
            try {
                Thread.sleep(POLL_INTERVAL);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DeskgateException(Status.INTERNAL_ERROR, "interrupted while waiting: " + failure);
            }
        }
    }

    // ------------------------------------------------------------ leftovers

    /**
     * Pids of the Xvnc processes this JVM has started that are alive now. The command is the executable the kernel
     * ran, links resolved: on Debian {@code /usr/bin/Xvnc} is a link (through the alternatives) to {@code Xtigervnc}.
     */
    static Set<Long> xvncDescendants() {
        return ProcessHandle.current().descendants()
                .filter(p -> p.info().command().map(c -> c.endsWith("/Xvnc") || c.equals("Xvnc")
                        || c.endsWith("/Xtigervnc") || c.equals("Xtigervnc")).orElse(false))
                .map(ProcessHandle::pid).collect(Collectors.toSet());
    }

    /** Fails if an Xvnc started during the run (not in {@code before}) is still alive after a grace period. */
    private static void awaitXvncGone(Set<Long> before) {
        awaitUntil(() -> xvncDescendants().stream().allMatch(before::contains), XVNC_EXIT_TIMEOUT,
                "Xvnc processes started by the bench did not exit");
    }


    // ------------------------------------------------------------ numbers

    private static long msSince(long startNs) {
        return (System.nanoTime() - startNs) / 1_000_000;
    }

    private static double ms(long ns) {
        return ns / 1e6;
    }

    /** The median by nearest rank: the ceil(n/2)-th smallest value. */
    static double p50(List<Double> values) {
        if (values.isEmpty()) throw new IllegalArgumentException("no values");
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get((sorted.size() + 1) / 2 - 1);
    }

    private static double max(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
    }

    private static double round1(double v) {
        return Math.round(v * 10) / 10.0;
    }
}
