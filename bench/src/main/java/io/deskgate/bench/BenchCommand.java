package io.deskgate.bench;

import io.deskgate.launcher.Main;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code deskgate bench <name>}: runs one benchmark; each ends with one line {@code <name>: key=value ...}
 * on standard output (progress lines may come before it; logs go to standard error). The bench module's own
 * entry point: the {@code deskgate} script starts it on the bench module's class path, so nothing of it is on
 * the class path of {@code deskgate up}.
 */
@Command(name = "deskgate bench", mixinStandardHelpOptions = true, version = "deskgate 0.1.0", description = {
        "Run a benchmark:",
        "  rfb   RFB decode rate on a recorded ZRLE stream.",
        "  open  Time to a ready platform and from launch to the first frame in a (headless) browser, against"
                + " a direct RFB connection; starts the whole platform with one Xvnc desktop in a temporary data directory.",
        "  broker  Sharded brokering (sets of concentrators, simulated agents, brokers, over loopback gRPC) in a logon"
                + " storm, against a central broker; re-homing after a concentrator closes; a concentrator's bytes per desktop.",
        "  transcode  The recorded workloads W1..W5 (Xvnc, 1280x800) through the engine's RFB decode, core and encoder at"
                + " their own timing, against the bytes of TigerVNC's Tight for the same workloads.",
        "  frontdoor  Session launches through a real frontdoor with broker and engines answering at once; its"
                + " HTTP API against HAProxy in front of a minimal backend answering the same bytes.",
        "  sessions  How many concurrent W1 sessions one engine holds (p95 frame delay <= 100 ms, every session keeping up):"
                + " a real engine, W1 replayed in a loop by an in-process RFB server, one acknowledging receiver per session.",
        "  client  Headless Chromium (1280x800) drawing each live workload W1..W4 on a real desktop of the platform"
                + " started in this JVM: bytes on its WebSocket, frames drawn, CPU of all its processes; first the"
                + " input latency a key pressed in Chromium adds over a direct RFB client on the same desktop."})
