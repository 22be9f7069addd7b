package io.deskgate.launcher;

import io.deskgate.agent.ConcentratorLinks;
import io.deskgate.broker.SessionBroker;
import io.deskgate.common.RateLimitedLog;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.RegistryStore;
import io.deskgate.store.RegistryTiming;
import io.deskgate.store.Role;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's live concentrator rows (those that heartbeat within the fleet's timeout), as the agent's
 * {@link ConcentratorLinks} and the broker's {@link SessionBroker} read them: id, set (the
 * {@link RegistryEntry#SET} label), gRPC target and load. A row without a set or a gRPC address is left out
 * with one rate-limited line: it is not a concentrator this release registers. Read afresh at every call;
 * thread-safe.
 */
final class ConcentratorRows {
    private static final Logger LOG = LoggerFactory.getLogger(ConcentratorRows.class);
    private final RegistryStore registry;
    private final RegistryTiming timing;
    private final RateLimitedLog badRows = new RateLimitedLog(LOG);

    ConcentratorRows(RegistryStore registry, RegistryTiming timing) {
        this.registry = registry;
        this.timing = timing;
    }

    /** A concentrator row usable by both readers. */
    record Row(String id, String set, String target, int load) {}

    /** The live concentrators now. */
    List<Row> live() {
        List<Row> out = new ArrayList<>();
        for (RegistryEntry e : registry.live(Role.CONCENTRATOR, timing.timeout())) {
            Optional<String> set = e.label(RegistryEntry.SET);
            Optional<String> target = e.address(RegistryEntry.GRPC);
            if (set.isEmpty() || target.isEmpty()) {
                badRows.warn("bad-row", "ignored concentrator {} in the registry: it has no {} label or no {} address",
                        e.id(), RegistryEntry.SET, RegistryEntry.GRPC);
                continue;
            }
            out.add(new Row(e.id(), set.get(), target.get(), e.load()));
        }
        return out;
    }

    /** What an agent's report streams read. */
    ConcentratorLinks.Registry forAgents() {
        return () -> live().stream().map(r -> new ConcentratorLinks.Row(r.id(), r.set(), r.target(), r.load())).toList();
    }

    /** What a sharded broker reads. */
    SessionBroker.Registry forBrokers() {
        return () -> live().stream().map(r -> new SessionBroker.Row(r.id(), r.set(), r.target())).toList();
    }
}
