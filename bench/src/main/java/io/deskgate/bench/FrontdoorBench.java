package io.deskgate.bench;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Secrets;
import io.deskgate.common.Status;
import io.deskgate.control.BrokerGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import io.deskgate.control.EndSessionReply;
import io.deskgate.control.EndSessionRequest;
import io.deskgate.control.EngineGrpc;
import io.deskgate.control.FindDesktopReply;
import io.deskgate.control.FindDesktopRequest;
import io.deskgate.control.LaunchReply;
import io.deskgate.control.LaunchRequest;
import io.deskgate.control.ListDesktopsReply;
import io.deskgate.control.ListDesktopsRequest;
import io.deskgate.control.SessionStartedReply;
import io.deskgate.control.SessionStartedRequest;
import io.deskgate.control.StopReply;
import io.deskgate.control.StopRequest;
import io.deskgate.control.TallyReply;
import io.deskgate.control.TallyRequest;
import io.deskgate.frontdoor.AdminBootstrap;
import io.deskgate.frontdoor.Frontdoor;
import io.deskgate.frontdoor.FrontdoorConfig;
import io.deskgate.frontdoor.PasswordHasher;
import io.deskgate.store.Database;
import io.deskgate.store.EntitlementStore;
import io.deskgate.store.PoolStore;
import io.deskgate.store.Registration;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.RegistryHeartbeat;
import io.deskgate.store.RegistryStore;
import io.deskgate.store.RegistryTiming;
import io.deskgate.store.Role;
import io.deskgate.store.UserStore;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.grpc.stub.StreamObserver;
import io.javalin.Javalin;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code deskgate bench frontdoor} (issue 9, seed 000): the frontdoor's own cost, with everything behind it
 * answering at once. In this JVM: a real {@link Frontdoor} on a real embedded PostgreSQL store, a broker and
 * {@value #ENGINES} engines on real gRPC servers on loopback (with the control credential, as the real ones)
 * that answer at once, all three registered in the registry with heartbeats as the real processes do, a gateway
 * row (its WebSocket port a socket that accepts), and {@code concurrency} users created in the store with the real
 * password hasher, each logged in once (outside the timing).
 * <ul>
 *   <li>{@code launches_per_s}: {@code POST /api/sessions} at full concurrency (each user one launch in flight),
 *       after a warm-up; sessions are not ended (the fake broker has unlimited desktops);</li>
 *   <li>{@code launch_p99_ms}: nearest-rank p99 of a separate phase at {@value #LATENCY_CONCURRENCY} in flight, so
 *       that it is the frontdoor's own time per launch (its store reads and writes, its gRPC calls), not queueing;</li>
 *   <li>{@code api_rps}: {@code GET /api/me} answered by the frontdoor, against the same bytes answered by a
 *       minimal Jetty backend behind Debian's HAProxy (HTTP mode, keep-alive, started here and stopped after),
 *       with the same load generator ({@link HttpLoad}) and the same connections, rounds alternating;
 *       {@code api_ratio_vs_haproxy} = frontdoor rps / HAProxy rps, from the printed values.</li>
 * </ul>
 * The whole run has a time limit (the launch phases get 60 % of it, so that the API phase always runs); a phase
 * cut short by it reports what it completed. Every launch must succeed
 * and every API answer must be 200 with the expected body, else the run fails. Blocks for the whole run.
 */
final class FrontdoorBench {
    static final int ENGINES = 2;
    static final int LATENCY_CONCURRENCY = 2;
    private static final String AGENT = "bench-agent";
    private static final String API_PATH = "/api/me";
    private static final String LOGIN_COOKIE = "deskgate_login";
    private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(60);
    /** Heartbeats as often as the real default, a timeout no busy machine reaches during a run. */
    private static final RegistryTiming TIMING = new RegistryTiming(Duration.ofSeconds(2), Duration.ofSeconds(60));
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final int API_ROUNDS = 2;
    private static final String KEEPALIVE_PROPERTY = "jdk.httpclient.keepalive.timeout";
    /** Under the frontdoor's idle timeout of 5 s. */
    private static final String CLIENT_KEEPALIVE_SECONDS = "3";

    /** What to run; the defaults are issue 9's. */
    record Options(int launches, int concurrency, int apiRequests, Duration durationLimit, Path haproxy) {
        static final Options DEFAULT = new Options(20_000, 32, 200_000, Duration.ofMinutes(10), HaproxyProxy.BINARY);

        Options {
            if (launches < 1) throw new IllegalArgumentException("--launches must be at least 1");
            if (concurrency < 1 || concurrency > 1000) throw new IllegalArgumentException("--concurrency must be 1 to 1000");
            if (apiRequests < API_ROUNDS) throw new IllegalArgumentException("--api-requests must be at least " + API_ROUNDS);
            if (durationLimit.isNegative() || durationLimit.isZero()) throw new IllegalArgumentException("--duration-limit must be positive");
        }
    }

    /** The numbers of one run. */
    record Result(double launchesPerS, double launchP99Ms, long launchesMeasured, long launchFailures,
                  double apiRps, double haproxyRps, long apiAnswers, long haproxyAnswers) {
        /** {@code frontdoor: launches_per_s=.. launch_p99_ms=.. api_rps=.. api_ratio_vs_haproxy=..}; the ratio from the printed rates. */
        String line() {
            long fd = Math.round(apiRps);
            long ha = Math.round(haproxyRps);
            return String.format(Locale.ROOT, "frontdoor: launches_per_s=%d launch_p99_ms=%.1f api_rps=%d api_ratio_vs_haproxy=%.2f",
                    Math.round(launchesPerS), launchP99Ms, fd, ha == 0 ? 0.0 : (double) fd / ha);
        }
    }

    /**
     * The launch phases' CPU by thread (printed per launch): the frontdoor's request threads and its gRPC client's,
     * the bench's fakes (their own event loop and call threads), the load generator (the JDK's HttpClient threads and
     * the virtual threads' carriers), the store's pool.
     */
    static final List<CpuByThread.Group> CPU_GROUPS = List.of(
            new CpuByThread.Group("frontdoor http", List.of("frontdoor-http")),
            new CpuByThread.Group("fakes", List.of("bench-fake-")),
            new CpuByThread.Group("frontdoor grpc", List.of("grpc-")),
            new CpuByThread.Group("load generator", List.of("HttpClient-", "ForkJoinPool")),
            new CpuByThread.Group("frontdoor other", List.of("frontdoor-", "HikariPool", "registry", "live-roles")));

    private FrontdoorBench() {}

    static Result run(Options o, PrintStream progress) {
        // The JDK client keeps an idle connection 20 min, the frontdoor closes it after 5 s (JettyLimits.IDLE_TIMEOUT):
        // a request sent as the server closes it fails ("header parser received no bytes"), a POST is not retried.
        // Closing idle connections first on the client side keeps that race out of the measurement. Read when the
        // JDK's client is first used in this JVM (the bench's own run: the first).
        if (System.getProperty(KEEPALIVE_PROPERTY) == null) System.setProperty(KEEPALIVE_PROPERTY, CLIENT_KEEPALIVE_SECONDS);
        long startNs = System.nanoTime();
        long deadlineNs = startNs + o.durationLimit().toNanos();
        // The launches may take 60 % of the limit, so that the API phase always runs.
        long launchDeadlineNs = startNs + o.durationLimit().toNanos() / 10 * 6;
        Path dir = BenchDirectories.create("deskgate-frontdoor-bench-");
        try (Fleet fleet = Fleet.start(dir, o.concurrency())) {
            progress.printf(Locale.ROOT, "frontdoor at %s; broker and %d engines on loopback gRPC; %d users%n",
                    fleet.frontdoor.url(), ENGINES, o.concurrency());
            List<FrontdoorClient> clients = new ArrayList<>();
            List<RawLaunchClient> raw = new ArrayList<>();
            try {
                InetSocketAddress target = new InetSocketAddress(fleet.frontdoor.url().getHost(), fleet.frontdoor.url().getPort());
                for (int i = 0; i < o.concurrency(); i++) {
                    FrontdoorClient c = new FrontdoorClient(fleet.frontdoor.url(), Optional.of(Fleet.address(i)));
                    clients.add(c);
                    c.login(Fleet.user(i), fleet.password, HTTP_TIMEOUT);
                    String cookie = c.cookie(LOGIN_COOKIE)
                            .orElseThrow(() -> new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the login set no " + LOGIN_COOKIE + " cookie"));
                    raw.add(new RawLaunchClient(target, Fleet.address(i), cookie));
                }
                awaitFirstLaunch(clients.getFirst(), deadlineNs);

                int warmups = Math.max(50, o.launches() / 10);
                Launches warm = launches(raw, warmups, o.concurrency(), launchDeadlineNs);
                progress.printf(Locale.ROOT, "launch warm-up: %d at %d in flight, %.0f/s%n", warm.ok(), o.concurrency(), warm.perSecond());
                CpuByThread stormCpu = CpuByThread.start(CPU_GROUPS, dir.resolve("pg").resolve("postmaster.pid"));
                Launches storm = launches(raw, o.launches(), o.concurrency(), launchDeadlineNs);
                String stormCpuLine = stormCpu.perUnit(storm.ok(), "launch");
                progress.printf(Locale.ROOT, "launches: %d of %d at %d in flight in %.2f s: %.0f/s, p50 %.1f ms, p99 %.1f ms%n",
                        storm.ok(), o.launches(), o.concurrency(), storm.wallNs() / 1e9, storm.perSecond(),
                        storm.percentileMs(0.50), storm.percentileMs(0.99));
                progress.println("launches " + stormCpuLine);
                int latencyCount = Math.max(100, o.launches() / 5);
                CpuByThread calmCpu = CpuByThread.start(CPU_GROUPS, dir.resolve("pg").resolve("postmaster.pid"));
                Launches calm = launches(raw, latencyCount, Math.min(LATENCY_CONCURRENCY, raw.size()), launchDeadlineNs);
                String calmCpuLine = calmCpu.perUnit(calm.ok(), "launch");
                progress.printf(Locale.ROOT, "launch latency: %d at %d in flight: p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
                        calm.ok(), LATENCY_CONCURRENCY, calm.percentileMs(0.50), calm.percentileMs(0.99), calm.percentileMs(1.0));
                progress.println("launch latency " + calmCpuLine);
                long failures = warm.failed() + storm.failed() + calm.failed();
                if (failures > 0) {
                    throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, failures + " launch(es) failed; the first: "
                            + firstNonEmpty(warm.firstFailure(), storm.firstFailure(), calm.firstFailure()));
                }
                if (storm.ok() == 0 || calm.ok() == 0) {
                    throw new DeskgateException(Status.INTERNAL_ERROR, "the time limit ended the launches before any was measured");
                }

                Api api = api(fleet, o, dir, deadlineNs, progress);
                return new Result(storm.perSecond(), calm.percentileMs(0.99), storm.ok(), failures,
                        api.frontdoor.perSecond(), api.haproxy.perSecond(), api.frontdoor.answers(), api.haproxy.answers());
            } finally {
                clients.forEach(FrontdoorClient::close);
                raw.forEach(RawLaunchClient::close);
            }
        } finally {
            BenchDirectories.delete(dir);
        }
    }

    private static String firstNonEmpty(String... values) {
        return Arrays.stream(values).filter(v -> !v.isEmpty()).findFirst().orElse("");
    }

    /** The frontdoor's view of the registry fills within its refresh interval: waits until a launch finds broker, engine and gateway. */
    private static void awaitFirstLaunch(FrontdoorClient client, long deadlineNs) {
        long endNs = Math.min(deadlineNs, System.nanoTime() + READY_TIMEOUT.toNanos());
        while (true) {
            try {
                client.launch(HTTP_TIMEOUT);
                return;
            } catch (DeskgateException e) {
                if (System.nanoTime() - endNs >= 0) {
                    throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "no launch succeeded within "
                            + READY_TIMEOUT.toSeconds() + " s: " + e.getMessage());
                }
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DeskgateException(Status.INTERNAL_ERROR, "interrupted");
            }
        }
    }

    // ------------------------------------------------------------ launches

    /** One launch phase: the time of every successful launch, failures counted, wall time from first send to last answer. */
    record Launches(List<Long> latenciesNs, long failed, String firstFailure, long wallNs) {
        Launches {
            latenciesNs = List.copyOf(latenciesNs);
        }

        long ok() {
            return latenciesNs.size();
        }

        double perSecond() {
            return wallNs <= 0 ? 0 : ok() * 1e9 / wallNs;
        }

        /** Nearest rank: the ceil(p*n)-th smallest, in milliseconds; 0 without values. */
        double percentileMs(double p) {
            if (latenciesNs.isEmpty()) return 0;
            List<Long> sorted = latenciesNs.stream().sorted().toList();
            int rank = (int) Math.ceil(p * sorted.size());
            return sorted.get(Math.max(1, rank) - 1) / 1e6;
        }
    }

    /**
     * {@code count} launches, {@code inFlight} at a time (at most one per client); worker w launches as user w (one
     * launch per user at a time).
     */
    static Launches launches(List<RawLaunchClient> clients, int count, int inFlight, long deadlineNs) {
        if (inFlight > clients.size()) throw new IllegalArgumentException("more launches in flight than clients");
        AtomicInteger tickets = new AtomicInteger(count);
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>(count));
        AtomicLong failed = new AtomicLong();
        AtomicReference<String> firstFailure = new AtomicReference<>("");
        List<Thread> workers = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int w = 0; w < inFlight; w++) {
            RawLaunchClient client = clients.get(w);
            workers.add(Thread.ofVirtual().name("launcher-" + w).start(() -> {
                while (System.nanoTime() - deadlineNs < 0 && tickets.getAndDecrement() > 0) {
                    long s = System.nanoTime();
                    try {
                        client.launch(HTTP_TIMEOUT);
                        latencies.add(System.nanoTime() - s);
                    } catch (RuntimeException e) {
                        failed.incrementAndGet();
                        firstFailure.compareAndSet("", e.getMessage() == null ? e.toString() : e.getMessage());
                    }
                }
            }));
        }
        for (Thread t : workers) join(t);
        return new Launches(latencies, failed.get(), firstFailure.get(), System.nanoTime() - t0);
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeskgateException(Status.INTERNAL_ERROR, "interrupted");
        }
    }

    // ------------------------------------------------------------ API against HAProxy

    private record Api(HttpLoad.Run frontdoor, HttpLoad.Run haproxy) {}

    private static Api api(Fleet fleet, Options o, Path dir, long deadlineNs, PrintStream progress) {
        String cookie = loginCookie(fleet.frontdoor.url(), Fleet.user(0), fleet.password, Fleet.address(0));
        HttpResponse<byte[]> sample = get(fleet.frontdoor.url().resolve(API_PATH), cookie);
        if (sample.statusCode() != 200) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "GET " + API_PATH + " answered " + sample.statusCode());
        }
        byte[] body = sample.body();
        Map<String, String> headers = new LinkedHashMap<>();
        sample.headers().map().forEach((name, values) -> {
            if (!HOP_OR_SERVER_HEADERS.contains(name.toLowerCase(Locale.ROOT))) headers.put(name, String.join(", ", values));
        });
        Javalin backend = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.jetty.host = "127.0.0.1";
            cfg.jetty.port = 0;
            cfg.routes.get(API_PATH, ctx -> {
                headers.forEach(ctx::header);
                ctx.result(body);
            });
        }).start();
        int fdPort = fleet.frontdoor.url().getPort();
        int c = o.concurrency();
        try (HaproxyProxy haproxy = HaproxyProxy.start(o.haproxy(), dir, backend.port(), c)) {
            progress.printf(Locale.ROOT, "api: GET %s (%d bytes) from the frontdoor at :%d and from haproxy at :%d in front of"
                    + " a minimal Jetty at :%d, %d keep-alive connections%n", API_PATH, body.length, fdPort, haproxy.port(), backend.port(), c);
            long warm = Math.max(1, o.apiRequests() / 10);
            HttpLoad.get(fdPort, API_PATH, cookie, body, c, warm, deadlineNs);
            HttpLoad.get(haproxy.port(), API_PATH, cookie, body, c, warm, deadlineNs);
            long perRound = o.apiRequests() / API_ROUNDS;
            long fdAnswers = 0, fdNs = 0, fdReconnects = 0, haAnswers = 0, haNs = 0, haReconnects = 0;
            for (int round = 1; round <= API_ROUNDS; round++) {
                HttpLoad.Run fd = HttpLoad.get(fdPort, API_PATH, cookie, body, c, perRound, deadlineNs);
                HttpLoad.Run ha = HttpLoad.get(haproxy.port(), API_PATH, cookie, body, c, perRound, deadlineNs);
                progress.printf(Locale.ROOT, "api round %d: frontdoor %d in %.2f s = %.0f/s; haproxy %d in %.2f s = %.0f/s%n", round,
                        fd.answers(), fd.wallNs() / 1e9, fd.perSecond(), ha.answers(), ha.wallNs() / 1e9, ha.perSecond());
                fdAnswers += fd.answers();
                fdNs += fd.wallNs();
                fdReconnects += fd.reconnects();
                haAnswers += ha.answers();
                haNs += ha.wallNs();
                haReconnects += ha.reconnects();
            }
            if (fdAnswers == 0 || haAnswers == 0) {
                throw new DeskgateException(Status.INTERNAL_ERROR, "the time limit ended the API phase before both targets answered");
            }
            progress.printf(Locale.ROOT, "api: reconnects frontdoor %d, haproxy %d%n", fdReconnects, haReconnects);
            return new Api(new HttpLoad.Run(fdAnswers, fdNs, fdReconnects), new HttpLoad.Run(haAnswers, haNs, haReconnects));
        } finally {
            backend.stop();
        }
    }

    /** Headers the backend's own server sets (or that belong to one hop): not copied from the frontdoor's answer. */
    private static final Set<String> HOP_OR_SERVER_HEADERS = Set.of("content-length", "date", "connection", "keep-alive",
            "transfer-encoding", "server", ":status");

    private static String loginCookie(URI base, String user, String password, InetAddress from) {
        String json = "{\"username\":\"" + user + "\",\"password\":\"" + password + "\"}";
        try (HttpClient http = HttpClient.newBuilder().localAddress(from).build()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/api/login")).timeout(HTTP_TIMEOUT)
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                    HttpResponse.BodyHandlers.ofString());
            String setCookie = r.headers().firstValue("Set-Cookie")
                    .orElseThrow(() -> new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "login answered " + r.statusCode() + " without a cookie"));
            return setCookie.substring(0, setCookie.indexOf(';'));
        } catch (IOException e) {
            throw new UncheckedIOException("login failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeskgateException(Status.INTERNAL_ERROR, "interrupted");
        }
    }

    private static HttpResponse<byte[]> get(URI uri, String cookie) {
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            return http.send(HttpRequest.newBuilder(uri).timeout(HTTP_TIMEOUT).header("Cookie", cookie).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + uri + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeskgateException(Status.INTERNAL_ERROR, "interrupted");
        }
    }

    // ------------------------------------------------------------ the fleet behind the frontdoor

    /** Store, broker, engines, gateway row, users and the frontdoor; closed in reverse. */
    private static final class Fleet implements AutoCloseable {
        final String password = Secrets.randomPassword(20);
        final List<AutoCloseable> opened = new ArrayList<>();
        Frontdoor frontdoor;

        static String user(int i) {
            return "bench-user-" + i;
        }

        /**
         * Where user i's connections come from: 127.0.1.(i+1) and on (Linux routes all of 127.0.0.0/8 to the
         * loopback interface). The frontdoor limits login attempts per client address (20 a minute, successes
         * included), as it should for a real client; the bench's users are many clients.
         */
        static InetAddress address(int i) {
            try {
                return InetAddress.getByAddress(new byte[] {127, (byte) (1 + i / 250), (byte) (1 + i % 250), 1});
            } catch (java.net.UnknownHostException e) {
                throw new IllegalStateException("a literal address", e);
            }
        }

        static Fleet start(Path dir, int users) {
            Fleet f = new Fleet();
            try {
                f.open(dir, users);
                return f;
            } catch (IOException e) {
                f.close();
                throw new UncheckedIOException("the frontdoor's fleet did not start: " + e.getMessage(), e);
            } catch (RuntimeException e) {
                f.close();
                throw e;
            }
        }

        private void open(Path dir, int users) throws IOException {
            Database db = Database.embedded(dir);
            opened.add(db::close);
            UserStore userStore = new UserStore(db.dataSource());
            String hash = new PasswordHasher().hash(password);
            for (int i = 0; i < users; i++) userStore.create(AdminBootstrap.TENANT, user(i), hash, false);
            AdminBootstrap.ensureDefaultPool(userStore, new PoolStore(db.dataSource()), new EntitlementStore(db.dataSource()), List.of(AGENT));

            byte[] controlSecret = Secrets.randomBytes(32);
            ControlAuth auth = new ControlAuth(controlSecret);
            RegistryStore registry = new RegistryStore(db.dataSource());
            // The fakes on a thread of their own (bench-fake-loop), so that the bench can print their CPU apart from the
            // frontdoor's, and answering on it (direct: they never block), so that they cost the frontdoor's two cores
            // as little as an instant answer can.
            EventLoopGroup fakeLoops = new NioEventLoopGroup(1, new DefaultThreadFactory("bench-fake-loop", true));
            opened.add(() -> fakeLoops.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS));
            Server broker = fakeServer(fakeLoops).addService(new InstantBroker())
                    .intercept(auth.serverInterceptor()).build().start();
            opened.add(() -> broker.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
            heartbeat(registry, Role.BROKER, "bench-broker", Map.of(RegistryEntry.GRPC, "127.0.0.1:" + broker.getPort()), 100_000, () -> 0);
            for (int e = 1; e <= ENGINES; e++) {
                InstantEngine engine = new InstantEngine();
                Server server = fakeServer(fakeLoops).addService(engine)
                        .intercept(auth.serverInterceptor()).build().start();
                opened.add(() -> server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
                heartbeat(registry, Role.ENGINE, "bench-engine-" + e, Map.of(RegistryEntry.GRPC, "127.0.0.1:" + server.getPort()),
                        100_000, () -> (int) Math.min(Integer.MAX_VALUE, engine.launches.get()));
            }
            ServerSocket gatewayPort = acceptingSocket();
            opened.add(gatewayPort::close);
            heartbeat(registry, Role.GATEWAY, "bench-gateway", Map.of(RegistryEntry.WS, "ws://127.0.0.1:" + gatewayPort.getLocalPort()
                    + "/stream", RegistryEntry.UDP, "127.0.0.1:40000"), 100_000, () -> 0);
            frontdoor = Frontdoor.start(FrontdoorConfig.builder().bindHost("127.0.0.1").dataDir(dir).port(0)
                            .metricsPort(FrontdoorConfig.METRICS_OFF).build(), db, Secrets.randomBytes(32), Secrets.randomBytes(32),
                    controlSecret, TIMING);
            opened.add(frontdoor::close);
        }

        /** A loopback gRPC server for a fake, answering on the fakes' own event loop. */
        private static NettyServerBuilder fakeServer(EventLoopGroup loops) {
            return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).bossEventLoopGroup(loops)
                    .workerEventLoopGroup(loops).channelType(NioServerSocketChannel.class).directExecutor();
        }

        private void heartbeat(RegistryStore registry, Role role, String id, Map<String, String> addresses, int capacity,
                               java.util.function.IntSupplier load) {
            RegistryHeartbeat h = RegistryHeartbeat.start(registry, new Registration(role, id, UUID.randomUUID(), addresses,
                    capacity, "bench", Map.of()), load, TIMING);
            opened.add(h::close);
        }

        @Override
        public void close() {
            RuntimeException failure = null;
            for (AutoCloseable c : opened.reversed()) {
                try {
                    c.close();
                } catch (Exception e) {
                    if (failure == null) failure = new IllegalStateException("closing the bench's fleet failed: " + e.getMessage(), e);
                    if (e instanceof InterruptedException) Thread.currentThread().interrupt();
                }
            }
            opened.clear();
            if (failure != null) throw failure;
        }
    }

    /** A broker with unlimited desktops: every FindDesktop gets a new desktop and one-time password at once. */
    private static final class InstantBroker extends BrokerGrpc.BrokerImplBase {
        private final AtomicLong desktops = new AtomicLong();

        @Override
        public void findDesktop(FindDesktopRequest request, StreamObserver<FindDesktopReply> out) {
            Desktop d = Desktop.newBuilder().setDesktopId(AGENT + "/" + desktops.incrementAndGet()).setHost("127.0.0.1")
                    .setPort(5901).setState(DesktopState.ASSIGNED).setTenant(request.getTenant()).setUser(request.getUser())
                    .setSessionId(request.getSessionId()).setWidth(1280).setHeight(800).build();
            out.onNext(FindDesktopReply.newBuilder().setDesktop(d).setVncPassword(Secrets.randomPassword(8)).build());
            out.onCompleted();
        }

        @Override
        public void sessionStarted(SessionStartedRequest request, StreamObserver<SessionStartedReply> out) {
            out.onNext(SessionStartedReply.getDefaultInstance());
            out.onCompleted();
        }

        @Override
        public void endSession(EndSessionRequest request, StreamObserver<EndSessionReply> out) {
            out.onNext(EndSessionReply.getDefaultInstance());
            out.onCompleted();
        }

        @Override
        public void listDesktops(ListDesktopsRequest request, StreamObserver<ListDesktopsReply> out) {
            out.onNext(ListDesktopsReply.getDefaultInstance());
            out.onCompleted();
        }
    }

    /** An engine whose Launch, Stop and Tally answer at once. */
    private static final class InstantEngine extends EngineGrpc.EngineImplBase {
        final AtomicLong launches = new AtomicLong();

        @Override
        public void launch(LaunchRequest request, StreamObserver<LaunchReply> out) {
            out.onNext(LaunchReply.newBuilder().setInstanceId("instance-" + launches.incrementAndGet()).setWidth(1280).setHeight(800).build());
            out.onCompleted();
        }

        @Override
        public void stop(StopRequest request, StreamObserver<StopReply> out) {
            out.onNext(StopReply.newBuilder().setStoppedInstances(1).build());
            out.onCompleted();
        }

        @Override
        public void tally(TallyRequest request, StreamObserver<TallyReply> out) {
            out.onNext(TallyReply.newBuilder().setConnections(0).build());
            out.onCompleted();
        }
    }

    /** A loopback socket that accepts and closes every connection: the gateway's WebSocket port for its health probe. */
    private static ServerSocket acceptingSocket() throws IOException {
        ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("bench-gateway-port").start(() -> {
            while (!s.isClosed()) {
                try {
                    s.accept().close();
                } catch (IOException e) {
                    // closed: the loop ends
                }
            }
        });
        return s;
    }

}
