package io.deskgate.frontdoor;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.PasswordHasher;
import io.deskgate.common.Status;
import io.deskgate.common.StreamKeys;
import io.deskgate.common.TokenSigner;
import io.deskgate.store.AuditLog;
import io.deskgate.store.Database;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.RegistryStore;
import io.deskgate.store.SessionStore;
import io.deskgate.store.UserStore;
import io.deskgate.wire.ControlAuth;
import io.javalin.Javalin;
import io.javalin.http.staticfiles.Location;
import io.javalin.util.JavalinBindException;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The frontdoor (seed 000): serves the web client and the HTTP API, authenticates, and orchestrates
 * session launches, then steps out of the data path. Plain HTTP on a loopback bind address, HTTPS
 * otherwise. Shared state lives in the store, so any number of frontdoors can run side by side.
 * Thread-safe; {@link #close()} stops the server and releases its channels.
 */
public final class Frontdoor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Frontdoor.class);
    /** Largest request Jetty accepts at all; the API's own limit ({@link Json#MAX_BODY_BYTES}) is lower. */
    private static final long MAX_REQUEST_BYTES = 64 * 1024;
    static final Duration GATEWAY_PROBE_INTERVAL = Duration.ofSeconds(10);
    static final Duration GATEWAY_PROBE_TIMEOUT = Duration.ofSeconds(1);
    static final Duration GATEWAY_MAX_HEARTBEAT_AGE = Duration.ofSeconds(30);

    /** An engine's control endpoint. */
    public record EngineEndpoint(String id, String grpcTarget) {}

    /**
     * A gateway (point of presence).
     *
     * @param wsUrl   the WebSocket URL browsers connect to ({@code ws://} or {@code wss://})
     * @param udpHost where engines send the stream's datagrams
     */
    public record GatewayEndpoint(String id, String wsUrl, String udpHost, int udpPort) {}

    /** Server TLS material: none on loopback, else a configured PEM or a generated self-signed certificate. */
    public static final class Tls {
        private final Optional<SSLContext> sslContext;

        private Tls(Optional<SSLContext> sslContext) {
            this.sslContext = sslContext;
        }

        /** No TLS on a loopback address; otherwise the self-signed certificate kept under {@code dataDir/tls}. */
        public static Tls forBindHost(String bindHost, Path dataDir) {
            if (isLoopback(bindHost)) return new Tls(Optional.empty());
            return new Tls(Optional.of(TlsCertificates.sslContext(
                    TlsCertificates.selfSigned(dataDir.resolve("tls"), bindHost, Instant.now()))));
        }

        /**
         * The PEM file of the self-signed certificate kept under {@code dataDir/tls}, generated (or renewed
         * near expiry) now if needed: for serving TLS on any address, loopback included.
         */
        public static Path selfSignedPem(String bindHost, Path dataDir) {
            Path dir = dataDir.resolve("tls");
            TlsCertificates.selfSigned(dir, bindHost, Instant.now());
            return dir.resolve("frontdoor.pem");
        }

        /** TLS with the key and certificate chain of a PEM file. */
        public static Tls fromPem(Path pem) {
            return new Tls(Optional.of(TlsCertificates.sslContext(TlsCertificates.loadPem(pem))));
        }

        public Optional<SSLContext> sslContext() { return sslContext; }

        public boolean enabled() { return sslContext.isPresent(); }
    }

    private final Javalin app;
    private final SessionLauncher launcher;
    private final ScheduledExecutorService prober;
    private final URI url;

    private Frontdoor(Javalin app, SessionLauncher launcher, ScheduledExecutorService prober, URI url) {
        this.app = app;
        this.launcher = launcher;
        this.prober = prober;
        this.url = url;
    }

    /**
     * Starts a frontdoor and registers the given engines and gateways in the store's registry.
     *
     * @param tokenKey           key of the login and stream tokens (shared with the gateways)
     * @param streamMasterSecret master secret the per-session stream keys derive from
     * @param controlSecret      the control plane's shared secret (at least 32 bytes): every call to the broker
     *                           and the engines carries its credential ({@link ControlAuth})
     * @param brokerTarget       {@code host:port} of the broker's gRPC service
     * @throws DeskgateException when the port is taken or the TLS material is unusable
     * @throws IllegalArgumentException when the control secret is missing or shorter than 32 bytes
     */
    public static Frontdoor start(FrontdoorConfig c, Database db, byte[] tokenKey, byte[] streamMasterSecret,
                                  byte[] controlSecret, String brokerTarget, List<EngineEndpoint> engines,
                                  List<GatewayEndpoint> gateways) {
        ControlAuth controlAuth = new ControlAuth(controlSecret);
        Tls tls = c.tlsPem().map(Tls::fromPem).orElseGet(() -> Tls.forBindHost(c.bindHost(), c.dataDir()));
        Clock clock = Clock.systemUTC();
        UserStore users = new UserStore(db.dataSource());
        SessionStore sessions = new SessionStore(db.dataSource());
        RegistryStore registry = new RegistryStore(db.dataSource());
        AuditLog audit = new AuditLog(db.dataSource());
        for (EngineEndpoint e : engines) registry.upsert(RegistryEntry.ENGINE, e.id(), e.grpcTarget(), Map.of(), 0);
        for (GatewayEndpoint g : gateways) register(registry, g);

        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Authenticator auth = new Authenticator(users, new PasswordHasher(), new TokenSigner(tokenKey), clock, c.loginTtl());
        SessionLauncher launcher = new SessionLauncher(brokerTarget, engines, controlAuth,
                new GatewaySelector(GATEWAY_MAX_HEARTBEAT_AGE), registry, sessions, audit,
                new StreamKeys(streamMasterSecret), clock);
        ApiRoutes api = new ApiRoutes(auth, users, sessions, launcher, audit, tls.enabled(), c.streamTokenTtl(), metrics);
        Map<String, String> headers = SecurityHeaders.of(gateways, tls.enabled());

        Javalin app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.http.maxRequestSize = MAX_REQUEST_BYTES;
            cfg.jetty.host = c.bindHost();
            cfg.jetty.port = c.port();
            tls.sslContext().ifPresent(ssl -> cfg.jetty.addConnector((server, httpConfig) -> {
                HttpConfiguration https = new HttpConfiguration(httpConfig);
                SecureRequestCustomizer secure = new SecureRequestCustomizer();
                secure.setSniHostCheck(false); // the self-signed certificate need not name every alias
                https.addCustomizer(secure);
                SslContextFactory.Server factory = new SslContextFactory.Server();
                factory.setSslContext(ssl);
                ServerConnector connector = new ServerConnector(server,
                        new SslConnectionFactory(factory, "http/1.1"), new HttpConnectionFactory(https));
                connector.setHost(c.bindHost());
                connector.setPort(c.port());
                return connector;
            }));
            cfg.staticFiles.add(sf -> {
                sf.hostedPath = "/";
                sf.directory = "/web";
                sf.location = Location.CLASSPATH;
                sf.headers = headers;
            });
            cfg.routes.before(ctx -> headers.forEach(ctx::header));
            cfg.routes.get("/healthz", ctx -> ctx.contentType("text/plain").result("ok"));
            cfg.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                    .result(metrics.scrape()));
            api.register(cfg.routes);
        });
        try {
            app.start();
        } catch (JavalinBindException e) {
            launcher.close();
            throw new DeskgateException(Status.INTERNAL_ERROR,
                    "port " + c.port() + " on " + c.bindHost() + " is already in use", e);
        } catch (RuntimeException e) {
            launcher.close();
            throw e;
        }
        URI url = URI.create((tls.enabled() ? "https" : "http") + "://" + urlHost(c.bindHost()) + ":" + app.port() + "/");
        ScheduledExecutorService prober = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "frontdoor-gateway-probe");
            t.setDaemon(true);
            return t;
        });
        prober.scheduleWithFixedDelay(() -> probeGateways(registry, gateways), GATEWAY_PROBE_INTERVAL.toMillis(),
                GATEWAY_PROBE_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        log.info("frontdoor listening on {} (broker {}, {} engine(s), {} gateway(s))", url, brokerTarget, engines.size(),
                gateways.size());
        return new Frontdoor(app, launcher, prober, url);
    }

    /** Where browsers reach this frontdoor, ending in {@code /}. */
    public URI url() { return url; }

    @Override
    public void close() {
        prober.shutdownNow();
        app.stop();
        launcher.close();
    }

    private static void register(RegistryStore registry, GatewayEndpoint g) {
        registry.upsert(RegistryEntry.GATEWAY, g.id(), g.wsUrl(), Map.of(RegistryEntry.WS_URL, g.wsUrl(),
                RegistryEntry.UDP_HOST, g.udpHost(), RegistryEntry.UDP_PORT, Integer.toString(g.udpPort())), 0);
    }

    /**
     * Refreshes the heartbeat of each configured gateway whose WebSocket port accepts a TCP connection, so
     * that {@link GatewaySelector} skips a gateway that went away. Runs on the probe thread.
     */
    private static void probeGateways(RegistryStore registry, List<GatewayEndpoint> gateways) {
        for (GatewayEndpoint g : gateways) {
            URI u = URI.create(g.wsUrl());
            int port = u.getPort() > 0 ? u.getPort() : ("wss".equalsIgnoreCase(u.getScheme()) ? 443 : 80);
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(u.getHost(), port), (int) GATEWAY_PROBE_TIMEOUT.toMillis());
            } catch (IOException | RuntimeException e) {
                log.debug("gateway {} at {} did not answer: {}", g.id(), g.wsUrl(), e.toString());
                continue;
            }
            try {
                if (!registry.touch(RegistryEntry.GATEWAY, g.id())) register(registry, g);
            } catch (RuntimeException e) {
                log.warn("cannot refresh gateway {} in the registry: {}", g.id(), e.getMessage());
            }
        }
    }

    /** True for a loopback address or a name that resolves to one. */
    public static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) return true;
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static String urlHost(String bindHost) {
        if (bindHost.equals("0.0.0.0") || bindHost.equals("::")) {
            try {
                return InetAddress.getLocalHost().getCanonicalHostName();
            } catch (UnknownHostException e) {
                return "localhost";
            }
        }
        return bindHost.contains(":") ? "[" + bindHost + "]" : bindHost;
    }
}
