package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Portal sessions, CSRF defences, /metrics and /healthz on a real frontdoor. */
class PortalEdgeTest {
    @TempDir static Path dir;
    static FrontdoorFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = new FrontdoorFixture(dir);
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    @Test
    void logoutRevokesTheCookieOnTheServerNotOnlyInTheBrowser() throws Exception {
        String cookie = f.login("bob", "bob-pw");
        String other = f.login("bob", "bob-pw");
        assertThat(f.send("GET", "/api/me", null, cookie).statusCode()).isEqualTo(200);
        HttpResponse<String> out = f.send("POST", "/api/logout", null, cookie);
        assertThat(out.statusCode()).isEqualTo(200);
        assertThat(out.headers().firstValue("Set-Cookie").orElseThrow()).startsWith("deskgate_login=;").contains("Max-Age=0");
        // A copy of the old cookie (kept by an attacker, or a browser that ignored the clearing) is dead.
        assertThat(f.send("GET", "/api/me", null, cookie).statusCode()).isEqualTo(401);
        assertThat(f.send("GET", "/api/desktops", null, cookie).statusCode()).isEqualTo(401);
        assertThat(f.send("POST", "/api/sessions", "{}", cookie).statusCode()).isEqualTo(401);
        assertThat(f.send("GET", "/api/me", null, other).statusCode()).as("another login of the same user").isEqualTo(200);
    }

    @Test
    void aFormPostWithOriginNullIsRefusedBeforeItOpensASession() throws Exception {
        String cookie = f.login("alice", "alice-pw");
        int launchesBefore = f.control.launches.size();
        HttpResponse<String> nullOrigin = raw("POST", "/api/sessions", "desktopId=", cookie,
                "application/x-www-form-urlencoded", "null");
        assertThat(nullOrigin.statusCode()).isEqualTo(403);
        HttpResponse<String> form = raw("POST", "/api/sessions", "desktopId=", cookie,
                "application/x-www-form-urlencoded", null);
        assertThat(form.statusCode()).isEqualTo(415);
        assertThat(FrontdoorFixture.json(form).get("status").asText()).isEqualTo("UNSUPPORTED_MEDIA_TYPE");
        HttpResponse<String> plain = raw("POST", "/api/logout", "", cookie, "text/plain", null);
        assertThat(plain.statusCode()).isEqualTo(415);
        HttpResponse<String> foreign = raw("POST", "/api/sessions", "{}", cookie, "application/json",
                "https://evil.example");
        assertThat(foreign.statusCode()).isEqualTo(403);
        HttpResponse<String> crossSite = rawWith("POST", "/api/logout", "{}", cookie, "application/json", null, "cross-site");
        assertThat(crossSite.statusCode()).isEqualTo(403);
        assertThat(f.control.launches).as("no refused call reached the control plane").hasSize(launchesBefore);
        assertThat(f.send("GET", "/api/me", null, cookie).statusCode()).as("the refused logout did not log out").isEqualTo(200);

        String own = "http://" + f.url().getHost() + ":" + f.url().getPort();
        HttpResponse<String> sameOrigin = rawWith("POST", "/api/logout", "{}", cookie, "application/json; charset=utf-8",
                own, "same-origin");
        assertThat(sameOrigin.statusCode()).as(sameOrigin.body()).isEqualTo(200);
    }

    @Test
    void metricsAreServedOnlyOnTheLoopbackMetricsPort() throws Exception {
        f.send("POST", "/api/login", "{\"username\":\"alice\",\"password\":\"wrong\"}", null);
        assertThat(f.send("GET", "/metrics", null, null).statusCode()).as("not on the portal's port").isEqualTo(404);
        String cookie = f.login("alice", "alice-pw");
        assertThat(f.send("GET", "/metrics", null, cookie).statusCode()).as("not even with a login").isEqualTo(404);
        URI metrics = f.frontdoor.metricsUrl().orElseThrow();
        assertThat(metrics.getHost()).isEqualTo("127.0.0.1");
        assertThat(metrics.getPort()).isNotEqualTo(f.url().getPort());
        assertThat(f.metrics()).contains("deskgate_frontdoor_logins_total{result=\"rejected\"}")
                .contains("deskgate_frontdoor_password_checks_total");
    }

    @Test
    void healthzNamesEveryComponentAndSaysOk() throws Exception {
        HttpResponse<String> health = f.send("GET", "/healthz", null, null);
        assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
        JsonNode body = FrontdoorFixture.json(health);
        assertThat(body.get("status").asText()).isEqualTo("ok");
        assertThat(body.has("down")).isFalse();
        JsonNode components = body.get("components");
        assertThat(components.get("store").asText()).isEqualTo("up");
        assertThat(components.get("broker").asText()).isEqualTo("up");
        assertThat(components.get("engine:engine-1").asText()).isEqualTo("up");
        assertThat(components.get("gateway:gateway-1").asText()).isEqualTo("up");
    }

    @Test
    void aNulInTheUserNameIsTheNormal401AndOneShortLogLineAtMost() throws Exception {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.start();
        root.addAppender(events);
        try {
            for (int i = 0; i < 20; i++) {
                HttpResponse<String> r = f.send("POST", "/api/login", "{\"username\":\"al\\u0000ice\",\"password\":\"x\"}", null);
                assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
                assertThat(r.body()).isEqualTo("{\"error\":\"invalid username or password\",\"status\":\"UNAUTHORIZED\"}");
            }
        } finally {
            root.detachAppender(events);
        }
        assertThat(events.list).as("no error, no stack trace").noneMatch(e -> e.getLevel().isGreaterOrEqual(Level.WARN)
                || e.getThrowableProxy() != null);
        assertThat(events.list).filteredOn(e -> e.getFormattedMessage().contains("unusable user name"))
                .as("rate-limited to one line").hasSizeLessThanOrEqualTo(1);
        assertThat(f.login("alice", "alice-pw")).as("everyone else is served").startsWith("deskgate_login=");
    }

    private static HttpResponse<String> raw(String method, String path, String body, String cookie, String contentType,
                                            String origin) throws Exception {
        return rawWith(method, path, body, cookie, contentType, origin, null);
    }

    private static HttpResponse<String> rawWith(String method, String path, String body, String cookie, String contentType,
                                                String origin, String fetchSite) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(f.url().resolve(path))
                .method(method, HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", contentType)
                .header("Cookie", cookie);
        if (origin != null) b.header("Origin", origin);
        if (fetchSite != null) b.header("Sec-Fetch-Site", fetchSite);
        return f.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
