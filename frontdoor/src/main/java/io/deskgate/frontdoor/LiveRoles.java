package io.deskgate.frontdoor;

import io.deskgate.frontdoor.Frontdoor.EngineEndpoint;
import io.deskgate.frontdoor.Frontdoor.GatewayEndpoint;
import io.deskgate.store.RegistryStore;
import io.deskgate.store.RegistryTiming;
import io.deskgate.store.Role;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engines and gateways the registry lists as live (heartbeats within the timeout, judged by the
 * database), least loaded first. A launch reads them fresh ({@link #engines()}, {@link #gateways()});
 * the health probes and the Content-Security-Policy read the last result ({@link #last()}), which
 * {@link #refresh()} renews and which survives a store outage unchanged. Thread-safe.
 */
final class LiveRoles {
    private static final Logger log = LoggerFactory.getLogger(LiveRoles.class);

    /** One reading of the registry. */
    record Snapshot(List<EngineEndpoint> engines, List<GatewayEndpoint> gateways) {
        static final Snapshot EMPTY = new Snapshot(List.of(), List.of());

        Snapshot {
            engines = List.copyOf(engines);
            gateways = List.copyOf(gateways);
        }
    }

    private final RegistryStore registry;
    private final RegistryTiming timing;
    private volatile Snapshot last = Snapshot.EMPTY;
    private volatile boolean readFailed;

    LiveRoles(RegistryStore registry, RegistryTiming timing) {
        this.registry = registry;
        this.timing = timing;
    }

    /** The live engines with a usable gRPC address, least loaded first. Reads the store. */
    List<EngineEndpoint> engines() {
        return EngineSelector.candidates(registry.live(Role.ENGINE, timing.timeout()));
    }

    /** The live gateways with usable addresses, least loaded first. Reads the store. */
    List<GatewayEndpoint> gateways() {
        return GatewaySelector.usable(registry.live(Role.GATEWAY, timing.timeout()));
    }

    /** Reads the registry and keeps the result; on a store failure keeps the previous one (one log line). */
    Snapshot refresh() {
        try {
            last = new Snapshot(engines(), gateways());
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
