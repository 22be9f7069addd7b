package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.deskgate.control.DesktopState;
import io.deskgate.control.LaunchRequest;
import io.deskgate.store.SessionRow;
import io.deskgate.store.SessionStore;
import io.deskgate.stream.StreamKeys;
import io.deskgate.testkit.Conditions;
import io.deskgate.tokens.TokenClaims;
import io.deskgate.tokens.TokenSigner;
import io.grpc.Status;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SessionOrchestrationTest {
    @TempDir static Path dir;
    static FrontdoorFixture f;
    static String alice;
    static String bob;

    @BeforeAll
    static void start() throws Exception {
        f = new FrontdoorFixture(dir);
        alice = f.login("alice", "alice-pw");
        bob = f.login("bob", "bob-pw");
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    @BeforeEach
    void reset() {
        f.control.reset();
    }

    @Test
    void desktopsListShowsAvailableAndOwnButNotOthers() throws Exception {
        f.control.desktops = List.of(
                FakeControlPlane.desktop("agent-1/1", DesktopState.AVAILABLE, ""),
                FakeControlPlane.desktop("agent-1/2", DesktopState.DISCONNECTED, "alice"),
                FakeControlPlane.desktop("agent-1/3", DesktopState.IN_USE, "bob"),
                FakeControlPlane.desktop("agent-1/4", DesktopState.UNHEALTHY, ""),
                FakeControlPlane.desktop("agent-1/5", DesktopState.DISCONNECTED, 2, "alice")); // another tenant's alice
        HttpResponse<String> r = f.send("GET", "/api/desktops", null, alice);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode list = FrontdoorFixture.json(r).get("desktops");
        assertThat(list).hasSize(2);
        assertThat(list.get(0).get("id").asText()).isEqualTo("agent-1/1");
        assertThat(list.get(0).get("mine").asBoolean()).isFalse();
        assertThat(list.get(0).get("width").asInt()).isEqualTo(1280);
        assertThat(list.get(1).get("id").asText()).isEqualTo("agent-1/2");
        assertThat(list.get(1).get("state").asText()).isEqualTo("DISCONNECTED");
        assertThat(list.get(1).get("mine").asBoolean()).isTrue();
    }

    @Test
    void launchOrchestratesBrokerEngineAndReturnsAStreamToken() throws Exception {
        HttpResponse<String> r = f.send("POST", "/api/sessions", "{\"desktopId\":\"agent-1/1\"}", alice);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode body = FrontdoorFixture.json(r);
        String sessionId = body.get("sessionId").asText();
        assertThat(UUID.fromString(sessionId)).isNotNull();
        assertThat(body.get("desktopId").asText()).isEqualTo("agent-1/1");
        assertThat(body.get("gatewayUrl").asText()).isEqualTo(f.gatewayWs);
        assertThat(body.get("width").asInt()).isEqualTo(1280);
        assertThat(body.get("height").asInt()).isEqualTo(800);

        TokenClaims claims = new TokenSigner(f.tokenKey).verify(body.get("token").asText(), TokenClaims.STREAM, Instant.now())
                .orElseThrow();
        assertThat(claims.subject()).isEqualTo("alice");
        assertThat(claims.tenant()).isEqualTo(1);
        assertThat(claims.sessionId()).isEqualTo(sessionId);
        assertThat(claims.expiresAt()).isBefore(Instant.now().plusSeconds(61));

        assertThat(f.control.finds).singleElement().satisfies(find -> {
            assertThat(find.getSessionId()).isEqualTo(sessionId);
            assertThat(find.getUser()).isEqualTo("alice");
            assertThat(find.getPool()).isEqualTo("default");
            assertThat(find.getDesktopId()).isEqualTo("agent-1/1");
        });
        LaunchRequest launch = f.control.launches.getFirst();
        assertThat(launch.getSessionId()).isEqualTo(sessionId);
        assertThat(launch.getVncPassword()).isEqualTo("one-time-pw");
        assertThat(launch.getGatewayUdpHost()).isEqualTo("127.0.0.1");
        assertThat(launch.getGatewayUdpPort()).isEqualTo(40000);
        assertThat(launch.getStreamKey().toByteArray()).isEqualTo(new StreamKeys(f.streamMaster).derive(1, sessionId));
        // SessionStarted is sent without the launch waiting for it (SessionNotices).
        Conditions.await("the broker got SessionStarted", Duration.ofSeconds(30), () -> !f.control.starts.isEmpty());
        assertThat(f.control.starts).singleElement().satisfies(s -> assertThat(s.getSessionId()).isEqualTo(sessionId));
        assertThat(f.control.ends).isEmpty();

        SessionRow row = new SessionStore(f.db.dataSource()).findById(UUID.fromString(sessionId)).orElseThrow();
        assertThat(row.active()).isTrue();
        assertThat(row.engineId()).isEqualTo("engine-1");
        assertThat(row.gatewayId()).isEqualTo("gateway-1");
        assertThat(row.instanceId()).isEqualTo("instance-1");
    }

    @Test
    void aLaunchMovesTheLaunchMetricsOnTheMetricsEndpoint() throws Exception {
        double ok = f.metric("deskgate_frontdoor_launches_total{result=\"ok\"}");
        double timed = f.metric("deskgate_frontdoor_launch_seconds_count");
        HttpResponse<String> r = f.send("POST", "/api/sessions", "{}", alice);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(f.metric("deskgate_frontdoor_launches_total{result=\"ok\"}")).isEqualTo(ok + 1);
        assertThat(f.metric("deskgate_frontdoor_launch_seconds_count")).isEqualTo(timed + 1);
        assertThat(f.metric("deskgate_frontdoor_launches_in_flight")).isZero();
        assertThat(f.metric("deskgate_frontdoor_portal_sessions_active")).as("alice's and bob's logins").isGreaterThanOrEqualTo(2);
    }

    @Test
    void tokenRefreshAndEndWorkOnlyForTheOwnersActiveSession() throws Exception {
        String sessionId = FrontdoorFixture.json(f.send("POST", "/api/sessions", "{}", alice)).get("sessionId").asText();
        f.control.desktops = List.of(heldBy("agent-1/1", sessionId));

        HttpResponse<String> refreshed = f.send("POST", "/api/sessions/" + sessionId + "/token", null, alice);
        assertThat(refreshed.statusCode()).isEqualTo(200);
        assertThat(new TokenSigner(f.tokenKey).verify(FrontdoorFixture.json(refreshed).get("token").asText(),
                TokenClaims.STREAM, Instant.now()).orElseThrow().sessionId()).isEqualTo(sessionId);
        assertThat(f.send("POST", "/api/sessions/" + sessionId + "/token", null, bob).statusCode()).isEqualTo(404);
        assertThat(f.send("DELETE", "/api/sessions/" + sessionId, null, bob).statusCode()).isEqualTo(404);
        assertThat(f.send("POST", "/api/sessions/not-a-uuid/token", null, alice).statusCode()).isEqualTo(404);

        HttpResponse<String> ended = f.send("DELETE", "/api/sessions/" + sessionId, null, alice);
        assertThat(ended.statusCode()).isEqualTo(200);
        assertThat(f.control.stops).singleElement().satisfies(s -> assertThat(s.getSessionId()).isEqualTo(sessionId));
        assertThat(f.control.ends).singleElement().satisfies(e -> {
            assertThat(e.getSessionId()).isEqualTo(sessionId);
            assertThat(e.getDesktopId()).isEqualTo("agent-1/1");
        });
        assertThat(new SessionStore(f.db.dataSource()).findById(UUID.fromString(sessionId)).orElseThrow().active()).isFalse();
        assertThat(f.send("POST", "/api/sessions/" + sessionId + "/token", null, alice).statusCode()).isEqualTo(404);
    }

    @Test
    void tokenRefreshForASessionWhoseDesktopWasResetOrReassignedIs410AndEndsTheSession() throws Exception {
        String sessionId = FrontdoorFixture.json(f.send("POST", "/api/sessions", "{}", alice)).get("sessionId").asText();
        f.control.desktops = List.of(heldBy("agent-1/1", sessionId));
        assertThat(f.send("POST", "/api/sessions/" + sessionId + "/token", null, alice).statusCode()).isEqualTo(200);

        f.control.desktops = List.of(heldBy("agent-1/1", UUID.randomUUID().toString()));
        HttpResponse<String> gone = f.send("POST", "/api/sessions/" + sessionId + "/token", null, alice);
        assertThat(gone.statusCode()).isEqualTo(410);
        assertThat(FrontdoorFixture.json(gone).get("status").asText()).isEqualTo("SESSION_ENDED");
        assertThat(FrontdoorFixture.json(gone).has("token")).isFalse();
        SessionRow row = new SessionStore(f.db.dataSource()).findById(UUID.fromString(sessionId)).orElseThrow();
        assertThat(row.active()).isFalse();
        assertThat(row.endedAt()).isPresent();
        assertThat(f.control.stops).singleElement().satisfies(s -> assertThat(s.getSessionId()).isEqualTo(sessionId));
        assertThat(f.control.ends).as("the desktop now serves another session").isEmpty();
        assertThat(f.send("POST", "/api/sessions/" + sessionId + "/token", null, alice).statusCode()).isEqualTo(404);

        String second = FrontdoorFixture.json(f.send("POST", "/api/sessions", "{}", alice)).get("sessionId").asText();
        f.control.desktops = List.of();
        assertThat(f.send("POST", "/api/sessions/" + second + "/token", null, alice).statusCode())
                .as("desktop gone from the broker").isEqualTo(410);
        assertThat(new SessionStore(f.db.dataSource()).findById(UUID.fromString(second)).orElseThrow().active()).isFalse();
    }

    @Test
    void engineAtCapacityIs503NoCapacityNot502() throws Exception {
        f.control.launchFailure = Status.RESOURCE_EXHAUSTED.withDescription("engine has 64 instances");
        HttpResponse<String> r = f.send("POST", "/api/sessions", "{}", alice);
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(FrontdoorFixture.json(r).get("status").asText()).isEqualTo("NO_DESKTOP_AVAILABLE");
        assertThat(FrontdoorFixture.json(r).get("error").asText()).isEqualTo("no capacity");
        assertThat(f.control.ends).hasSize(1);
    }

    @Test
    void serverSideFailuresAnswerAGenericMessageAndARequestIdWithoutTheDetail() throws Exception {
        f.control.launchFailure = Status.INTERNAL.withDescription("secret-internal-detail at 10.1.2.3");
        HttpResponse<String> r = f.send("POST", "/api/sessions", "{}", alice);
        assertThat(r.statusCode()).isEqualTo(502);
        JsonNode body = FrontdoorFixture.json(r);
        assertThat(body.get("error").asText()).isEqualTo("a service behind the frontdoor is unavailable");
        assertThat(body.get("requestId").asText()).hasSizeGreaterThanOrEqualTo(12);
        assertThat(r.body()).doesNotContain("secret-internal-detail").doesNotContain("engine-1").doesNotContain("INTERNAL\"");
    }

    private static io.deskgate.control.Desktop heldBy(String desktopId, String sessionId) {
        return FakeControlPlane.desktop(desktopId, DesktopState.IN_USE, "alice").toBuilder().setSessionId(sessionId).build();
    }

    @Test
    void noDesktopAvailableIs503() throws Exception {
        f.control.findFailure = Status.RESOURCE_EXHAUSTED.withDescription("pool default is full");
        HttpResponse<String> r = f.send("POST", "/api/sessions", "{}", alice);
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(FrontdoorFixture.json(r).get("status").asText()).isEqualTo("NO_DESKTOP_AVAILABLE");
        assertThat(f.control.launches).isEmpty();
    }

    @Test
    void aShardedBrokersNoDesktopIs503WithItsOneReasonAndNoInternals() throws Exception {
        f.control.findFailure = Status.RESOURCE_EXHAUSTED.withDescription(
                "NO_CONCENTRATOR: no concentrator set is registered (set a: 0 members, concentrator a-1 at 10.0.0.7:7001)");
        HttpResponse<String> r = f.send("POST", "/api/sessions", "{}", alice);
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(FrontdoorFixture.json(r).get("error").asText())
                .isEqualTo("no desktop is available: no desktop host is reporting to the brokers");

        f.control.findFailure = Status.RESOURCE_EXHAUSTED.withDescription("NO_DESKTOP: no desktop in pool default for alice: set a: 0 offered");
        r = f.send("POST", "/api/sessions", "{}", alice);
        assertThat(FrontdoorFixture.json(r).get("error").asText()).isEqualTo("no desktop is available: every desktop of your pool is in use")
                .doesNotContain("set a");
        assertThat(f.control.launches).isEmpty();
    }

    @Test
    void brokerDownIs502() throws Exception {
        f.control.findFailure = Status.UNAVAILABLE;
        HttpResponse<String> r = f.send("POST", "/api/sessions", "{}", alice);
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(FrontdoorFixture.json(r).get("status").asText()).isEqualTo("UPSTREAM_UNAVAILABLE");
    }

    @Test
    void aLaunchDoesNotWaitForSessionStartedButItsEndWaitsForIt() throws Exception {
        java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
        f.control.holdStarts = hold;
        try {
            HttpResponse<String> r = f.send("POST", "/api/sessions", "{}", alice);
            assertThat(r.statusCode()).as("answered while the broker holds SessionStarted").isEqualTo(200);
            String sessionId = FrontdoorFixture.json(r).get("sessionId").asText();
            f.control.desktops = List.of(heldBy("agent-1/1", sessionId));
            java.util.concurrent.CompletableFuture<HttpResponse<String>> ended = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return f.send("DELETE", "/api/sessions/" + sessionId, null, alice);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Conditions.await("the engine stopped the session", Duration.ofSeconds(30), () -> !f.control.stops.isEmpty());
            assertThat(f.control.ends).as("no EndSession while its SessionStarted is unanswered").isEmpty();
            hold.countDown();
            assertThat(ended.get(30, java.util.concurrent.TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            assertThat(f.control.sessionCalls).as("the broker saw the start before the end")
                    .containsExactly("started " + sessionId, "ended " + sessionId);
        } finally {
            hold.countDown();
        }
    }

    @Test
    void failedLaunchIs502AndReleasesTheDesktop() throws Exception {
        f.control.launchFailure = Status.UNAVAILABLE.withDescription("desktop refused the password");
        HttpResponse<String> r = f.send("POST", "/api/sessions", "{}", alice);
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(FrontdoorFixture.json(r).get("status").asText()).isEqualTo("UPSTREAM_UNAVAILABLE");
        assertThat(r.body()).doesNotContain("one-time-pw");
        String sessionId = f.control.finds.getFirst().getSessionId();
        assertThat(f.control.ends).singleElement().satisfies(e -> {
            assertThat(e.getSessionId()).isEqualTo(sessionId);
            assertThat(e.getDesktopId()).isEqualTo("agent-1/1");
        });
        assertThat(f.control.starts).noneMatch(s -> s.getSessionId().equals(sessionId));
        assertThat(new SessionStore(f.db.dataSource()).findById(UUID.fromString(sessionId))).isEmpty();
    }

    @Test
    void failedReconnectLeavesTheUsersDesktopAsItWas() throws Exception {
        f.control.reconnect = true;
        f.control.launchFailure = Status.UNAVAILABLE.withDescription("engine lost the desktop");
        HttpResponse<String> r = f.send("POST", "/api/sessions", "{\"desktopId\":\"agent-1/1\"}", alice);
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(f.control.ends).as("ending would reset the desktop and lose the user's work").isEmpty();
    }

    @Test
    void anotherUsersDesktopIs403AndABusyOneIs503() throws Exception {
        f.control.findFailure = Status.PERMISSION_DENIED.withDescription("desktop agent-1/1 is IN_USE");
        HttpResponse<String> taken = f.send("POST", "/api/sessions", "{\"desktopId\":\"agent-1/1\"}", alice);
        assertThat(taken.statusCode()).isEqualTo(403);
        f.control.findFailure = Status.FAILED_PRECONDITION.withDescription("desktop agent-1/1 is STARTING");
        HttpResponse<String> busy = f.send("POST", "/api/sessions", "{\"desktopId\":\"agent-1/1\"}", alice);
        assertThat(busy.statusCode()).isEqualTo(503);
        assertThat(FrontdoorFixture.json(busy).get("status").asText()).isEqualTo("NO_DESKTOP_AVAILABLE");
    }
}
