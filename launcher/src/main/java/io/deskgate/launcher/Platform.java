package io.deskgate.launcher;

import io.deskgate.agent.Agent;
import io.deskgate.broker.BrokerConfig;
import io.deskgate.concentrator.Concentrator;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.frontdoor.AdminBootstrap;
import io.deskgate.frontdoor.Frontdoor;
import io.deskgate.frontdoor.FrontdoorConfig;
import io.deskgate.store.Database;
import io.deskgate.store.EntitlementStore;
import io.deskgate.store.PoolStore;
import io.deskgate.store.UserStore;
import io.deskgate.tls.ServerTls;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
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

    private final StartedResources started = new StartedResources();
    private URI url;
    private int brokerGrpcPort;
    private byte[] controlSecret = new byte[0];
    private Optional<String> generatedAdminPassword = Optional.empty();
    private Optional<Path> statusDir = Optional.empty();

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
        // The control plane's cluster CA, created at first start: `deskgate ca issue` signs other hosts' roles with it.
        io.deskgate.tls.ClusterCa.initOrLoad(data.resolve(CaCommand.CA_DIR), java.time.Instant.now());
        DeskgateConfigFile file = o.file();

        // The embedded PostgreSQL, unless the file names an external store.
        Optional<io.deskgate.store.StoreConfig> external = file.store();
        Database db = own(external.isPresent() ? Database.external(external.get(), System.getenv())
                : Database.embedded(data, this::postgresLost));
        Fleet fleet = Fleet.of(db, file.registry());
        generatedAdminPassword = RoleRunner.admin(fleet, o.adminPassword());

        // Each role registers itself (RoleRunner) and is found in the registry: the agent finds the concentrator
        // there, the broker the concentrator (or, with placement: direct, the agent), the frontdoor the broker, the
        // engine and the gateway. Each row is removed before its role stops. With placement: sharded, up runs the
        // path a sharded fleet runs, with one concentrator set of one concentrator.
        boolean sharded = file.build("broker", o.broker().controlSecret(new byte[32])::build).placement()
                == BrokerConfig.PlacementMode.SHARDED;
        Optional<RoleRunner.Started<Concentrator>> concentrator = sharded
                ? Optional.of(own(RoleRunner.concentrator(o.concentrator(), fleet, file))) : Optional.empty();
        RoleRunner.Started<Agent> agent = own(RoleRunner.agent(o.agent(data), fleet, file));
        // The default pool holds this agent's desktops, and everyone of the default tenant is entitled to it.
        AdminBootstrap.ensureDefaultPool(new UserStore(db.dataSource()), new PoolStore(db.dataSource()),
                new EntitlementStore(db.dataSource()), List.of(agent.heartbeat().registration().id()));
        RoleRunner.Started<RoleRunner.BrokerRole> broker = own(RoleRunner.broker(o.broker(), fleet, file.id("broker"), file));
        own(RoleRunner.engine(o.engine(), fleet, file));

        // One certificate for the portal and the gateway: HTTPS/WSS off loopback, or when asked.
        FrontdoorConfig asked = o.frontdoor(data);
        Optional<Path> pem = asked.tlsPem().or(() -> o.tls() || !ServerTls.isLoopback(asked.bindHost())
                ? Optional.of(ServerTls.selfSignedPem(asked.bindHost(), data)) : Optional.empty());
        FrontdoorConfig fdConfig = asked.toBuilder().tlsPem(pem).build();
        own(RoleRunner.gateway(o.gateway(fdConfig), pem, fleet, file.id("gateway"), file));
        RoleRunner.Started<Frontdoor> frontdoor = own(RoleRunner.frontdoor(fdConfig, fleet, file.id("frontdoor"), file));

        if (!agent.role().awaitReady(Duration.ofSeconds(60))) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "desktops did not become ready within 60 s (see the log above)");
        }
        int desktops = agent.heartbeat().registration().capacity();
        if (concentrator.isPresent() && !awaitHeld(concentrator.get().role(), desktops, Duration.ofSeconds(30))) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "the agent's desktops did not reach the concentrator within 30 s"
                    + " (see the log above)");
        }
        url = frontdoor.role().url();
        brokerGrpcPort = broker.role().grpcPort();
        controlSecret = fleet.controlSecret();
        // For `deskgate status`: this one process, and the store it can read the registry from.
        Optional<io.deskgate.store.StoreConfig> store = external.or(db::embeddedStoreConfig);
        if (store.isPresent()) {
            new StatusFile(url.toString(), store.get(), List.of(new StatusFile.Process("up", "up", ProcessHandle.current().pid(), "")))
                    .write(data);
            statusDir = Optional.of(data);
        }
        log.info("ready in {} ms: {} desktop(s), data in {}", (System.nanoTime() - t0) / 1_000_000,
                agent.heartbeat().registration().capacity(), data);
    }

    /** Whether {@code c} holds {@code desktops} desktops within {@code timeout} (polled: it has no event for it). */
    private static boolean awaitHeld(Concentrator c, int desktops, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (c.load() < desktops) {
            if (System.nanoTime() - deadline > 0) return false;
            java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /**
     * The store is gone for good: one clear line, every role stopped, and the JVM exits with status 1
     * (the supervisor calls this from its own thread).
     */
    private void postgresLost(String reason) {
        StartedResources.postgresLost(reason, this);
    }

    private <T extends AutoCloseable> T own(T resource) {
        return started.own(resource);
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
        statusDir.ifPresent(StatusFile::remove);
        statusDir = Optional.empty();
        started.close();
    }

    /**
     * The host of the gateway's URL: the bind address. A wildcard bind stays a wildcard, which the
     * frontdoor replaces with the host each browser used to reach the portal.
     */
    static String publicHost(String bindHost) {
        return bindHost.contains(":") ? "[" + bindHost + "]" : bindHost;
    }
}
