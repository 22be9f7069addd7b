package io.deskgate.frontdoor;

import io.deskgate.common.RateLimitedLog;
import io.deskgate.frontdoor.Frontdoor.EngineEndpoint;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.Role;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engines a launch may use, in the order to try them (seed 000, least connections): the registry's
 * live engines come least loaded first, by the live instances each reports in its heartbeats. Pure apart
 * from one rate-limited log line per malformed row.
 */
final class EngineSelector {
    private static final Logger log = LoggerFactory.getLogger(EngineSelector.class);
    private static final RateLimitedLog rateLimited = new RateLimitedLog(log);

    private EngineSelector() {}

    /** @param live the registry's live engines, least loaded first; those without a usable gRPC address are skipped */
    static List<EngineEndpoint> candidates(List<RegistryEntry> live) {
        return live.stream().filter(e -> e.role() == Role.ENGINE).flatMap(e -> endpoint(e).stream()).toList();
    }

    private static Optional<EngineEndpoint> endpoint(RegistryEntry e) {
        Optional<String> grpc = e.address(RegistryEntry.GRPC);
        try {
            if (grpc.isPresent()) return Optional.of(new EngineEndpoint(e.id(), HostPort.parse(grpc.get()).toString()));
        } catch (IllegalArgumentException ex) {
            // logged below
        }
        rateLimited.warn("engine row unusable", "skipping engine {} from the registry: no usable grpc address", e.id());
        return Optional.empty();
    }
}
