package io.deskgate.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.io.IOException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Collection;
import java.util.Locale;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A client of the portal's admin HTTP API, for {@code deskgate admin}: logs in with an administrator's
 * password, then calls {@code /api/admin/*} with the login cookie and JSON bodies. HTTPS trusts the
 * certificates of a PEM file ({@code --cacert}) or, without one, the JDK's trust store; plain HTTP is
 * allowed to a loopback address only, so a password never crosses a network in the clear. Every failure
 * is a {@link DeskgateException} with one clear line: the server's own JSON error when it answered. Not
 * thread-safe (one command, one client).
 */
final class AdminClient {
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CERTIFICATE_BLOCK =
            Pattern.compile("-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\\s]+-----END CERTIFICATE-----");

    private final URI base;
    private final HttpClient http;
    private Optional<String> cookie = Optional.empty();

    /**
     * @param base   the portal's URL, e.g. {@code https://desk.example:8443/}
     * @param cacert a PEM file of the certificates to trust for HTTPS
     * @throws DeskgateException for a URL that is not http(s), plain HTTP to a non-loopback host, or an unusable PEM
     */
    AdminClient(URI base, Optional<Path> cacert) {
        String scheme = Optional.ofNullable(base.getScheme()).orElse("").toLowerCase(Locale.ROOT);
        if (base.getHost() == null || !(scheme.equals("http") || scheme.equals("https"))) {
            throw new DeskgateException(Status.BAD_REQUEST, "--url must be an http:// or https:// URL with a host: " + base);
        }
        if (scheme.equals("http") && !isLoopback(base.getHost())) {
            throw new DeskgateException(Status.BAD_REQUEST, "plain http is allowed to a loopback address only; use https://"
                    + " (with --cacert FILE for a self-signed certificate)");
        }
        if (scheme.equals("http") && cacert.isPresent()) {
            throw new DeskgateException(Status.BAD_REQUEST, "--cacert needs an https:// URL");
        }
        this.base = base.getPath() == null || base.getPath().isEmpty() ? base.resolve("/") : base;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(TIMEOUT).followRedirects(HttpClient.Redirect.NEVER);
        cacert.ifPresent(pem -> b.sslContext(trusting(pem)));
        this.http = b.build();
    }

    /** Logs in as {@code username}; later calls carry the login cookie. */
    void login(String username, String password) {
        HttpResponse<String> r = send("POST", "/api/login", Optional.of(JSON.createObjectNode()
                .put("username", username).put("password", password)));
        if (r.statusCode() == 401) throw new DeskgateException(Status.UNAUTHORIZED, "login as " + username + " failed: "
                + "invalid username or password");
        JsonNode body = checked(r);
        String setCookie = r.headers().firstValue("Set-Cookie")
                .orElseThrow(() -> new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the portal answered the login without a cookie"));
        int semi = setCookie.indexOf(';');
        cookie = Optional.of(semi < 0 ? setCookie : setCookie.substring(0, semi));
        if (body.path("username").isMissingNode()) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the portal's login answer is not Deskgate's");
        }
    }

    JsonNode get(String path) { return checked(send("GET", path, Optional.empty())); }

    JsonNode post(String path, JsonNode body) { return checked(send("POST", path, Optional.of(body))); }

    JsonNode delete(String path) { return checked(send("DELETE", path, Optional.empty())); }

    private HttpResponse<String> send(String method, String path, Optional<JsonNode> body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(TIMEOUT);
        if (method.equals("GET")) {
            b.GET();
        } else {
            // The API refuses a state-changing call without a JSON content type (CSRF defence); an empty one is {}.
            b.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(body.map(JsonNode::toString).orElse("{}")));
        }
        cookie.ifPresent(c -> b.header("Cookie", c));
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "cannot reach the portal at " + base + ": " + reason(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeskgateException(Status.INTERNAL_ERROR, "interrupted", e);
        }
    }

    /** The JSON body of a 2xx answer; otherwise the server's error as one line. */
    private static JsonNode checked(HttpResponse<String> r) {
        JsonNode body;
        try {
            body = JSON.readTree(r.body());
        } catch (IOException e) {
            body = null;
        }
        if (r.statusCode() / 100 == 2 && body != null && body.isObject()) return body;
        String error = body != null && body.path("error").isTextual() ? body.get("error").asText() : "HTTP " + r.statusCode();
        throw new DeskgateException(statusOf(r.statusCode()), error + " (HTTP " + r.statusCode() + ")");
    }

    private static Status statusOf(int http) {
        return switch (http) {
            case 400 -> Status.BAD_REQUEST;
            case 401 -> Status.UNAUTHORIZED;
            case 403 -> Status.FORBIDDEN;
            case 404 -> Status.NOT_FOUND;
            case 409 -> Status.ALREADY_EXISTS;
            default -> http >= 500 ? Status.UPSTREAM_UNAVAILABLE : Status.BAD_REQUEST;
        };
    }

    private static String reason(IOException e) {
        Throwable t = e;
        while (t.getCause() != null && t.getMessage() == null) t = t.getCause();
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    static boolean isLoopback(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (h.equalsIgnoreCase("localhost")) return true;
        try {
            // Only literal addresses: a name is not resolved, so DNS cannot turn it into a loopback address.
            if (!h.matches("[0-9.]+|[0-9a-fA-F:]+")) return false;
            return InetAddress.getByName(h).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /**
     * An SSL context trusting exactly the certificates in {@code pem}. Only its {@code CERTIFICATE} blocks are
     * read, so the portal's own PEM (key and chain) works as well as a file holding the certificate alone.
     */
    static SSLContext trusting(Path pem) {
        try {
            Matcher m = CERTIFICATE_BLOCK.matcher(Files.readString(pem, StandardCharsets.US_ASCII));
            StringBuilder certsOnly = new StringBuilder();
            while (m.find()) certsOnly.append(m.group()).append('\n');
            if (certsOnly.isEmpty()) throw new DeskgateException(Status.BAD_REQUEST, "--cacert " + pem + " holds no certificate");
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(
                    new ByteArrayInputStream(certsOnly.toString().getBytes(StandardCharsets.US_ASCII)));
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (Certificate c : certs) ks.setCertificateEntry("ca-" + i++, c);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException e) {
            throw new DeskgateException(Status.BAD_REQUEST, "cannot read --cacert " + pem + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new DeskgateException(Status.BAD_REQUEST, "--cacert " + pem + " is not a PEM certificate file", e);
        }
    }
}
