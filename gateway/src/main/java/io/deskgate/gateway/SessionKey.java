package io.deskgate.gateway;

import java.util.UUID;

/**
 * Names one stream at the gateway (a datagram's tenant and id field, docs/protocol.md §2.1): a session's own
 * stream ({@code sessionId} is the session id: its first instance) or one further instance's
 * ({@code sessionId} is {@link io.deskgate.stream.StreamIds#of}). Each is a separate entry with its own key,
 * epochs and browser. The same id under two tenants is two streams with two keys.
 */
record SessionKey(int tenant, UUID sessionId) {
    @Override public String toString() { return Integer.toUnsignedString(tenant) + "/" + sessionId; }
}
