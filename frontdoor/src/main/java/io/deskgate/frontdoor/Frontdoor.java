package io.deskgate.frontdoor;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.control.ControlAuth;
import io.deskgate.store.AuditLog;
import io.deskgate.store.Database;
import io.deskgate.store.DrainStore;
import io.deskgate.store.EntitlementStore;
import io.deskgate.store.LoginThrottleStore;
import io.deskgate.store.PoolStore;
import io.deskgate.store.TenantStore;
import io.deskgate.store.PortalSessionStore;
import io.deskgate.store.RegistryStore;
import io.deskgate.store.RegistryTiming;
import io.deskgate.store.SessionStore;
import io.deskgate.store.UserStore;
import io.deskgate.stream.StreamKeys;
import io.deskgate.tls.ServerTls;
import io.deskgate.tokens.TokenSigner;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.staticfiles.Location;
import io.javalin.util.JavalinBindException;
import io.deskgate.metrics.MetricsEndpoint;
import io.deskgate.metrics.RoleMetrics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
    static final Duration PURGE_INTERVAL = Duration.ofMinutes(10);

    /** An engine's control endpoint, as the registry lists it. */
    public record EngineEndpoint(String id, String grpcTarget) {}

    /**
     * A gateway (point of presence), as the registry lists it.
     *
     * @param wsUrl   the WebSocket URL browsers connect to ({@code ws://} or {@code wss://})
     * @param udpHost where engines send the stream's datagrams
     */
    public record GatewayEndpoint(String id, String wsUrl, String udpHost, int udpPort) {}

    private final Javalin app;
    private final SessionLauncher launcher;
    private final ScheduledExecutorService purger;
    private final HealthProbes health;
    private final LiveRoles roles;
    private final Optional<MetricsEndpoint> metricsEndpoint;
    private final URI url;
    private final LiveLogins liveLogins;

    private Frontdoor(Javalin app, SessionLauncher launcher, ScheduledExecutorService purger, HealthProbes health,
                      LiveRoles roles, Optional<MetricsEndpoint> metricsEndpoint, URI url, LiveLogins liveLogins) {
        this.roles = roles;
        this.liveLogins = liveLogins;
        this.app = app;
        this.launcher = launcher;
        this.purger = purger;
        this.health = health;
        this.metricsEndpoint = metricsEndpoint;
        this.url = url;
    }

    /**
     * Starts a frontdoor that finds its brokers, engines and gateways in the registry: the live ones (they
     * register themselves and heartbeat, {@link io.deskgate.store.RegistryHeartbeat}), as its view of the registry
     * renewed every {@link FrontdoorConfig#rolesRefresh()} shows them ({@link LiveRoles});
     * each call to a broker goes to the least loaded live one.
     *
     * @see #start(FrontdoorConfig, Database, byte[], byte[], byte[], String, RegistryTiming)
     */
    public static Frontdoor start(FrontdoorConfig c, Database db, byte[] tokenKey, byte[] streamMasterSecret,
                                  byte[] controlSecret, RegistryTiming registryTiming) {
        return start(c, db, tokenKey, streamMasterSecret, controlSecret, Optional.empty(), registryTiming, RoleMetrics.newRegistry());
    }

    /**
     * The same, counting into {@code metrics} (in {@code deskgate up} the registry every role of the JVM shares), which
     * its {@code metrics-port} serves.
     */
    public static Frontdoor start(FrontdoorConfig c, Database db, byte[] tokenKey, byte[] streamMasterSecret,
                                  byte[] controlSecret, RegistryTiming registryTiming, PrometheusMeterRegistry metrics) {
        return start(c, db, tokenKey, streamMasterSecret, controlSecret, Optional.empty(), registryTiming, metrics);
    }

    /**
     * Starts a frontdoor with one fixed broker (for tests, and a fleet whose broker does not register). The
     * engines and gateways are the registry's live ones, read at each launch.
     *
     * @param tokenKey           key of the login and stream tokens (shared with the gateways)
     * @param streamMasterSecret master secret the per-session stream keys derive from
     * @param controlSecret      the control plane's shared secret (at least 32 bytes): every call to the broker
     *                           and the engines carries its credential ({@link ControlAuth})
     * @param brokerTarget       {@code host:port} of the broker's gRPC service
     * @param registryTiming     the fleet's heartbeat timing: an engine or gateway silent past its timeout is gone
     * @throws DeskgateException when the port is taken or the TLS material is unusable
     * @throws IllegalArgumentException when the control secret is missing or shorter than 32 bytes
     */
    public static Frontdoor start(FrontdoorConfig c, Database db, byte[] tokenKey, byte[] streamMasterSecret,
                                  byte[] controlSecret, String brokerTarget, RegistryTiming registryTiming) {
        return start(c, db, tokenKey, streamMasterSecret, controlSecret, Optional.of(brokerTarget), registryTiming,
                RoleMetrics.newRegistry());
    }

    /**
     * As {@link #start(FrontdoorConfig, Database, byte[], byte[], byte[], RegistryTiming)}, its calls to the brokers
     * and engines behind {@code controlAuth}: mutual TLS ({@link ControlAuth#mutualTls}) when they are on other hosts.
     */
    public static Frontdoor start(FrontdoorConfig c, Database db, byte[] tokenKey, byte[] streamMasterSecret,
                                  ControlAuth controlAuth, RegistryTiming registryTiming) {
        return start(c, db, tokenKey, streamMasterSecret, controlAuth, Optional.empty(), registryTiming);
    }

    /** The same, counting into {@code metrics} (the fleet's registry). */
    public static Frontdoor start(FrontdoorConfig c, Database db, byte[] tokenKey, byte[] streamMasterSecret,
                                  ControlAuth controlAuth, RegistryTiming registryTiming, PrometheusMeterRegistry metrics) {
        return start(c, db, tokenKey, streamMasterSecret, controlAuth, Optional.empty(), registryTiming, metrics);
    }

    /**
     * The same, recording {@code frontdoorId} (its registry id) on each session it launches, so that
     * {@code deskgate status} counts every frontdoor's active sessions.
     */
    public static Frontdoor start(FrontdoorConfig c, Database db, byte[] tokenKey, byte[] streamMasterSecret,
                                  ControlAuth controlAuth, RegistryTiming registryTiming, PrometheusMeterRegistry metrics,
                                  String frontdoorId) {
        return start(c, db, tokenKey, streamMasterSecret, controlAuth, Optional.empty(), registryTiming, metrics, frontdoorId);
    }

    private static Frontdoor start(FrontdoorConfig c, Database db, byte[] tokenKey, byte[] streamMasterSecret,
                                   byte[] controlSecret, Optional<String> brokerTarget, RegistryTiming registryTiming,
                                   PrometheusMeterRegistry metrics) {
        return start(c, db, tokenKey, streamMasterSecret, new ControlAuth(controlSecret), brokerTarget, registryTiming, metrics);
    }

    private static Frontdoor start(FrontdoorConfig c, Database db, byte[] tokenKey, byte[] streamMasterSecret,
                                   ControlAuth controlAuth, Optional<String> brokerTarget, RegistryTiming registryTiming) {
        return start(c, db, tokenKey, streamMasterSecret, controlAuth, brokerTarget, registryTiming, RoleMetrics.newRegistry());
    }

    private static Frontdoor start(FrontdoorConfig c, Database db, byte[] tokenKey, byte[] streamMasterSecret,
                                   ControlAuth controlAuth, Optional<String> brokerTarget, RegistryTiming registryTiming,
                                   PrometheusMeterRegistry metrics) {
        return start(c, db, tokenKey, streamMasterSecret, controlAuth, brokerTarget, registryTiming, metrics, "");
    }

    /** @param frontdoorId the registry id recorded on each session launched here; "" records none */
    private static Frontdoor start(FrontdoorConfig c, Database db, byte[] tokenKey, byte[] streamMasterSecret,
                                   ControlAuth controlAuth, Optional<String> brokerTarget, RegistryTiming registryTiming,
                                   PrometheusMeterRegistry metrics, String frontdoorId) {
        ServerTls tls = c.tlsPem().map(ServerTls::fromPem).orElseGet(() -> ServerTls.forBindHost(c.bindHost(), c.dataDir()));
        Clock clock = Clock.systemUTC();
        UserStore users = new UserStore(db.dataSource());
        SessionStore sessions = new SessionStore(db.dataSource());
        LiveRoles roles = new LiveRoles(new RegistryStore(db.dataSource()), registryTiming, brokerTarget, c.rolesRefresh()).start();
        AuditLog audit = new AuditLog(db.dataSource());
        PortalSessionStore portalSessions = new PortalSessionStore(db.dataSource());

        Authenticator auth = new Authenticator(users, new PasswordHasher(), new TokenSigner(tokenKey), clock, c.loginTtl());
        FunctionCounter.builder("deskgate.frontdoor.password.checks", auth, Authenticator::verifications)
                .description("password verifications run").register(metrics);
        HealthProbes health = HealthProbes.start(db.dataSource(), roles, clock);
        SessionLauncher launcher = new SessionLauncher(roles, controlAuth, sessions, audit,
                new StreamKeys(streamMasterSecret), clock, frontdoorId);
        Gauge.builder("deskgate.frontdoor.launches.in.flight", launcher, SessionLauncher::launching)
                .description("session launches being served now").register(metrics);
        Gauge.builder("deskgate.frontdoor.portal.sessions.active", () -> livePortalSessions(portalSessions, clock))
                .description("portal sessions neither revoked nor expired, fleet-wide (read from the store at each scrape)")
                .register(metrics);
        EntitlementStore entitlements = new EntitlementStore(db.dataSource());
        TenantStore tenantStore = new TenantStore(db.dataSource());
        LoginAttempts attempts = new LoginAttempts(new LoginThrottleStore(db.dataSource()));
        LiveLogins liveLogins = new LiveLogins(portalSessions, PortalSessionCache.Limits.DEFAULT, clock, System::nanoTime, metrics);
        ApiRoutes api = new ApiRoutes(auth, users, tenantStore, sessions, portalSessions, liveLogins, launcher, new PoolAccess(entitlements), audit, tls.enabled(),
                c.streamTokenTtl(), metrics, attempts, health::storeUp, clock);
        AdminApi admin = new AdminApi(tenantStore, users, new PoolStore(db.dataSource()),
                entitlements, audit, new PasswordHasher(), api::currentUser, launcher::releaseUser, liveLogins::flushAllHere);
        DrainApi drainApi = new DrainApi(new DrainStore(db.dataSource()), audit, api::currentUser, roles::refresh);
        boolean https = tls.enabled();
        // The static files' headers are fixed; the Content-Security-Policy follows the live gateways (set in before).
        Map<String, String> fixedHeaders = SecurityHeaders.withoutPolicy(https);
        SecurityHeaders.PerReading securityHeaders = new SecurityHeaders.PerReading(https);

        Javalin app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            JettyLimits.apply(cfg, c.bindHost(), c.port(), tls.sslContext());
            cfg.staticFiles.add(sf -> {
                sf.hostedPath = "/";
                sf.directory = "/web";
                sf.location = Location.CLASSPATH;
                sf.headers = fixedHeaders;
            });
            cfg.routes.before(ctx -> securityHeaders.headers(roles.last().gateways()).forEach(ctx::header));
            cfg.routes.get("/healthz", ctx -> healthz(ctx, health.readiness(), clock));
            api.register(cfg.routes);
            admin.register(cfg.routes);
            drainApi.register(cfg.routes);
        });
        Optional<MetricsEndpoint> metricsEndpoint = Optional.empty();
        try {
            app.start();
            // Until the listener is in effect every call asks the store (the cache caches nothing before LISTEN).
            liveLogins.listen(db::dedicatedConnection);
            if (c.metricsPort() != FrontdoorConfig.METRICS_OFF) {
                metricsEndpoint = Optional.of(MetricsEndpoint.start(c.metricsPort(), metrics));
            }
        } catch (JavalinBindException e) {
            stopQuietly(app, launcher, health, roles);
            liveLogins.close();
            throw new DeskgateException(Status.INTERNAL_ERROR,
                    "port " + c.port() + " on " + c.bindHost() + " is already in use", e);
        } catch (RuntimeException e) {
            stopQuietly(app, launcher, health, roles);
            liveLogins.close();
            throw e;
        }
        URI url = URI.create((tls.enabled() ? "https" : "http") + "://" + urlHost(c.bindHost()) + ":" + app.port() + "/");
        ScheduledExecutorService purger = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "frontdoor-purge");
            t.setDaemon(true);
            return t;
        });
        purger.scheduleWithFixedDelay(() -> purgeExpired(portalSessions, attempts, clock), PURGE_INTERVAL.toMillis(),
                PURGE_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        log.info("frontdoor listening on {} (broker {}, {} engine(s) and {} gateway(s) registered now; metrics {})", url,
                brokerTarget.orElse(roles.last().brokers().size() + " registered"), roles.last().engines().size(), roles.last().gateways().size(),
                metricsEndpoint.map(m -> m.url().toString()).orElse("off"));
        return new Frontdoor(app, launcher, purger, health, roles, metricsEndpoint, url, liveLogins);
    }

    /** Session launches being served now: the frontdoor's load, as it registers it. */
    public int launching() { return launcher.launching(); }

    /** This frontdoor's view of the registry, for tests that wait for it to show a change. */
    LiveRoles roles() { return roles; }

    /** Where browsers reach this frontdoor, ending in {@code /}. */
    public URI url() { return url; }

    /** Where {@code GET /metrics} is served on 127.0.0.1; empty when metrics are off. */
    public Optional<URI> metricsUrl() { return metricsEndpoint.map(MetricsEndpoint::url); }

    @Override
    public void close() {
        purger.shutdownNow();
        metricsEndpoint.ifPresent(MetricsEndpoint::close);
        app.stop();
        liveLogins.close();
        health.close();
        roles.close();
        launcher.close();
    }

    /** The {@code application_name} of this frontdoor's portal session listener (for tests that cut it). */
    Optional<String> portalListenerName() { return liveLogins.listenerName(); }

    private static void stopQuietly(Javalin app, SessionLauncher launcher, HealthProbes health, LiveRoles roles) {
        try {
            app.stop();
        } catch (RuntimeException e) {
            log.debug("stopping a frontdoor that did not start: {}", e.toString());
        }
        health.close();
        roles.close();
        launcher.close();
    }

    /**
     * {@code 200 {"status":"ok","components":{...}}} when the store and every role answer their probes, else
     * {@code 503 {"status":"down","down":[...],"components":{...}}}. Reads the probes' last results only.
     */
    private static void healthz(Context ctx, Readiness readiness, Clock clock) {
        Instant now = clock.instant();
        List<String> down = readiness.down(now);
        ObjectNode body = Json.object().put("status", down.isEmpty() ? "ok" : "down");
        if (!down.isEmpty()) {
            ArrayNode list = body.putArray("down");
            down.forEach(list::add);
        }
        ObjectNode components = body.putObject("components");
        readiness.states(now).forEach(components::put);
        ctx.header("Cache-Control", "no-store");
        Json.reply(ctx, down.isEmpty() ? 200 : 503, body);
    }

    /** The store's live portal sessions; NaN while the store is unreachable (the scrape still answers). */
    private static double livePortalSessions(PortalSessionStore portalSessions, Clock clock) {
        try {
            return portalSessions.countLive(clock.instant());
        } catch (DeskgateException e) {
            return Double.NaN;
        }
    }

    private static void purgeExpired(PortalSessionStore portalSessions, LoginAttempts attempts, Clock clock) {
        try {
            portalSessions.purgeExpired(clock.instant());
            attempts.purge(clock.instant());
        } catch (RuntimeException e) {
            log.debug("cannot purge expired portal sessions and login throttle rows now: {}", e.getMessage());
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
