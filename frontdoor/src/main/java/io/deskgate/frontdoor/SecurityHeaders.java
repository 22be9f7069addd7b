package io.deskgate.frontdoor;

import io.deskgate.frontdoor.Frontdoor.GatewayEndpoint;
import java.net.URI;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The security headers every frontdoor response carries. Immutable. */
final class SecurityHeaders {
    private SecurityHeaders() {}

    /**
     * @param gateways their WebSocket origins (the registry's live gateways) are the only other places scripts
     *                 may connect to
     * @param tls      adds Strict-Transport-Security
     */
    static Map<String, String> of(List<GatewayEndpoint> gateways, boolean tls) {
        Set<String> connect = new LinkedHashSet<>();
        connect.add("'self'");
        for (GatewayEndpoint g : gateways) connect.add(GatewayUrls.origin(g.wsUrl()));
        String csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
                + "connect-src " + String.join(" ", connect) + "; object-src 'none'; base-uri 'none'; "
                + "form-action 'self'; frame-ancestors 'none'";
        var headers = new java.util.LinkedHashMap<String, String>();
        headers.put("Content-Security-Policy", csp);
        headers.putAll(withoutPolicy(tls));
        return Map.copyOf(headers);
    }

    /**
     * {@link #of} for the gateways of the registry's last reading, computed once per reading rather than per
     * request (the list changes only when the registry is read again). Thread-safe.
     */
    static final class PerReading {
        private record Computed(List<GatewayEndpoint> gateways, Map<String, String> headers) {}

        private final boolean tls;
        private volatile Computed last;

        PerReading(boolean tls) {
            this.tls = tls;
            this.last = new Computed(List.of(), of(List.of(), tls));
        }

        Map<String, String> headers(List<GatewayEndpoint> gateways) {
            Computed c = last;
            if (c.gateways() == gateways || c.gateways().equals(gateways)) return c.headers();
            Computed fresh = new Computed(gateways, of(gateways, tls));
            last = fresh;
            return fresh.headers();
        }
    }

    /** The headers that do not depend on the gateways: all but the Content-Security-Policy. */
    static Map<String, String> withoutPolicy(boolean tls) {
        var headers = new java.util.LinkedHashMap<String, String>();
        headers.put("X-Content-Type-Options", "nosniff");
        headers.put("Referrer-Policy", "no-referrer");
        headers.put("X-Frame-Options", "DENY");
        if (tls) headers.put("Strict-Transport-Security", "max-age=31536000");
        return Map.copyOf(headers);
    }
}
