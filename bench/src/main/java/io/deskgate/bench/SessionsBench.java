package io.deskgate.bench;

import com.google.protobuf.ByteString;
import io.deskgate.bench.workload.Workload.Twin;
import io.deskgate.bench.workload.Workloads;
import io.deskgate.common.Secrets;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.EngineGrpc;
import io.deskgate.control.LaunchRequest;
import io.deskgate.engine.Engine;
import io.deskgate.engine.EngineConfig;
import io.deskgate.engine.NanoClock;
import io.deskgate.testkit.TimedRecording;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * {@code deskgate bench sessions}: how many concurrent W1 sessions (xterm scrolling, {@link Workloads}) one engine
 * holds with the p95 frame delay at most {@value #MAX_P95_MS} ms and every session keeping up with its desktop.
 *
 * <p>One real {@link Engine} (its gRPC Launch with the control credential, real transcoding instances, the real
 * encrypted UDP leg). Each session's desktop is W1's recording re-encoded as Raw + CopyRect ({@link RawReplay}: what
 * the engine asks a desktop on its own host for) and replayed in a loop by one {@link LoopReplayServer}, which paces
 * itself as a VNC server does (an update goes out when due and asked for); each session's browser is an
 * {@link AckingReceivers} receiver that acknowledges every frame. The number of sessions is ramped ({@code steps});
 * each step adds sessions, waits {@code warmUp}, then measures for {@code window}:
 * <ul>
 *   <li>frame delay: FRAME_END arrival at the receiver minus its serverTime (the engine's clock at the end of the
 *       RFB update it carries), p95 over all frames of the window;</li>
 *   <li>keeping up: the p95 of the updates' lateness (due time to written, {@link LoopReplayServer}) at most
 *       {@value #MAX_P95_MS} ms, and every session sent frames in the window;</li>
 *   <li>engine CPU: the process's CPU time minus the replay server's and the receivers' threads' (each one platform
 *       thread; the engine's own threads are virtual, whose CPU time a ThreadMXBean does not give), per session, in
 *       percent of one core. GC and JIT count as the engine's.</li>
 * </ul>
 * heavy_sessions is the largest step that met both; the ramp stops at the first step that did not. Ends with
 * {@code sessions: heavy_sessions=<n> p95_frame_delay_ms=<x> engine_cpu_pct_per_session=<x>} (the values of that step).
 */
public final class SessionsBench {
    static final double MAX_P95_MS = 100;
    public static final List<Integer> DEFAULT_STEPS = List.of(5, 10, 20, 30, 40, 50, 60);
    public static final Duration DEFAULT_WARM_UP = Duration.ofSeconds(5);
    public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(10);
    private static final int TENANT = 1;

    private SessionsBench() {}

    /** One step's numbers. */
    record Step(int sessions, long frames, double p95DelayMs, double p95LatenessMs, double engineCpuPctPerSession,
                int sessionsWithoutFrames, double load, double processCpuPct, double benchCpuPct) {
        boolean ok() { return frames > 0 && sessionsWithoutFrames == 0 && p95DelayMs <= MAX_P95_MS && p95LatenessMs <= MAX_P95_MS; }

        String line() {
            return String.format(Locale.ROOT, "sessions-step: sessions=%d frames=%d p95_frame_delay_ms=%.1f p95_update_lateness_ms=%.1f"
                            + " engine_cpu_pct_per_session=%.2f sessions_without_frames=%d load=%.1f process_cpu_pct=%.1f"
                            + " bench_cpu_pct=%.1f ok=%s",
                    sessions, frames, p95DelayMs, p95LatenessMs, engineCpuPctPerSession, sessionsWithoutFrames, load, processCpuPct,
                    benchCpuPct, ok());
        }
    }

    /** Runs the ramp and returns the final line; each step's line goes to {@code progress}. */
    public static String run(List<Integer> steps, Duration warmUp, Duration window, PrintStream progress) {
        if (steps.isEmpty()) throw new IllegalArgumentException("no steps");
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i) < 1 || (i > 0 && steps.get(i) <= steps.get(i - 1))) {
                throw new IllegalArgumentException("steps must be positive and increasing: " + steps);
            }
        }
        RawReplay replay = RawReplay.of(TimedRecording.load(Workloads.byId("w1").recording(Twin.ZRLE)));
        byte[] secret = Secrets.randomBytes(32);
        int max = steps.getLast();
        Step best = null;
        Step last = null;
        long originNs = System.nanoTime();
        NanoClock clock = () -> System.nanoTime() - originNs; // the engine's clock and the receivers' (serverTime)
        try (Engine engine = Engine.start(EngineConfig.builder().controlSecret(secret).maxInstances(max).build(), clock);
             LoopReplayServer desktops = new LoopReplayServer(replay);
             AckingReceivers browsers = new AckingReceivers(clock)) {
            ManagedChannel channel = io.deskgate.control.ControlChannels.open("127.0.0.1:" + engine.grpcPort(), new ControlAuth(secret));
            try {
                EngineGrpc.EngineBlockingStub stub = EngineGrpc.newBlockingStub(channel);
                List<AckingReceivers.Receiver> sessions = new ArrayList<>();
                for (int n : steps) {
                    while (sessions.size() < n) sessions.add(launch(stub, desktops, browsers));
                    last = measure(sessions, desktops, browsers, warmUp, window);
                    progress.println(last.line());
                    if (!last.ok()) break;
                    best = last;
                }
            } finally {
                channel.shutdownNow();
                channel.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        Step shown = best != null ? best : last;
        return line(best == null ? 0 : best.sessions(), shown);
    }

    static String line(int heavySessions, Step shown) {
        return String.format(Locale.ROOT, "sessions: heavy_sessions=%d p95_frame_delay_ms=%.1f engine_cpu_pct_per_session=%.2f",
                heavySessions, shown.p95DelayMs(), shown.engineCpuPctPerSession());
    }

    private static AckingReceivers.Receiver launch(EngineGrpc.EngineBlockingStub stub, LoopReplayServer desktops,
                                                   AckingReceivers browsers) throws IOException {
        byte[] key = Secrets.randomBytes(32);
        AckingReceivers.Receiver r = browsers.add(TENANT, key);
        stub.withDeadlineAfter(30, TimeUnit.SECONDS).launch(LaunchRequest.newBuilder()
                .setSessionId(r.sessionId.toString()).setTenant(TENANT)
                .setDesktopHost("127.0.0.1").setDesktopPort(desktops.port()).setVncPassword("")
                .setGatewayUdpHost("127.0.0.1").setGatewayUdpPort(r.port())
                .setStreamKey(ByteString.copyFrom(key)).build());
        return r;
    }

    private static Step measure(List<AckingReceivers.Receiver> sessions, LoopReplayServer desktops, AckingReceivers browsers,
                                Duration warmUp, Duration window) throws InterruptedException {
        Thread.sleep(warmUp);
        desktops.drainLateness();
        browsers.drainDelaysMicros();
        long[] frames0 = sessions.stream().mapToLong(s -> s.frames).toArray();
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long process0 = os.getProcessCpuTime(), bench0 = desktops.cpuNs() + browsers.cpuNs(), wall0 = System.nanoTime();
        Thread.sleep(window);
        long process1 = os.getProcessCpuTime(), bench1 = desktops.cpuNs() + browsers.cpuNs(), wall1 = System.nanoTime();
        long[] delays = browsers.drainDelaysMicros();
        long[] lateness = desktops.drainLateness();
        Arrays.sort(lateness);
        int without = 0;
        long frames = 0;
        for (int i = 0; i < sessions.size(); i++) {
            long f = sessions.get(i).frames - frames0[i];
            frames += f;
            if (f == 0) without++;
        }
        double engineCpu = Math.max(0, (process1 - process0) - (bench1 - bench0));
        double pctPerSession = 100.0 * engineCpu / (wall1 - wall0) / sessions.size();
        double wall = wall1 - wall0;
        return new Step(sessions.size(), frames, p95(delays) / 1000.0, p95(lateness) / 1e6, pctPerSession, without,
                os.getSystemLoadAverage(), 100.0 * (process1 - process0) / wall, 100.0 * (bench1 - bench0) / wall);
    }

    /** The 95th percentile of sorted values (nearest rank); 0 for none. */
    static double p95(long[] sorted) {
        if (sorted.length == 0) return 0;
        int rank = (int) Math.ceil(0.95 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }
}
