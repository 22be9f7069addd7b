package io.deskgate.frontdoor;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes what the frontdoor depends on, every {@link #INTERVAL}, and records the results in a
 * {@link Readiness}: the store with {@code SELECT 1} (query timeout {@link #STORE_QUERY_TIMEOUT}); the
 * registry's live engines and gateways (the launch view's latest reading, or a fresh one where it has no thread: {@link LiveRoles#viewOrRefresh()}), each
 * needing at least one; and the broker, each engine and each gateway with a TCP connect
 * ({@link #CONNECT_TIMEOUT}). An instance that leaves the registry leaves the list. The store has its
 * own thread, so a store probe stuck waiting for a pooled connection delays no other probe. So
 * {@code /healthz} and the API's fast failure read a result at most about a second old and never load
 * the store themselves. {@link #close()} stops the threads.
 */
final class HealthProbes implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HealthProbes.class);
    static final Duration INTERVAL = Duration.ofSeconds(1);
    /** A component whose last good probe is older than this reads as down (a probe that hangs). */
    static final Duration MAX_AGE = Duration.ofSeconds(4);
    static final int STORE_QUERY_TIMEOUT_SECONDS = 2;
    static final Duration STORE_QUERY_TIMEOUT = Duration.ofSeconds(STORE_QUERY_TIMEOUT_SECONDS);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);

    private final Readiness readiness;
    private final DataSource store;
    private final LiveRoles roles;
    /** The registry's instances probed in the last round (components). */
    private final Set<String> instances = ConcurrentHashMap.newKeySet();
    private final Clock clock;
    private final ScheduledExecutorService threads;
    private final Map<String, Boolean> lastLogged = new ConcurrentHashMap<>();

    private HealthProbes(Readiness readiness, DataSource store, LiveRoles roles, Clock clock) {
        this.readiness = readiness;
        this.store = store;
        this.roles = roles;
        this.clock = clock;
        this.threads = Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, "frontdoor-health-probe");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Probes once now (so readiness is known when the frontdoor starts serving), then keeps probing.
     *
     * @param roles the broker (the least loaded live one, or the fixed one) and the registry's engines and gateways
     */
    static HealthProbes start(DataSource store, LiveRoles roles, Clock clock) {
        Readiness readiness = new Readiness(List.of(Readiness.STORE, Readiness.BROKER, Readiness.ENGINES,
                Readiness.GATEWAYS), MAX_AGE);
        HealthProbes p = new HealthProbes(readiness, store, roles, clock);
        p.probeStore();
        p.probeRoles();
        long every = INTERVAL.toMillis();
        p.threads.scheduleWithFixedDelay(p::probeStore, every, every, TimeUnit.MILLISECONDS);
        p.threads.scheduleWithFixedDelay(p::probeRoles, every, every, TimeUnit.MILLISECONDS);
        return p;
    }

    Readiness readiness() { return readiness; }

    boolean storeUp() { return readiness.up(Readiness.STORE, clock.instant()); }

    private void probeStore() {
        try (Connection c = store.getConnection(); Statement st = c.createStatement()) {
            st.setQueryTimeout(STORE_QUERY_TIMEOUT_SECONDS);
            try (ResultSet rs = st.executeQuery("SELECT 1")) {
                rs.next();
            }
            record(Readiness.STORE, true, "");
        } catch (SQLException | RuntimeException e) {
            record(Readiness.STORE, false, e.getClass().getSimpleName()
                    + (e instanceof SQLException s ? " (SQL state " + s.getSQLState() + ")" : ""));
        }
    }

    private void probeRoles() {
        LiveRoles.Snapshot live = roles.viewOrRefresh();
        record(Readiness.ENGINES, !live.engines().isEmpty(), "no engine is registered");
        record(Readiness.GATEWAYS, !live.gateways().isEmpty(), "no gateway is registered");
        Map<String, InetSocketAddress> targets = new LinkedHashMap<>();
        if (live.brokers().isEmpty()) {
            record(Readiness.BROKER, false, "no broker is registered");
        } else {
            targets.put(Readiness.BROKER, HostPort.parse(live.brokers().getFirst()).unresolved());
        }
        live.engines().forEach(e -> targets.put(Readiness.engine(e.id()), HostPort.parse(e.grpcTarget()).unresolved()));
        live.gateways().forEach(g -> targets.put(Readiness.gateway(g.id()), wsAddress(g.wsUrl())));
        for (String gone : instances) {
            if (!targets.containsKey(gone)) {
                readiness.untrack(gone);
                instances.remove(gone);
                lastLogged.remove(gone);
            }
        }
        targets.forEach((component, address) -> {
            if (!component.equals(Readiness.BROKER) && instances.add(component)) readiness.track(component);
            try (Socket s = new Socket()) {
                // Resolved per probe, so a changed address is followed.
                s.connect(new InetSocketAddress(address.getHostString(), address.getPort()), (int) CONNECT_TIMEOUT.toMillis());
                record(component, true, "");
            } catch (IOException | RuntimeException e) {
                record(component, false, e.getClass().getSimpleName());
            }
        });
    }

    /** Records a result; logs one line when a component changes state (never per probe). */
    private void record(String component, boolean ok, String why) {
        if (ok) {
            readiness.ok(component, clock.instant());
        } else {
            readiness.failed(component);
        }
        Boolean before = lastLogged.put(component, ok);
        if (before != null && before != ok) {
            if (ok) {
                log.info("{} is reachable again", component);
            } else {
                log.warn("{} is unreachable: {}", component, why);
            }
        }
    }

    private static InetSocketAddress wsAddress(String wsUrl) {
        URI u = URI.create(wsUrl);
        int port = u.getPort() > 0 ? u.getPort() : ("wss".equalsIgnoreCase(u.getScheme()) ? 443 : 80);
        return InetSocketAddress.createUnresolved(u.getHost(), port);
    }

    @Override
    public void close() {
        threads.shutdownNow();
    }
}
