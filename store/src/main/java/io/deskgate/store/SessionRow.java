package io.deskgate.store;

import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/**
 * A row of {@code sessions}: one unique socket and where it runs.
 *
 * @param endedAt empty while the session is active
 */
public record SessionRow(UUID id, int tenant, long userId, String desktopId, String engineId, String gatewayId,
                         String instanceId, String state, Instant createdAt, Optional<Instant> endedAt) {
    public static final String ACTIVE = "active";
    public static final String ENDED = "ended";

    public boolean active() { return endedAt.isEmpty(); }
}
