package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.control.DesktopState;
import io.deskgate.testkit.Conditions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9 item 5: two frontdoors on one store (A: the fixture's, B: a second one with the fleet's token key)
 * decide alike, because everything they decide with is in the store: portal sessions and their revocation,
 * and login throttling (with its reservation before the password check).
 */
class ActiveActiveFrontdoorsTest {
    /** How long a notification may take on a busy machine: far more than it does. */
    static final Duration NOTICE = Duration.ofSeconds(20);
    @TempDir Path dir;
    FrontdoorFixture f;
    Frontdoor b;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws IOException {
        f = new FrontdoorFixture(dir.resolve("a"));
        b = Frontdoor.start(FrontdoorConfig.builder().dataDir(dir.resolve("b")).port(0).metricsPort(0).build(), f.db, f.tokenKey,
                f.streamMaster, FakeControlPlane.CONTROL_SECRET, f.control.brokerTarget(), FrontdoorFixture.TIMING);
    }

    @AfterEach
    void stop() throws Exception {
        if (b != null) b.close();
        if (f != null) f.close();
    }

    @Test
    void shouldHonourALoginOfFrontdoorAAtBAndRefuseItAtBOnceLoggedOutAtA() throws Exception {
        String cookie = f.login("alice", "alice-pw");
        HttpResponse<String> me = send(b.url(), "GET", "/api/me", null, cookie);
        assertThat(me.statusCode()).isEqualTo(200);
        assertThat(FrontdoorFixture.json(me).get("username").asText()).isEqualTo("alice");

        assertThat(f.send("POST", "/api/logout", "{}", cookie).statusCode()).isEqualTo(200);
        assertThat(f.send("GET", "/api/me", null, cookie).statusCode()).isEqualTo(401);
        // B's cache hears of the revocation through the store's notification, milliseconds after its commit.
        Conditions.await("B refuses the cookie logged out at A", NOTICE, () -> status(b.url(), "/api/me", cookie) == 401);
    }

    @Test
    void shouldServeBFromItsCacheAndRefuseALogoutAtAOnceNotified() throws Exception {
        Conditions.await("B's portal session cache is trusted", NOTICE, () -> metric(b, "deskgate_frontdoor_portal_cache_trusted") == 1);
        String cookie = f.login("alice", "alice-pw");
        assertThat(send(b.url(), "GET", "/api/me", null, cookie).statusCode()).isEqualTo(200);
        double hits = metric(b, "deskgate_frontdoor_portal_cache_lookups_total{result=\"hit\"}");
        for (int i = 0; i < 5; i++) assertThat(send(b.url(), "GET", "/api/me", null, cookie).statusCode()).isEqualTo(200);
        assertThat(metric(b, "deskgate_frontdoor_portal_cache_lookups_total{result=\"hit\"}")).as("answered from B's cache")
                .isGreaterThan(hits);

        assertThat(f.send("POST", "/api/logout", "{}", cookie).statusCode()).isEqualTo(200);
        Conditions.await("B refuses the cookie logged out at A", NOTICE, () -> status(b.url(), "/api/me", cookie) == 401);
    }

    @Test
    void shouldRefuseALaunchAtBOnceTheUsersEntitlementIsRevokedInTheStore() throws Exception {
        Conditions.await("B's portal session cache is trusted", NOTICE, () -> metric(b, "deskgate_frontdoor_portal_cache_trusted") == 1);
        String cookie = f.login("alice", "alice-pw");
        HttpResponse<String> first = send(b.url(), "POST", "/api/sessions", "{}", cookie);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        double hits = metric(b, "deskgate_frontdoor_portal_cache_lookups_total{result=\"hit\"}");
        assertThat(send(b.url(), "POST", "/api/sessions", "{}", cookie).statusCode()).isEqualTo(200);
        assertThat(metric(b, "deskgate_frontdoor_portal_cache_lookups_total{result=\"hit\"}"))
                .as("the second launch's user and pools came from B's cache").isGreaterThan(hits);

        // Revoked by neither frontdoor's API (as by another process on the store): B hears of it from the store alone.
        assertThat(new io.deskgate.store.EntitlementStore(f.db.dataSource()).revoke(1, "alice", "default")).isTrue();
        Conditions.await("B refuses alice's launch once her entitlement is revoked", NOTICE, () -> {
            try {
                return send(b.url(), "POST", "/api/sessions", "{}", cookie).statusCode() == 403;
            } catch (Exception e) {
                return false;
            }
        });
        Conditions.await("and A", NOTICE, () -> {
            try {
                return f.send("POST", "/api/sessions", "{}", cookie).statusCode() == 403;
            } catch (Exception e) {
                return false;
            }
        });
    }

