package io.deskgate.frontdoor;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Cross-site request forgery defence for the API: a state-changing call (POST, PUT, PATCH, DELETE) must
 * send {@code Content-Type: application/json} (a form cannot, and a cross-origin script cannot without a
 * CORS preflight, which the portal never grants), and must not come from another origin: an {@code Origin}
 * header must equal the portal's own origin as the browser used it ({@code null} never does), and without
 * one, a {@code Sec-Fetch-Site} other than {@code same-origin} or {@code none} is refused. Clients that are
 * not browsers send neither header and pass. Pure; thread-safe.
 */
final class RequestGuard {
    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS");
    private static final Set<String> OWN_FETCH_SITES = Set.of("same-origin", "none");

    private RequestGuard() {}

    /**
     * Why a request must be refused, or empty when it may go on.
     *
     * @param contentType    the {@code Content-Type} header, or null
     * @param origin         the {@code Origin} header, or null
     * @param fetchSite      the {@code Sec-Fetch-Site} header, or null
     * @param expectedOrigin the portal's origin for this request: {@code scheme://host[:port]} from the scheme it
     *                       was served on and its {@code Host} header
     */
    static Optional<Refused> check(String method, String contentType, String origin, String fetchSite,
                                   String expectedOrigin) {
        if (SAFE_METHODS.contains(method.toUpperCase(Locale.ROOT))) return Optional.empty();
        if (origin != null) {
            if (!origin.equalsIgnoreCase(expectedOrigin)) return Optional.of(Refused.foreignOrigin());
        } else if (fetchSite != null && !OWN_FETCH_SITES.contains(fetchSite.trim().toLowerCase(Locale.ROOT))) {
            return Optional.of(Refused.foreignOrigin());
        }
        if (!isJson(contentType)) return Optional.of(Refused.notJson());
        return Optional.empty();
    }

    /** {@code application/json}, with or without parameters such as a charset. */
    static boolean isJson(String contentType) {
        if (contentType == null) return false;
        int semi = contentType.indexOf(';');
        String mime = (semi < 0 ? contentType : contentType.substring(0, semi)).trim();
        return mime.equalsIgnoreCase("application/json");
    }

    /** The origin a browser sends for a page served on {@code scheme} from {@code hostHeader} ({@code Host}). */
    static String originOf(String scheme, String hostHeader) {
        if (hostHeader == null || hostHeader.isBlank()) return "";
        String host = hostHeader.trim();
        // A browser leaves the default port out of Origin; some clients put it in Host.
        if (scheme.equals("https") && host.endsWith(":443")) host = host.substring(0, host.length() - 4);
        if (scheme.equals("http") && host.endsWith(":80")) host = host.substring(0, host.length() - 3);
        return scheme + "://" + host;
    }
}
