package io.deskgate.launcher;

import io.deskgate.agent.Agent;
import io.deskgate.agent.AgentConfig;
import io.deskgate.broker.Broker;
import io.deskgate.broker.BrokerConfig;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.engine.Engine;
import io.deskgate.engine.EngineConfig;
import io.deskgate.frontdoor.AdminBootstrap;
import io.deskgate.frontdoor.Frontdoor;
import io.deskgate.frontdoor.FrontdoorConfig;
import io.deskgate.gateway.Gateway;
import io.deskgate.gateway.GatewayConfig;
import io.deskgate.store.Database;
import io.deskgate.store.EntitlementStore;
import io.deskgate.store.PoolStore;
import io.deskgate.store.SecretStore;
import io.deskgate.store.UserStore;
import io.deskgate.tls.ServerTls;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every role in one JVM, wired the way separate processes would be: through gRPC and the stream's
 * UDP and WebSocket legs over loopback sockets, never by direct calls between roles.
 *
 * <p>Public for the benchmarks ({@code deskgate bench open} starts it in its own JVM): {@link #start},
 * {@link #url}, {@link #brokerGrpcPort}, {@link #controlSecret} and {@link #close} are the whole API.
 */
public final class Platform implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Platform.class);

    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private URI url;
    private int brokerGrpcPort;
    private byte[] controlSecret = new byte[0];
    private Optional<String> generatedAdminPassword = Optional.empty();

    private Platform() {}

    /** Starts every role and waits until the desktops are ready; on failure stops what it started and throws. */
    public static Platform start(UpOptions o) throws IOException {
        Platform p = new Platform();
        try {
            p.startAll(o);
            return p;
        } catch (RuntimeException | IOException e) {
            p.close();
            throw e;
        }
    }

    private void startAll(UpOptions o) throws IOException {
        long t0 = System.nanoTime();
        // Claimed first, released last: while it is held, no other run uses this directory.
        Path data = own(DataDirectory.claim(o.dataDir())).path();

        Database db = own(Database.embedded(data, this::postgresLost));
        SecretStore secrets = new SecretStore(db.dataSource());
        byte[] tokenKey = secrets.getOrCreate("token-key", 32);
        byte[] streamMaster = secrets.getOrCreate("stream-master-secret", 32);
        // Every gRPC call between the roles carries a credential derived from this (ControlAuth), so that
        // another local account cannot ask the broker for a desktop's one-time VNC password.
        byte[] control = secrets.getOrCreate("control-secret", 32);
        String generated = AdminBootstrap.ensureAdmin(new UserStore(db.dataSource()), o.adminPassword());
        generatedAdminPassword = Optional.of(generated).filter(s -> !s.isEmpty());

        AgentConfig agentConfig = AgentConfig.defaults(data.resolve("run")).withDesktops(o.desktops())
                .withControlSecret(control);
        Agent agent = own(Agent.start(agentConfig));
        AdminBootstrap.ensureDefaultPool(new UserStore(db.dataSource()), new PoolStore(db.dataSource()),
                new EntitlementStore(db.dataSource()), List.of(agentConfig.agentId()));
        Broker broker = own(Broker.start(new BrokerConfig("127.0.0.1", 0, List.of("127.0.0.1:" + agent.grpcPort()))
                .withControlSecret(control)));
        Engine engine = own(Engine.start(EngineConfig.defaults().withControlSecret(control)));

        // One certificate for the portal and the gateway: HTTPS/WSS off loopback, or when asked.
        Optional<Path> pem = o.tlsPem().or(() -> o.tls() || !ServerTls.isLoopback(o.bindHost())
                ? Optional.of(ServerTls.selfSignedPem(o.bindHost(), data)) : Optional.empty());
        Gateway gateway = own(Gateway.start(GatewayConfig.defaults(tokenKey, streamMaster)
                .withBindHost(o.bindHost()).withWsPort(o.gatewayPort()).withTls(pem.flatMap(p -> ServerTls.fromPem(p).sslContext()))));

        FrontdoorConfig fdConfig = FrontdoorConfig.defaults(data).withBindHost(o.bindHost()).withPort(o.port())
                .withMetricsPort(o.metricsPort());
        if (pem.isPresent()) fdConfig = fdConfig.withTlsPem(pem.get());
        Frontdoor frontdoor = own(Frontdoor.start(fdConfig, db, tokenKey, streamMaster, control,
                "127.0.0.1:" + broker.grpcPort(),
                List.of(new Frontdoor.EngineEndpoint("engine-1", "127.0.0.1:" + engine.grpcPort())),
                List.of(new Frontdoor.GatewayEndpoint("gateway-1", gateway.wsUrl(publicHost(o.bindHost())),
                        "127.0.0.1", gateway.udpAddress().getPort()))));

        if (!agent.awaitReady(Duration.ofSeconds(60))) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "desktops did not become ready within 60 s (see the log above)");
        }
        url = frontdoor.url();
        brokerGrpcPort = broker.grpcPort();
        controlSecret = control;
        log.info("ready in {} ms: {} desktop(s), data in {}", (System.nanoTime() - t0) / 1_000_000, o.desktops(), data);
    }

    /**
     * The store is gone for good: one clear line, every role stopped, and the JVM exits with status 1
     * (the supervisor calls this from its own thread).
     */
    private void postgresLost(String reason) {
        System.err.println("deskgate: PostgreSQL stopped and could not be restarted: " + reason);
        System.err.flush();
        close();
        Runtime.getRuntime().exit(1);
    }

    private synchronized <T extends AutoCloseable> T own(T resource) {
        started.push(resource);
        return resource;
    }

    /** The portal's URL. */
    public URI url() { return url; }

    /** The broker's gRPC port on 127.0.0.1 (for the open benchmark's direct RFB reference). */
    public int brokerGrpcPort() { return brokerGrpcPort; }

    /** The control secret the roles share; the open benchmark calls the broker with it. Empty until started. */
    public byte[] controlSecret() { return controlSecret.clone(); }

    Optional<String> generatedAdminPassword() { return generatedAdminPassword; }

    /** Stops every role in reverse start order; never throws. */
    @Override
    public synchronized void close() {
        while (!started.isEmpty()) {
            AutoCloseable c = started.pop();
            try {
                c.close();
            } catch (Exception e) {
                log.warn("stopping {} failed: {}", c.getClass().getSimpleName(), e.toString());
            }
        }
    }

    /**
     * The host of the gateway's URL: the bind address. A wildcard bind stays a wildcard, which the
     * frontdoor replaces with the host each browser used to reach the portal.
     */
    static String publicHost(String bindHost) {
        return bindHost.contains(":") ? "[" + bindHost + "]" : bindHost;
    }
}
