package io.deskgate.frontdoor;

import io.deskgate.frontdoor.Frontdoor.GatewayEndpoint;
import io.deskgate.store.RegistryEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Picks the gateway (point of presence) for a new session from the registry. For now: the complete
 * entry with the lowest id whose heartbeat is recent enough; load and proximity to the client come with
 * the registry that measures them (seed 000). Pure.
 */
final class GatewaySelector {
    private final Duration maxHeartbeatAge;

    /** @param maxHeartbeatAge entries whose last heartbeat is older are not healthy */
    GatewaySelector(Duration maxHeartbeatAge) {
        this.maxHeartbeatAge = maxHeartbeatAge;
    }

    Optional<GatewayEndpoint> pick(List<RegistryEntry> gateways, Instant now) {
        return gateways.stream()
                .filter(e -> e.kind().equals(RegistryEntry.GATEWAY))
                .filter(e -> !e.heartbeatAt().plus(maxHeartbeatAge).isBefore(now))
                .sorted(Comparator.comparing(RegistryEntry::id))
                .flatMap(e -> endpoint(e).stream())
                .findFirst();
    }

    /** The endpoint an entry describes; empty when a field is missing or malformed. */
    static Optional<GatewayEndpoint> endpoint(RegistryEntry e) {
        Optional<String> ws = e.field(RegistryEntry.WS_URL);
        Optional<String> host = e.field(RegistryEntry.UDP_HOST);
        Optional<String> port = e.field(RegistryEntry.UDP_PORT);
        if (ws.isEmpty() || host.isEmpty() || port.isEmpty()) return Optional.empty();
        try {
            int p = Integer.parseInt(port.get());
            if (p < 1 || p > 65_535) return Optional.empty();
            return Optional.of(new GatewayEndpoint(e.id(), ws.get(), host.get(), p));
        } catch (NumberFormatException ex) {
            return Optional.empty();
        }
    }
}