    @Test
    void shouldFlushBsCacheWhenItsListenerConnectionIsKilledSoAMissedRevocationIsNotServed() throws Exception {
        Conditions.await("B's portal session cache is trusted", NOTICE, () -> metric(b, "deskgate_frontdoor_portal_cache_trusted") == 1);
        String cookie = f.login("bob", "bob-pw");
        assertThat(send(b.url(), "GET", "/api/me", null, cookie).statusCode()).isEqualTo(200);
        // A revocation whose notification is lost: triggers off for this one transaction (replication role).
        try (Connection c = f.db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("SET LOCAL session_replication_role = replica");
                assertThat(st.executeUpdate("UPDATE portal_sessions SET revoked_at = now() WHERE username = 'bob'")).isEqualTo(1);
            }
            c.commit();
        }
        assertThat(send(b.url(), "GET", "/api/me", null, cookie).statusCode())
                .as("served from B's cache: the missed notification the flush guards against").isEqualTo(200);

        double flushes = metric(b, "deskgate_frontdoor_portal_cache_flushes_total{reason=\"listener_lost\"}");
        try (Connection c = f.db.dataSource().getConnection();
             PreparedStatement st = c.prepareStatement(
                     "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = ?")) {
            st.setString(1, b.portalListenerName().orElseThrow());
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                assertThat(rs.getInt(1)).as("B's listener connection killed").isEqualTo(1);
            }
        }
        Conditions.await("B flushed its cache", NOTICE,
                () -> metric(b, "deskgate_frontdoor_portal_cache_flushes_total{reason=\"listener_lost\"}") > flushes);
        assertThat(send(b.url(), "GET", "/api/me", null, cookie).statusCode()).as("asked the store again").isEqualTo(401);

        Conditions.await("B listens and is trusted again", NOTICE, () -> metric(b, "deskgate_frontdoor_portal_cache_trusted") == 1);
        String again = f.login("alice", "alice-pw");
        assertThat(send(b.url(), "GET", "/api/me", null, again).statusCode()).isEqualTo(200);
        assertThat(f.send("POST", "/api/logout", "{}", again).statusCode()).isEqualTo(200);
        Conditions.await("B refuses the cookie logged out at A after reconnecting", NOTICE,
                () -> status(b.url(), "/api/me", again) == 401);
    }

    @Test
    void shouldRefuseAnExpiredPortalSessionAtEveryFrontdoor() throws Exception {
        Duration ttl = Duration.ofSeconds(3);
        try (Frontdoor c = Frontdoor.start(FrontdoorConfig.builder().dataDir(dir.resolve("c")).port(0).metricsPort(0).loginTtl(ttl)
                .build(), f.db, f.tokenKey, f.streamMaster, FakeControlPlane.CONTROL_SECRET, f.control.brokerTarget(), FrontdoorFixture.TIMING)) {
            Instant before = Instant.now();
            HttpResponse<String> login = login(c.url(), "alice", "alice-pw");
            assertThat(login.statusCode()).isEqualTo(200);
            String cookie = login.headers().firstValue("Set-Cookie").orElseThrow().split(";", 2)[0];
            assertThat(send(c.url(), "GET", "/api/me", null, cookie).statusCode()).isEqualTo(200);
            assertThat(send(b.url(), "GET", "/api/me", null, cookie).statusCode()).isEqualTo(200);
            Conditions.await("C and B refuse the expired login", NOTICE.plus(ttl),
                    () -> status(c.url(), "/api/me", cookie) == 401 && status(b.url(), "/api/me", cookie) == 401);
            assertThat(Instant.now()).as("refused only once expired").isAfterOrEqualTo(before.plus(ttl).minusSeconds(1));
        }
    }

    @Test
    void shouldKeepServingAPortalSessionAndItsDesktopSessionAtBWhenFrontdoorAIsClosed() throws Exception {
        String cookie = f.login("bob", "bob-pw");
        HttpResponse<String> launched = f.send("POST", "/api/sessions", "{}", cookie);
        assertThat(launched.statusCode()).as(launched.body()).isEqualTo(200);
        String sessionId = FrontdoorFixture.json(launched).get("sessionId").asText();
        // The (fake) agent reports the desktop held by that session, as a real one does once it is attached.
        f.control.desktops = List.of(FakeControlPlane.desktop(FrontdoorFixture.json(launched).get("desktopId").asText(),
                DesktopState.IN_USE, "bob").toBuilder().setSessionId(sessionId).build());
        f.frontdoor.close();

        HttpResponse<String> me = send(b.url(), "GET", "/api/me", null, cookie);
        assertThat(me.statusCode()).isEqualTo(200);
        assertThat(FrontdoorFixture.json(me).get("username").asText()).isEqualTo("bob");
        HttpResponse<String> token = send(b.url(), "POST", "/api/sessions/" + sessionId + "/token", null, cookie);
        assertThat(token.statusCode()).as("a fresh stream token for the session launched at A, from B: " + token.body())
                .isEqualTo(200);
    }

    @Test
    void shouldCountWrongPasswordsSpreadOverBothFrontdoorsAgainstOneLimit() throws Exception {
        int limit = LoginAttempts.USERNAME_POLICY.maxFailures();
        for (int i = 0; i < limit; i++) {
            URI at = i % 2 == 0 ? f.url() : b.url();
            assertThat(login(at, "alice", "guess-" + i).statusCode()).as("attempt %d", i).isEqualTo(401);
        }
        assertThat(login(f.url(), "alice", "alice-pw").statusCode()).as("at A, even the right password").isEqualTo(429);
        assertThat(login(b.url(), "alice", "alice-pw").statusCode()).as("at B, even the right password").isEqualTo(429);
        assertThat(login(b.url(), "bob", "bob-pw").statusCode()).as("another user").isEqualTo(200);
    }

    @Test
    void shouldRunAtMostTheLimitOfPasswordChecksForTwoHundredConcurrentWrongPasswordsAcrossBoth() throws Exception {
        double before = checks(f.frontdoor) + checks(b);
        HttpClient client = HttpClient.newBuilder().executor(Executors.newVirtualThreadPerTaskExecutor()).build();
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            URI at = (i % 2 == 0 ? f.url() : b.url()).resolve("/api/login");
            answers.add(client.sendAsync(HttpRequest.newBuilder(at).header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(60))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"username\":\"alice\",\"password\":\"guess-" + i + "\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString()));
        }
        Map<Integer, Long> byStatus = new TreeMap<>();
        for (CompletableFuture<HttpResponse<String>> a : answers) byStatus.merge(a.get(90, TimeUnit.SECONDS).statusCode(), 1L, Long::sum);
        double checks = checks(f.frontdoor) + checks(b) - before;
        assertThat(checks).as("password checks at both (answers %s)", byStatus)
                .isLessThanOrEqualTo(LoginAttempts.USERNAME_POLICY.maxFailures());
        assertThat(byStatus).as("answers by status").containsOnlyKeys(401, 429);
        assertThat(byStatus.get(401)).isEqualTo((long) checks);
    }

    private HttpResponse<String> login(URI at, String user, String password) throws Exception {
        return send(at, "POST", "/api/login", "{\"username\":\"" + user + "\",\"password\":\"" + password + "\"}", null);
    }

    private HttpResponse<String> send(URI at, String method, String path, String body, String cookie) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(at.resolve(path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (!method.equals("GET")) r.header("Content-Type", "application/json");
        if (cookie != null) r.header("Cookie", cookie);
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The frontdoor's {@code deskgate_frontdoor_password_checks_total}. */
    private double checks(Frontdoor fd) throws Exception {
        return metric(fd, "deskgate_frontdoor_password_checks_total");
    }

    /** A sample of the frontdoor's metrics ({@code name} with its labels as printed), 0 when absent. */
    private double metric(Frontdoor fd, String name) {
        String text;
        try {
            text = http.send(HttpRequest.newBuilder(fd.metricsUrl().orElseThrow()).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("metrics of " + fd.url(), e);
        }
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) return Double.parseDouble(line.substring(name.length() + 1).trim());
        }
        return 0;
    }

    private int status(URI at, String path, String cookie) {
        try {
            return send(at, "GET", path, null, cookie).statusCode();
        } catch (Exception e) {
            throw new AssertionError("GET " + path, e);
        }
    }
}
