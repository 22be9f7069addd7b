package io.deskgate.store;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * A row of {@code registry}: one gateway with its endpoint fields and the last time the frontdoor saw
 * it answer. It carries no load: nothing measures one yet (docs/architecture.md, "Decisions").
 *
 * @param fields kind-specific string fields (for a gateway: {@link #WS_URL}, {@link #UDP_HOST},
 *               {@link #UDP_PORT})
 */
public record RegistryEntry(String kind, String id, String endpoint, Map<String, String> fields, Instant heartbeatAt) {
    public static final String GATEWAY = "gateway";

    public static final String WS_URL = "wsUrl";
    public static final String UDP_HOST = "udpHost";
    public static final String UDP_PORT = "udpPort";

    public RegistryEntry {
        fields = Map.copyOf(fields);
    }

    public Optional<String> field(String name) { return Optional.ofNullable(fields.get(name)); }
}