public final class BenchCommand implements Callable<Integer> {
    static {
        // Before any logger exists: the benchmarks' own log configuration, not the launcher's logback.xml beside it.
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "deskgate-bench-logback.xml");
        }
    }

    static final int DEFAULT_RFB_PASSES = 20;

    public static void main(String[] args) {
        System.exit(Main.executeCommand(new BenchCommand(), args));
    }

    @Parameters(index = "0", paramLabel = "NAME", description = "rfb, open, broker, transcode, frontdoor, sessions or client")
    String name;

    @Option(names = "--iterations", paramLabel = "N",
            description = "rfb: measured decode passes (default " + DEFAULT_RFB_PASSES + "); open: session opens (default "
                    + OpenBench.DEFAULT_OPENS + ").")
    Integer iterations;

    @Option(names = "--desktops", paramLabel = "N", description = "broker: desktops in the fleet (default 100000).")
    Integer desktops;

    @Option(names = "--requests", paramLabel = "N", description = "broker: session requests in the storm (default 20000).")
    Integer requests;

    @Option(names = "--sets", paramLabel = "N", description = "broker: concentrator sets (default 4).")
    Integer sets;

    @Option(names = "--concentrators", paramLabel = "N", description = "broker: concentrators per set (default 8).")
    Integer concentrators;

    @Option(names = "--brokers", paramLabel = "N", description = "broker: brokers (default 4).")
    Integer brokers;

    @Option(names = "--desktops-per-agent", paramLabel = "N", description = "broker: desktops of each simulated agent,"
            + " 1 to 999 (default 200).")
    Integer desktopsPerAgent;

    @Option(names = "--concurrency", paramLabel = "N", description = "broker: requests in flight at once (default 32);"
            + " frontdoor: users each with one launch in flight, and API connections (default 32).")
    Integer concurrency;

    @Option(names = "--warmups", paramLabel = "N", description = "broker: warm-up requests at full concurrency before"
            + " each storm (default a tenth of --requests); more lets the JIT finish before the measured storm.")
    Integer warmups;

    @Option(names = "--linger-us", paramLabel = "N", description = "broker: how long a broker's coalesced FindAvailable"
            + " batch may wait for more requests before it is sent, in microseconds (default 0: sent at once).")
    Integer lingerMicros;

    @Option(names = "--linger-batch", paramLabel = "N", description = "broker: the batch size that ends the linger"
            + " early (default 8).")
    Integer lingerBatch;

    @Option(names = "--agent-channels", paramLabel = "own|shared", description = "broker: each simulated agent's report"
            + " streams on channels of its own, one connection per agent and concentrator as in a fleet (own, the default), or"
            + " on one channel per concentrator shared by every agent of the JVM (shared).")
    String agentChannels;

    @Option(names = "--workloads", paramLabel = "LIST", split = ",",
            description = "transcode: the workloads to replay (default w1,w2,w3,w4,w5); client: the live workloads (default w1,w2,w3,w4).")
    java.util.List<String> workloads;

    @Option(names = "--live", description = "transcode: first measure the input latency live (the platform with one Xvnc"
            + " desktop and headless Chromium, as bench client does) for added_input_latency_p50_ms/_p99_ms; without it they are n/a.")
    boolean live;

    @Option(names = "--presses", paramLabel = "N", description = "client, transcode --live: key presses of the input latency, each"
            + " way (default " + InputLatency.DEFAULT_PRESSES + "; client: 0 skips it).")
    Integer presses;

    @Option(names = "--fast", description = "transcode: replay as fast as possible instead of at the recordings' own timing (after one unmeasured warm-up pass either way).")
    boolean fast;

    @Option(names = "--lossy", paramLabel = "FORMAT", description = "transcode: webp (a browser that decodes WebP, the default)"
            + " or jpeg (one that said nothing): the lossy tiles the simulated browser takes.")
    String lossy;

    @Option(names = "--webp-method", paramLabel = "N", description = "transcode: libwebp's method 0 (fastest) .. 6 (most compact)"
            + " of WEBP tiles (default the engine's, 0).")
    Integer webpMethod;

    @Option(names = "--webp-tuning", paramLabel = "S/N/F", description = "transcode: libwebp's segments (1..4), spatial noise"
            + " shaping (0..100) and loop filter strength (0..100) of WEBP tiles, e.g. 4/50/60 (libwebp's preset); default"
            + " the engine's, 1/0/60.")
    String webpTuning;

    @Option(names = "--launches", paramLabel = "N", description = "frontdoor: measured launches at full concurrency (default 20000).")
    Integer launches;

    @Option(names = "--api-requests", paramLabel = "N", description = "frontdoor: measured API requests to each of frontdoor"
            + " and HAProxy (default 200000).")
    Integer apiRequests;

    @Option(names = "--duration-limit", paramLabel = "DURATION", description = "frontdoor: time limit of the whole run,"
            + " e.g. 10m, 90s (default 10m); a phase cut short reports what it completed.")
    String durationLimit;

    @Option(names = "--steps", paramLabel = "LIST", split = ",",
            description = "sessions: the session counts to ramp through, increasing (default 5,10,20,30,40,50,60).")
    java.util.List<Integer> steps;

    @Option(names = "--warm-up-seconds", paramLabel = "S", description = "sessions: warm-up of each step (default 5).")
    Integer warmUpSeconds;

    @Option(names = "--window-seconds", paramLabel = "S", description = "sessions: measuring window of each step (default 10);"
            + " client: of each workload (default 10).")
    Integer windowSeconds;

    @Override
    public Integer call() {
        if (iterations != null && iterations < 1) {
            System.err.println("deskgate: --iterations must be at least 1");
            return 2;
        }
        switch (name) {
            case "rfb" -> System.out.println(RfbBench.run(iterations != null ? iterations : DEFAULT_RFB_PASSES));
            case "open" -> {
                String line = OpenBench.run(iterations != null ? iterations : OpenBench.DEFAULT_OPENS, System.out);
                System.out.println(line);
            }
            case "broker" -> {
                BrokerBench.Options o;
                try {
                    o = brokerOptions();
                } catch (IllegalArgumentException e) {
                    System.err.println("deskgate: " + e.getMessage());
                    return 2;
                }
                System.out.println(BrokerBench.run(o, System.out).line());
            }
            case "transcode" -> {
                java.util.List<io.deskgate.bench.workload.Workload> chosen;
                try {
                    chosen = workloads == null ? io.deskgate.bench.workload.Workloads.all()
                            : workloads.stream().map(io.deskgate.bench.workload.Workloads::byId).toList();
                } catch (IllegalArgumentException e) {
                    System.err.println("deskgate: " + e.getMessage());
                    return 2;
                }
                TranscodeBench.Lossy lossyFormat;
                io.deskgate.encode.WebpEncoder.Tuning tuning = io.deskgate.encode.WebpEncoder.Tuning.TILES;
                try {
                    if (webpTuning != null) {
                        String[] f = webpTuning.split("/");
                        if (f.length != 3) throw new IllegalArgumentException("--webp-tuning is segments/sns/filter, e.g. 1/0/60");
                        tuning = new io.deskgate.encode.WebpEncoder.Tuning(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Integer.parseInt(f[2]));
                    }
                    lossyFormat = lossy == null ? TranscodeBench.Lossy.WEBP : TranscodeBench.Lossy.of(lossy);
                    if (webpMethod != null && (webpMethod < 0 || webpMethod > 6)) throw new IllegalArgumentException("--webp-method must be 0..6");
                } catch (IllegalArgumentException e) {
                    System.err.println("deskgate: " + e.getMessage());
                    return 2;
                }
                if (presses != null && presses < 1) {
                    System.err.println("deskgate: --presses must be at least 1 for transcode --live");
                    return 2;
                }
                java.util.Optional<InputLatency.Result> latency = java.util.Optional.empty();
                if (live) {
                    try (LiveDesktop desktop = LiveDesktop.start(System.out)) {
                        latency = java.util.Optional.of(InputLatency.measure(desktop,
                                presses != null ? presses : InputLatency.DEFAULT_PRESSES, System.out));
                    }
                }
                System.out.println(TranscodeBench.run(chosen, !fast, true, latency, lossyFormat,
                        webpMethod == null ? io.deskgate.encode.TileEncoder.DEFAULT_WEBP_METHOD : webpMethod, tuning, System.out));
            }
            case "frontdoor" -> {
                FrontdoorBench.Options o;
                try {
                    o = frontdoorOptions();
                } catch (IllegalArgumentException e) {
                    System.err.println("deskgate: " + e.getMessage());
                    return 2;
                }
                System.out.println(FrontdoorBench.run(o, System.out).line());
            }
            case "sessions" -> {
                if ((warmUpSeconds != null && warmUpSeconds < 0) || (windowSeconds != null && windowSeconds < 1)) {
                    System.err.println("deskgate: --warm-up-seconds must be at least 0 and --window-seconds at least 1");
                    return 2;
                }
                String line;
                try {
                    line = SessionsBench.run(steps != null ? steps : SessionsBench.DEFAULT_STEPS,
                            warmUpSeconds != null ? java.time.Duration.ofSeconds(warmUpSeconds) : SessionsBench.DEFAULT_WARM_UP,
                            windowSeconds != null ? java.time.Duration.ofSeconds(windowSeconds) : SessionsBench.DEFAULT_WINDOW, System.out);
                } catch (IllegalArgumentException e) {
                    System.err.println("deskgate: " + e.getMessage());
                    return 2;
                }
                System.out.println(line);
            }
            case "client" -> {
                java.util.List<io.deskgate.bench.workload.Workload> chosen;
                try {
                    chosen = ClientBench.workloads(workloads != null ? workloads : ClientBench.LINE_WORKLOADS);
                } catch (IllegalArgumentException e) {
                    System.err.println("deskgate: " + e.getMessage());
                    return 2;
                }
                if ((windowSeconds != null && windowSeconds < 1) || (presses != null && presses < 0)) {
                    System.err.println("deskgate: --window-seconds must be at least 1 and --presses at least 0");
                    return 2;
                }
                ClientBench.Result r = ClientBench.run(chosen, ClientBench.DEFAULT_SETTLE,
                        windowSeconds != null ? Duration.ofSeconds(windowSeconds) : ClientBench.DEFAULT_WINDOW,
                        presses != null ? presses : InputLatency.DEFAULT_PRESSES, System.out);
                System.out.println(r.line());
            }
            default -> {
                System.err.println("deskgate: unknown benchmark '" + name + "' (known: rfb, open, broker, transcode, frontdoor, sessions, client)");
                return 2;
            }
        }
        return 0;
    }

    /** The broker options given, the others at their defaults; IllegalArgumentException naming a bad one. */
    BrokerBench.Options brokerOptions() {
        BrokerBench.Options d = BrokerBench.Options.DEFAULT;
        return new BrokerBench.Options(or(desktops, d.desktops()), or(requests, d.requests()), or(sets, d.sets()),
                or(concentrators, d.concentratorsPerSet()), or(brokers, d.brokers()),
                or(desktopsPerAgent, d.desktopsPerAgent()), or(concurrency, d.concurrency()), or(warmups, 0),
                or(lingerMicros, 0), or(lingerBatch, 8), BrokerBench.Options.sharedAgentChannels(agentChannels == null ? "own" : agentChannels));
    }

    /** The frontdoor options given, the others at their defaults; IllegalArgumentException naming a bad one. */
    FrontdoorBench.Options frontdoorOptions() {
        FrontdoorBench.Options d = FrontdoorBench.Options.DEFAULT;
        return new FrontdoorBench.Options(or(launches, d.launches()), or(concurrency, d.concurrency()),
                or(apiRequests, d.apiRequests()), durationLimit == null ? d.durationLimit() : duration(durationLimit), d.haproxy());
    }

    /** {@code 250ms}, {@code 90s}, {@code 10m}, {@code 1h}. */
    static Duration duration(String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,9})(ms|s|m|h)").matcher(text);
        if (!m.matches()) throw new IllegalArgumentException("--duration-limit must be a number and ms, s, m or h, e.g. 10m: " + text);
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    private static int or(Integer given, int fallback) {
        return given != null ? given : fallback;
    }
}
