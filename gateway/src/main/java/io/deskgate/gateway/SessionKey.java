package io.deskgate.gateway;

import java.util.UUID;

/** Names one session at the gateway: the same session id under two tenants is two sessions with two keys. */
record SessionKey(int tenant, UUID sessionId) {
    @Override public String toString() { return Integer.toUnsignedString(tenant) + "/" + sessionId; }
}
