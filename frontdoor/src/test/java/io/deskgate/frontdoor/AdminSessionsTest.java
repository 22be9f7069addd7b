package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.deskgate.control.DesktopState;
import io.deskgate.control.EndSessionRequest;
import io.deskgate.store.SessionStore;
import io.deskgate.store.UserStore;
import io.grpc.Status;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The administrator's session list and end, and the per-user desktop limit's answer, over real HTTP. */
class AdminSessionsTest {
    @TempDir static Path dir;
    static FrontdoorFixture f;
    static String alice;
    static String bob;
    static String root;

    @BeforeAll
    static void start() throws Exception {
        f = new FrontdoorFixture(dir);
        new UserStore(f.db.dataSource()).create(1, "root", new PasswordHasher().hash("root-pw"), true);
        alice = f.login("alice", "alice-pw");
        bob = f.login("bob", "bob-pw");
        root = f.login("root", "root-pw");
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    @BeforeEach
    void reset() {
        f.control.reset();
    }

    String launch(String cookie, String desktopId) throws Exception {
        f.control.desktop = FakeControlPlane.desktop(desktopId, DesktopState.ASSIGNED, "");
        HttpResponse<String> r = f.send("POST", "/api/sessions", "{\"desktopId\":\"" + desktopId + "\"}", cookie);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return FrontdoorFixture.json(r).get("sessionId").asText();
    }

    JsonNode listed(String sessionId) throws Exception {
        HttpResponse<String> r = f.send("GET", "/api/admin/sessions", null, root);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        for (JsonNode s : FrontdoorFixture.json(r).get("sessions")) if (s.get("id").asText().equals(sessionId)) return s;
        return null;
    }

    @Test
    void shouldListEverySessionForAnAdministratorOnly() throws Exception {
        String aliceSession = launch(alice, "agent-1/1");
        String bobSession = launch(bob, "agent-1/2");
        f.control.desktops = List.of(
                FakeControlPlane.desktop("agent-1/1", DesktopState.DISCONNECTED, "alice").toBuilder().setSessionId(aliceSession).build(),
                FakeControlPlane.desktop("agent-1/2", DesktopState.IN_USE, "bob").toBuilder().setSessionId(bobSession).build());

        assertThat(f.send("GET", "/api/admin/sessions", null, alice).statusCode()).isEqualTo(403);
        assertThat(f.send("GET", "/api/admin/sessions", null, null).statusCode()).isEqualTo(401);

        JsonNode a = listed(aliceSession);
        assertThat(a).as("alice's session listed").isNotNull();
        assertThat(a.get("user").asText()).isEqualTo("alice");
        assertThat(a.get("desktopId").asText()).isEqualTo("agent-1/1");
        assertThat(a.get("state").asText()).isEqualTo("DISCONNECTED");
        assertThat(Instant.parse(a.get("since").asText())).isBefore(Instant.now().plusSeconds(1));
        JsonNode b = listed(bobSession);
        assertThat(b.get("user").asText()).isEqualTo("bob");
        assertThat(b.get("state").asText()).isEqualTo("IN_USE");
        assertThat(f.control.lists.getLast().getHeld()).as("every held desktop of the tenant, on either broker").isTrue();

        f.control.desktops = List.of(FakeControlPlane.desktop("agent-1/1", DesktopState.IN_USE, "carol").toBuilder()
                .setSessionId(UUID.randomUUID().toString()).build());
        assertThat(listed(aliceSession).get("state").asText()).as("the desktop no longer holds it").isEqualTo("GONE");
    }

    @Test
    void shouldLetAnAdministratorEndAnySessionAndResetItsDesktop() throws Exception {
        String session = launch(alice, "agent-1/3");
        f.control.reset();

        assertThat(f.send("POST", "/api/admin/sessions/" + session + "/end", null, bob).statusCode())
                .as("another user").isEqualTo(403);
        assertThat(f.control.ends).isEmpty();
        assertThat(new SessionStore(f.db.dataSource()).findById(UUID.fromString(session)).orElseThrow().active()).isTrue();

        HttpResponse<String> r = f.send("POST", "/api/admin/sessions/" + session + "/end", null, root);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(f.control.ends).as("the desktop is ended (reset) on the broker")
                .containsExactly(EndSessionRequest.newBuilder().setDesktopId("agent-1/3").setSessionId(session).build());
        assertThat(f.control.stops).extracting(s -> s.getSessionId()).containsExactly(session);
        assertThat(new SessionStore(f.db.dataSource()).findById(UUID.fromString(session)).orElseThrow().active()).isFalse();
        assertThat(listed(session)).isNull();

        assertThat(f.send("POST", "/api/admin/sessions/" + session + "/end", null, root).statusCode())
                .as("already ended").isEqualTo(404);
        assertThat(f.send("POST", "/api/admin/sessions/not-a-uuid/end", null, root).statusCode()).isEqualTo(404);
    }

    @Test
    void shouldAnswer409NamingTheLimitWhenTheBrokerRefusesAnotherDesktop() throws Exception {
        f.control.findFailure = Status.ALREADY_EXISTS.withDescription(
                "you already hold 1 desktop, the most one user may hold at once (limit 1); open or end it first");
        HttpResponse<String> r = f.send("POST", "/api/sessions", "{\"desktopId\":\"agent-1/2\"}", alice);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(409);
        JsonNode body = FrontdoorFixture.json(r);
        assertThat(body.get("status").asText()).isEqualTo("DESKTOP_LIMIT_REACHED");
        assertThat(body.get("error").asText()).contains("limit 1");
        assertThat(f.control.launches).as("no instance launched").isEmpty();
    }
}
