package io.deskgate.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.io.IOException;
import java.net.CookieManager;
import java.net.InetAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * The frontdoor's HTTP API (frontdoor {@code ApiRoutes}) as a browser uses it: the login cookie kept by a
 * {@link CookieManager}, JSON in and out. Blocking; every call is bounded by the timeout it is given.
 * Thread-safe as {@link HttpClient} is; passwords and tokens never reach an exception message.
 */
final class FrontdoorClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    /** The answer to {@code POST /api/sessions}. */
    record Launch(String sessionId, String desktopId, URI streamUri, int width, int height) {}

    private final URI base;
    private final HttpClient http;
    private final CookieManager cookies = new CookieManager();

    /** @param base the frontdoor's URL, e.g. {@code http://127.0.0.1:8443/} */
    FrontdoorClient(URI base) {
        this(base, Optional.empty());
    }

    /** @param localAddress the address its connections come from (e.g. one of 127.0.0.0/8), if not the default */
    FrontdoorClient(URI base, Optional<InetAddress> localAddress) {
        this.base = base;
        HttpClient.Builder b = HttpClient.newBuilder().cookieHandler(cookies).connectTimeout(CONNECT_TIMEOUT);
        localAddress.ifPresent(b::localAddress);
        this.http = b.build();
    }

    /** The client, for opening the stream's WebSocket with the same connection settings. */
    HttpClient http() {
        return http;
    }

    /** {@code POST /api/login}; the cookie manager keeps the login cookie for the later calls. */
    void login(String username, String password, Duration timeout) {
        String body = JSON.createObjectNode().put("username", username).put("password", password).toString();
        call("POST", "/api/login", Optional.of(body), timeout);
    }

    /** The cookie {@code name} this client holds (after {@link #login}: the login cookie), as {@code name=value}. */
    Optional<String> cookie(String name) {
        return cookies.getCookieStore().getCookies().stream().filter(c -> c.getName().equals(name))
                .map(c -> c.getName() + "=" + c.getValue()).findFirst();
    }

    /** {@code POST /api/sessions}: launches a session on any available desktop. */
    Launch launch(Duration timeout) {
        JsonNode reply = call("POST", "/api/sessions", Optional.of("{}"), timeout);
        String gatewayUrl = text(reply, "gatewayUrl");
        String token = text(reply, "token");
        URI stream = URI.create(gatewayUrl + (gatewayUrl.contains("?") ? "&" : "?") + "token="
                + URLEncoder.encode(token, StandardCharsets.UTF_8));
        return new Launch(text(reply, "sessionId"), text(reply, "desktopId"), stream,
                reply.path("width").asInt(), reply.path("height").asInt());
    }

    /** {@code DELETE /api/sessions/{id}}: ends the session and resets its desktop. */
    void end(String sessionId, Duration timeout) {
        call("DELETE", "/api/sessions/" + sessionId, Optional.empty(), timeout);
    }

    /** The state of {@code desktopId} in {@code GET /api/desktops}, if the caller may see it. */
    Optional<String> desktopState(String desktopId, Duration timeout) {
        for (JsonNode d : call("GET", "/api/desktops", Optional.empty(), timeout).path("desktops")) {
            if (desktopId.equals(d.path("id").asText())) return Optional.of(d.path("state").asText());
        }
        return Optional.empty();
    }

    private JsonNode call(String method, String path, Optional<String> json, Duration timeout) {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout)
                .method(method, json.map(HttpRequest.BodyPublishers::ofString).orElse(HttpRequest.BodyPublishers.noBody()));
        // The frontdoor refuses a state-changing call without a JSON content type, body or not.
        if (!method.equals("GET")) request.header("Content-Type", "application/json");
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (HttpTimeoutException e) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, method + " " + path + " got no answer within " + timeout.toMillis() + " ms");
        } catch (IOException e) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, method + " " + path + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeskgateException(Status.INTERNAL_ERROR, method + " " + path + " interrupted");
        }
        JsonNode body;
        try {
            body = JSON.readTree(response.body());
        } catch (IOException e) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, method + " " + path + " answered " + response.statusCode() + " without JSON");
        }
        if (response.statusCode() != 200) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, method + " " + path + " answered " + response.statusCode()
                    + ": " + body.path("error").asText(body.toString()));
        }
        return body;
    }

    private static String text(JsonNode reply, String field) {
        JsonNode v = reply.path(field);
        if (!v.isTextual() || v.asText().isEmpty()) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the launch answer has no " + field);
        }
        return v.asText();
    }

    @Override
    public void close() {
        http.close();
    }
}
