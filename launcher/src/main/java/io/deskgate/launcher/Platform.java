package io.deskgate.launcher;

import io.deskgate.agent.Agent;
import io.deskgate.agent.AgentConfig;
import io.deskgate.broker.Broker;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.engine.Engine;
import io.deskgate.frontdoor.AdminBootstrap;
import io.deskgate.frontdoor.Frontdoor;
import io.deskgate.frontdoor.FrontdoorConfig;
import io.deskgate.gateway.Gateway;
import io.deskgate.gateway.GatewayConfig;
import io.deskgate.store.Database;
import io.deskgate.store.Registration;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.RegistryHeartbeat;
import io.deskgate.store.RegistryStore;
import io.deskgate.store.RegistryTiming;
import io.deskgate.store.Role;
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
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
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
    /** The version each role registers with. */
    static final String VERSION = "0.1.0";

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
        // Every config is checked before anything starts: building them again below cannot fail on the file.
        o.check();
        // Claimed first, released last: while it is held, no other run uses this directory.
        Path data = own(DataDirectory.claim(o.data())).path();
        DeskgateConfigFile file = o.file();

        Database db = own(Database.embedded(data, this::postgresLost));
        SecretStore secrets = new SecretStore(db.dataSource());
        byte[] tokenKey = secrets.getOrCreate("token-key", 32);
        byte[] streamMaster = secrets.getOrCreate("stream-master-secret", 32);
        // Every gRPC call between the roles carries a credential derived from this (ControlAuth), so that
        // another local account cannot ask the broker for a desktop's one-time VNC password.
        byte[] control = secrets.getOrCreate("control-secret", 32);
        String generated = AdminBootstrap.ensureAdmin(new UserStore(db.dataSource()), o.adminPassword());
        generatedAdminPassword = Optional.of(generated).filter(s -> !s.isEmpty());

        AgentConfig agentConfig = file.build("agent", o.agent(data).controlSecret(control)::build);
        Agent agent = own(Agent.start(agentConfig));
        Broker broker = own(Broker.start(file.build("broker",
                o.broker(List.of("127.0.0.1:" + agent.grpcPort())).controlSecret(control)::build)));
        Engine engine = own(Engine.start(file.build("engine", o.engine().controlSecret(control)::build)));

        // One certificate for the portal and the gateway: HTTPS/WSS off loopback, or when asked.
        FrontdoorConfig asked = o.frontdoor(data);
        Optional<Path> pem = asked.tlsPem().or(() -> o.tls() || !ServerTls.isLoopback(asked.bindHost())
                ? Optional.of(ServerTls.selfSignedPem(asked.bindHost(), data)) : Optional.empty());
        FrontdoorConfig fdConfig = asked.toBuilder().tlsPem(pem).build();
        GatewayConfig gatewayConfig = file.build("gateway", o.gateway(fdConfig).tokenKey(tokenKey).streamMasterSecret(streamMaster)
                .tls(pem.flatMap(p -> ServerTls.fromPem(p).sslContext()))::build);
        Gateway gateway = own(Gateway.start(gatewayConfig));

        // The engine and the gateway register themselves and heartbeat with their true load; the frontdoor finds
        // them in the registry. Owned after their role, so each row is removed before its role stops.
        RegistryStore registry = new RegistryStore(db.dataSource());
        own(RegistryHeartbeat.start(registry, new Registration(Role.ENGINE, "engine-1", UUID.randomUUID(),
                Map.of(RegistryEntry.GRPC, "127.0.0.1:" + engine.grpcPort()), engine.config().maxInstances(), VERSION,
                Map.of()), engine::connections, RegistryTiming.DEFAULT));
        own(RegistryHeartbeat.start(registry, new Registration(Role.GATEWAY, "gateway-1", UUID.randomUUID(),
                Map.of(RegistryEntry.WS, gateway.wsUrl(publicHost(gatewayConfig.bindHost())),
                        RegistryEntry.UDP, "127.0.0.1:" + gateway.udpAddress().getPort()),
                gateway.config().maxSessions(), VERSION, Map.of()), gateway::sessionCount, RegistryTiming.DEFAULT));
        Frontdoor frontdoor = own(Frontdoor.start(fdConfig, db, tokenKey, streamMaster, control,
                "127.0.0.1:" + broker.grpcPort(), RegistryTiming.DEFAULT));

        if (!agent.awaitReady(Duration.ofSeconds(60))) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "desktops did not become ready within 60 s (see the log above)");
        }
        url = frontdoor.url();
        brokerGrpcPort = broker.grpcPort();
        controlSecret = control;
        log.info("ready in {} ms: {} desktop(s), data in {}", (System.nanoTime() - t0) / 1_000_000, agentConfig.desktops(), data);
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
