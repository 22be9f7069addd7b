package io.deskgate.frontdoor;

import io.deskgate.frontdoor.Frontdoor.EngineEndpoint;
import io.deskgate.frontdoor.Frontdoor.GatewayEndpoint;
import io.deskgate.store.RegistryStore;
import io.deskgate.store.RegistryTiming;
import io.deskgate.store.Role;
import io.deskgate.store.RegistryEntry;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The brokers, engines and gateways the registry lists as live (heartbeats within the timeout, judged by
 * the database), least loaded first; or one fixed broker, when the frontdoor was given one. A launch reads
 * them fresh ({@link #brokers()}, {@link #engines()}, {@link #gateways()});
 * the health probes and the Content-Security-Policy read the last result ({@link #last()}), which
 * {@link #refresh()} renews and which survives a store outage unchanged. Thread-safe.
 */
final class LiveRoles {
    private static final Logger log = LoggerFactory.getLogger(LiveRoles.class);

    /** One reading of the registry. */
    record Snapshot(List<String> brokers, List<EngineEndpoint> engines, List<GatewayEndpoint> gateways) {
        static final Snapshot EMPTY = new Snapshot(List.of(), List.of(), List.of());

        Snapshot {
            brokers = List.copyOf(brokers);
            engines = List.copyOf(engines);
            gateways = List.copyOf(gateways);
        }
    }

    private final RegistryStore registry;
    private final RegistryTiming timing;
    private final Optional<String> fixedBroker;
    private final io.deskgate.common.RateLimitedLog rateLimited = new io.deskgate.common.RateLimitedLog(log);
    private volatile Snapshot last = Snapshot.EMPTY;
    private volatile boolean readFailed;

    /** @param fixedBroker the one broker to use, {@code host:port}; empty: the registry's live brokers */
    LiveRoles(RegistryStore registry, RegistryTiming timing, Optional<String> fixedBroker) {
        this.registry = registry;
        this.timing = timing;
        this.fixedBroker = fixedBroker.map(b -> HostPort.parse(b).toString());
    }

    /** The brokers' {@code host:port} gRPC targets: the fixed one, else the live ones, least loaded first. Reads the store. */
    List<String> brokers() {
        if (fixedBroker.isPresent()) return List.of(fixedBroker.get());
        return registry.live(Role.BROKER, timing.timeout()).stream().flatMap(e -> usableGrpc(e).stream()).toList();
    }

    private Optional<String> usableGrpc(RegistryEntry e) {
        Optional<String> address = e.address(RegistryEntry.GRPC);
        try {
            return address.map(a -> HostPort.parse(a).toString());
        } catch (IllegalArgumentException ex) {
            rateLimited.warn("broker row unusable", "skipping broker {} from the registry: {}", e.id(), ex.getMessage());
            return Optional.empty();
        }
    }

    /** The live engines with a usable gRPC address, least loaded first. Reads the store. */
    List<EngineEndpoint> engines() {
        return EngineSelector.candidates(registry.live(Role.ENGINE, timing.timeout()));
    }

    /** The live engines' registry rows (their published tallies and capacities), as the registry orders them. Reads the store. */
    List<RegistryEntry> engineRows() {
        return registry.live(Role.ENGINE, timing.timeout());
    }

    /** The live gateways with usable addresses, least loaded first. Reads the store. */
    List<GatewayEndpoint> gateways() {
        return GatewaySelector.usable(registry.live(Role.GATEWAY, timing.timeout()));
    }

    /** Reads the registry and keeps the result; on a store failure keeps the previous one (one log line). */
    Snapshot refresh() {
        try {
            last = new Snapshot(brokers(), engines(), gateways());
            if (readFailed) {
                readFailed = false;
                log.info("registry readable again");
            }
        } catch (RuntimeException e) {
            if (!readFailed) {
                readFailed = true;
                log.warn("cannot read the registry ({}); keeping the last {} engine(s) and {} gateway(s)", e.getMessage(),
                        last.engines().size(), last.gateways().size());
            }
        }
        return last;
    }

    /** The last successful reading (empty before the first). */
    Snapshot last() { return last; }
}
