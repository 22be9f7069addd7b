package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.deskgate.store.EntitlementStore;
import io.deskgate.store.PoolStore;
import io.deskgate.store.SessionStore;
import io.deskgate.store.User;
import io.deskgate.store.UserStore;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin API's tenants, users, pools and entitlements (issue 8 item 7) over real HTTP on a real frontdoor. */
class AdminTenancyApiTest {
    @TempDir static Path dir;
    static FrontdoorFixture f;
    static String root;
    static String alice;

    @BeforeAll
    static void start() throws Exception {
        f = new FrontdoorFixture(dir);
        new UserStore(f.db.dataSource()).create(1, "root", new PasswordHasher().hash("root-pw"), true);
        root = f.login("root", "root-pw");
        alice = f.login("alice", "alice-pw");
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    static JsonNode ok(HttpResponse<String> r, int status) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        return FrontdoorFixture.json(r);
    }

    /** Asserts a 4xx answer with one JSON error containing {@code message}. */
    static void refused(HttpResponse<String> r, int status, String message) throws Exception {
        JsonNode body = ok(r, status);
        assertThat(body.get("error").asText()).contains(message);
        assertThat(body.has("status")).isTrue();
    }

    static List<String> texts(JsonNode array, String field) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : array) out.add(n.get(field).asText());
        return out;
    }

    List<String> usernames(String tenant) throws Exception {
        return texts(ok(f.send("GET", "/api/admin/users?tenant=" + tenant, null, root), 200).get("users"), "username");
    }

    @Test
    void shouldServeOnlyPlatformAdministrators() throws Exception {
        String[][] calls = {{"GET", "/api/admin/tenants", null}, {"POST", "/api/admin/tenants", "{\"name\":\"x1\"}"},
                {"GET", "/api/admin/users", null}, {"POST", "/api/admin/users", "{\"username\":\"x1\",\"password\":\"password1\"}"},
                {"DELETE", "/api/admin/users/bob", null}, {"GET", "/api/admin/pools", null},
                {"POST", "/api/admin/pools", "{\"name\":\"x1\",\"agents\":[\"a\"]}"},
                {"POST", "/api/admin/entitlements", "{\"username\":\"alice\",\"pool\":\"x\"}"},
                {"DELETE", "/api/admin/entitlements?username=alice&pool=x", null}};
        for (String[] c : calls) {
            refused(f.send(c[0], c[1], c[2], alice), 403, "platform administrators only");
            assertThat(f.send(c[0], c[1], c[2], null).statusCode()).as("anonymous " + c[0] + " " + c[1]).isEqualTo(401);
        }
        assertThat(usernames("default")).contains("bob").doesNotContain("x1");
        assertThat(texts(ok(f.send("GET", "/api/admin/tenants", null, root), 200).get("tenants"), "name")).doesNotContain("x1");
    }

    @Test
    void shouldRefuseCrossSiteAndNonJsonWrites() throws Exception {
        HttpRequest foreign = HttpRequest.newBuilder(f.url().resolve("/api/admin/tenants")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").header("Origin", "https://evil.example")
                .header("Cookie", root).POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"csrf\"}")).build();
        refused(f.http.send(foreign, HttpResponse.BodyHandlers.ofString()), 403, "cross-origin");
        HttpRequest form = HttpRequest.newBuilder(f.url().resolve("/api/admin/tenants")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/x-www-form-urlencoded").header("Cookie", root)
                .POST(HttpRequest.BodyPublishers.ofString("name=csrf")).build();
        refused(f.http.send(form, HttpResponse.BodyHandlers.ofString()), 415, "application/json");
        assertThat(texts(ok(f.send("GET", "/api/admin/tenants", null, root), 200).get("tenants"), "name")).doesNotContain("csrf");
    }

    @Test
    void shouldAddAndListTenants() throws Exception {
        JsonNode added = ok(f.send("POST", "/api/admin/tenants", "{\"name\":\"acme\"}", root), 201);
        assertThat(added.get("name").asText()).isEqualTo("acme");
        assertThat(added.get("id").asInt()).isGreaterThan(1);
        refused(f.send("POST", "/api/admin/tenants", "{\"name\":\"acme\"}", root), 409, "tenant acme already exists");
        refused(f.send("POST", "/api/admin/tenants", "{\"name\":\"no spaces\"}", root), 400, "tenant name 'no spaces' is invalid");
        refused(f.send("POST", "/api/admin/tenants", "{}", root), 400, "field name is required");
        refused(f.send("POST", "/api/admin/tenants", "{\"name\":\"x\",\"owner\":\"y\"}", root), 400, "unknown field owner");
        refused(f.send("POST", "/api/admin/tenants", "{\"name\":\"" + "x".repeat(17 * 1024) + "\"}", root), 400,
                "larger than 16384 bytes");
        List<String> names = texts(ok(f.send("GET", "/api/admin/tenants", null, root), 200).get("tenants"), "name");
        assertThat(names).startsWith("default").containsOnlyOnce("acme");
    }

    @Test
    void shouldAddUsersWithAnArgon2idHashThatLogsIn() throws Exception {
        JsonNode added = ok(f.send("POST", "/api/admin/users", "{\"username\":\"carol\",\"password\":\"carol-password\"}", root), 201);
        assertThat(added.get("tenant").asText()).isEqualTo("default");
        assertThat(added.get("admin").asBoolean()).isFalse();
        User carol = new UserStore(f.db.dataSource()).find(1, "carol").orElseThrow();
        assertThat(carol.passwordHash()).startsWith("$argon2id$").doesNotContain("carol-password");
        f.login("carol", "carol-password");
        assertThat(usernames("default")).contains("carol", "alice", "bob", "root");

        refused(f.send("POST", "/api/admin/users", "{\"username\":\"carol\",\"password\":\"another-pw\"}", root), 409,
                "already exists");
        refused(f.send("POST", "/api/admin/users", "{\"username\":\"bad/name\",\"password\":\"password1\"}", root), 400,
                "user name 'bad/name' is invalid");
        refused(f.send("POST", "/api/admin/users", "{\"username\":\"dave\",\"password\":\"short\"}", root), 400,
                "password must be 8 to 1024 characters");
        refused(f.send("POST", "/api/admin/users", "{\"username\":\"dave\",\"password\":\"password1\",\"tenant\":\"nowhere\"}",
                root), 404, "no tenant nowhere");
        refused(f.send("POST", "/api/admin/users", "{\"username\":\"dave\",\"password\":\"password1\",\"admin\":\"yes\"}",
                root), 400, "field admin must be true or false");
        refused(f.send("POST", "/api/admin/users", "{\"username\":\"dave\",\"pasword\":\"password1\"}", root), 400,
                "unknown field pasword");
        refused(f.send("GET", "/api/admin/users?tenant=nowhere", null, root), 404, "no tenant nowhere");
        assertThat(usernames("default")).doesNotContain("dave");

        ok(f.send("POST", "/api/admin/tenants", "{\"name\":\"initech\"}", root), 201);
        refused(f.send("POST", "/api/admin/users", "{\"tenant\":\"initech\",\"username\":\"boss\",\"password\":\"password1\","
                + "\"admin\":true}", root), 400, "administrators exist only in tenant default");
        ok(f.send("POST", "/api/admin/users", "{\"tenant\":\"initech\",\"username\":\"carol\",\"password\":\"password1\"}", root), 201);
        assertThat(usernames("initech")).as("same name, another tenant").containsExactly("carol");
    }

    @Test
    void shouldRemoveUsersButNeverOneWithAnActiveSessionOrOneself() throws Exception {
        f.control.reset();
        ok(f.send("POST", "/api/admin/users", "{\"username\":\"erin\",\"password\":\"erin-password\"}", root), 201);
        String erin = f.login("erin", "erin-password");
        UserStore users = new UserStore(f.db.dataSource());
        SessionStore sessions = new SessionStore(f.db.dataSource());
        UUID session = UUID.randomUUID();
        sessions.create(session, 1, users.find(1, "erin").orElseThrow().id(), "agent-1/1", "engine-1", "gateway-1", "i-1");

        refused(f.send("DELETE", "/api/admin/users/erin", null, root), 409, "has an active session");
        assertThat(f.send("GET", "/api/me", null, erin).statusCode()).as("erin is still there").isEqualTo(200);
        sessions.markEnded(session);

        JsonNode removed = ok(f.send("DELETE", "/api/admin/users/erin", null, root), 200);
        assertThat(removed.get("removed").asBoolean()).isTrue();
        assertThat(removed.get("desktopsReleased").asInt()).isEqualTo(2);
        assertThat(f.control.releases).as("the broker releases erin's desktops").singleElement().satisfies(r -> {
            assertThat(r.getTenant()).isEqualTo(1);
            assertThat(r.getUser()).isEqualTo("erin");
        });
        JsonNode again = ok(f.send("POST", "/api/admin/users/erin/release", "{}", root), 200);
        assertThat(again.get("desktopsReleased").asInt()).as("a removed user's release, again").isEqualTo(2);
        assertThat(f.control.releases).hasSize(2);
        refused(f.send("POST", "/api/admin/users/root/release", "{}", root), 409, "removing the user releases");
        assertThat(f.control.releases).as("an existing user is never released").hasSize(2);
        assertThat(users.find(1, "erin")).isEmpty();
        assertThat(f.send("GET", "/api/me", null, erin).statusCode()).as("erin's login is revoked").isEqualTo(401);
        refused(f.send("DELETE", "/api/admin/users/erin", null, root), 404, "no user erin in tenant default");
        refused(f.send("DELETE", "/api/admin/users/root", null, root), 400, "cannot remove themselves");
        refused(f.send("DELETE", "/api/admin/users/bob?tenant=nowhere", null, root), 404, "no tenant nowhere");
        assertThat(usernames("default")).contains("root", "bob");
    }

    @Test
    void shouldAddPoolsAndEntitleAndRevokeUsersWithinOneTenant() throws Exception {
        JsonNode pool = ok(f.send("POST", "/api/admin/pools", "{\"name\":\"design\",\"agents\":[\"agent-7\"],"
                + "\"labels\":[\"gpu\"],\"assignment\":\"persistent\",\"resetOnLogout\":false}", root), 201);
        assertThat(pool.get("assignment").asText()).isEqualTo("persistent");
        assertThat(pool.get("resetOnLogout").asBoolean()).isFalse();
        refused(f.send("POST", "/api/admin/pools", "{\"name\":\"design\",\"agents\":[\"agent-8\"]}", root), 409,
                "pool design already exists");
        refused(f.send("POST", "/api/admin/pools", "{\"name\":\"p2\",\"agents\":[\"agent-8\"],\"assignment\":\"sticky\"}",
                root), 400, "assignment must be 'persistent' or 'floating'");
        refused(f.send("POST", "/api/admin/pools", "{\"name\":\"p2\"}", root), 400, "at least one agent or label");
        refused(f.send("POST", "/api/admin/pools", "{\"name\":\"p2\",\"agents\":\"agent-8\"}", root), 400,
                "field agents must be an array of strings");
        refused(f.send("POST", "/api/admin/pools", "{\"name\":\"p2\",\"agents\":[\"a/b\"]}", root), 400, "agent id 'a/b' is invalid");

        JsonNode entitled = ok(f.send("POST", "/api/admin/entitlements", "{\"username\":\"alice\",\"pool\":\"design\"}", root), 201);
        assertThat(entitled.get("created").asBoolean()).isTrue();
        assertThat(ok(f.send("POST", "/api/admin/entitlements", "{\"username\":\"alice\",\"pool\":\"design\"}", root), 200)
                .get("created").asBoolean()).as("again").isFalse();
        refused(f.send("POST", "/api/admin/entitlements", "{\"username\":\"zed\",\"pool\":\"design\"}", root), 404, "no user zed");
        refused(f.send("POST", "/api/admin/entitlements", "{\"username\":\"alice\",\"pool\":\"nope\"}", root), 404, "no pool nope");

        ok(f.send("POST", "/api/admin/tenants", "{\"name\":\"umbrella\"}", root), 201);
        ok(f.send("POST", "/api/admin/users", "{\"tenant\":\"umbrella\",\"username\":\"alice\",\"password\":\"password1\"}", root), 201);
        refused(f.send("POST", "/api/admin/entitlements", "{\"tenant\":\"umbrella\",\"username\":\"alice\",\"pool\":\"design\"}",
                root), 404, "no pool design");

        JsonNode listed = ok(f.send("GET", "/api/admin/pools", null, root), 200).get("pools");
        JsonNode design = null;
        for (JsonNode p : listed) if (p.get("name").asText().equals("design")) design = p;
        assertThat(design).isNotNull();
        assertThat(design.get("agents").get(0).asText()).isEqualTo("agent-7");
        assertThat(design.get("labels").get(0).asText()).isEqualTo("gpu");
        assertThat(design.get("users").size()).isEqualTo(1);
        assertThat(design.get("users").get(0).asText()).isEqualTo("alice");
        assertThat(ok(f.send("GET", "/api/admin/pools?tenant=umbrella", null, root), 200).get("pools").size()).isZero();

        String aliceCookie = f.login("alice", "alice-pw");
        HttpResponse<String> launched = f.send("POST", "/api/sessions", "{\"pool\":\"design\"}", aliceCookie);
        assertThat(launched.statusCode()).as(launched.body()).isEqualTo(200);
        f.control.reset();
        JsonNode revoked = ok(f.send("DELETE", "/api/admin/entitlements?username=alice&pool=design", null, root), 200);
        assertThat(f.send("POST", "/api/sessions", "{\"pool\":\"design\"}", aliceCookie).statusCode())
                .as("refused at once by the frontdoor that revoked it (its cached login held the pool)").isEqualTo(403);
        assertThat(revoked.get("desktopsReleased").asInt()).isEqualTo(2);
        assertThat(f.control.releases).as("alice's ties to design's desktops go with the entitlement").singleElement()
                .satisfies(r -> {
                    assertThat(r.getUser()).isEqualTo("alice");
                    assertThat(r.getTenant()).isEqualTo(1);
                    assertThat(r.getAgentsList()).as("design's agent, which her default pool does not hold").containsExactly("agent-7");
                });
        refused(f.send("DELETE", "/api/admin/entitlements?username=alice&pool=design", null, root), 404,
                "user alice is not entitled to pool design");
        refused(f.send("DELETE", "/api/admin/entitlements?username=alice", null, root), 400, "query parameter pool is required");
        assertThat(new EntitlementStore(f.db.dataSource()).users(1, "design")).isEmpty();
        assertThat(new PoolStore(f.db.dataSource()).find(1, "design")).as("the pool stays").isPresent();
    }
}
