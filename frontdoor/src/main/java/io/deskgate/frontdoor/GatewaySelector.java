package io.deskgate.frontdoor;

import io.deskgate.common.RateLimitedLog;
import io.deskgate.frontdoor.Frontdoor.GatewayEndpoint;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.Role;
import java.net.URI;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateways (points of presence) a new session may use, from the registry's live gateways, which come
 * least loaded first (their own heartbeats report their sessions): a launch takes the first whose addresses
 * are complete and well formed. Proximity to the client comes later (seed 000). Pure apart from one rate-limited log
 * line per malformed row.
 */
final class GatewaySelector {
    private static final Logger log = LoggerFactory.getLogger(GatewaySelector.class);
    private static final RateLimitedLog rateLimited = new RateLimitedLog(log);

    private GatewaySelector() {}

    /** The gateways among {@code live} whose addresses are complete and well formed, in the same order. */
    static List<GatewayEndpoint> usable(List<RegistryEntry> live) {
        return live.stream().filter(e -> e.role() == Role.GATEWAY).flatMap(e -> endpoint(e).stream()).toList();
    }

    /** The endpoint an entry describes; empty (with a log line) when an address is missing or malformed. */
    static Optional<GatewayEndpoint> endpoint(RegistryEntry e) {
        Optional<String> ws = e.address(RegistryEntry.WS);
        Optional<String> udp = e.address(RegistryEntry.UDP);
        if (ws.isEmpty() || udp.isEmpty()) return skip(e, "its ws or udp address is missing");
        try {
            URI u = URI.create(ws.get());
            if (u.getHost() == null || !("ws".equalsIgnoreCase(u.getScheme()) || "wss".equalsIgnoreCase(u.getScheme()))) {
                return skip(e, "its ws address is not a ws:// or wss:// URL");
            }
            HostPort hp = HostPort.parse(udp.get());
            return Optional.of(new GatewayEndpoint(e.id(), ws.get(), hp.host(), hp.port()));
        } catch (IllegalArgumentException ex) {
            return skip(e, "an address is malformed");
        }
    }

    private static Optional<GatewayEndpoint> skip(RegistryEntry e, String why) {
        rateLimited.warn("gateway row unusable", "skipping gateway {} from the registry: {}", e.id(), why);
        return Optional.empty();
    }
}
