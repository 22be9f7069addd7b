package io.deskgate.frontdoor;

import java.net.URI;
import java.util.Locale;

/**
 * Gateway WebSocket URLs as browsers see them. A gateway bound to a wildcard address
 * ({@code 0.0.0.0} or {@code ::}) is reached on whatever host name the browser used for the portal,
 * so its URL's host is filled in per request; that keeps one certificate exception (or one real
 * certificate) valid for both, where a guessed canonical host name would not be.
 */
final class GatewayUrls {
    private GatewayUrls() {}

    static boolean isWildcard(String wsUrl) {
        String host = URI.create(wsUrl).getHost();
        return host != null && (host.equals("0.0.0.0") || host.equals("[::]") || host.equals("::"));
    }

    /**
     * The URL a browser that reached the portal at {@code requestHost} (the {@code Host} header, possibly
     * with a port) should connect to.
     */
    static String forRequest(String wsUrl, String requestHost) {
        if (!isWildcard(wsUrl) || requestHost == null || requestHost.isBlank()) return wsUrl;
        URI u = URI.create(wsUrl);
        return u.getScheme() + "://" + hostOnly(requestHost) + (u.getPort() >= 0 ? ":" + u.getPort() : "") + u.getRawPath();
    }

    /** {@code scheme://host[:port]} for a Content-Security-Policy {@code connect-src}; {@code *} for a wildcard host. */
    static String origin(String wsUrl) {
        URI u = URI.create(wsUrl);
        String scheme = u.getScheme() == null ? "ws" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("ws") && !scheme.equals("wss")) {
            throw new IllegalArgumentException("gateway URL " + wsUrl + " is not a ws:// or wss:// URL");
        }
        if (isWildcard(wsUrl)) return scheme + "://*" + (u.getPort() >= 0 ? ":" + u.getPort() : "");
        return scheme + "://" + u.getRawAuthority();
    }

    /** The host part of a Host header value: {@code example.org:8443} -> {@code example.org}, {@code [::1]:8443} -> {@code [::1]}. */
    static String hostOnly(String hostHeader) {
        String h = hostHeader.trim();
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end > 0 ? h.substring(0, end + 1) : h;
        }
        int colon = h.indexOf(':');
        return colon >= 0 ? h.substring(0, colon) : h;
    }
}
