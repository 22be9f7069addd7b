package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.deskgate.control.DesktopState;
import io.deskgate.control.FindDesktopRequest;
import io.deskgate.control.ListDesktopsRequest;
import io.deskgate.control.PoolScope;
import io.deskgate.store.EntitlementStore;
import io.deskgate.store.Pool;
import io.deskgate.store.PoolStore;
import io.deskgate.store.UserStore;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The portal lists the pools a user is entitled to, and a launch is checked against them and scoped to its pool. */
class PortalPoolsTest {
    @TempDir static Path dir;
    static FrontdoorFixture f;
    static String alice;
    static String nora;
    static String olga;

    @BeforeAll
    static void start() throws Exception {
        f = new FrontdoorFixture(dir);
        UserStore users = new UserStore(f.db.dataSource());
        PasswordHasher hasher = new PasswordHasher();
        users.create(1, "nora", hasher.hash("nora-pw"), false);
        users.create(1, "olga", hasher.hash("olga-pw"), false);
        PoolStore pools = new PoolStore(f.db.dataSource());
        pools.create(1, "lab", List.of(), List.of("gpu"), Pool.Assignment.FLOATING, true);
        pools.create(1, "design", List.of("agent-9"), List.of(), Pool.Assignment.PERSISTENT, false);
        EntitlementStore entitlements = new EntitlementStore(f.db.dataSource());
        entitlements.entitle(1, "alice", "lab");
        entitlements.entitle(1, "olga", "lab");
        entitlements.entitle(1, "olga", "design");
        alice = f.login("alice", "alice-pw");
        nora = f.login("nora", "nora-pw");
        olga = f.login("olga", "olga-pw");
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    @BeforeEach
    void reset() {
        f.control.reset();
        f.control.desktops = List.of(
                FakeControlPlane.desktop("agent-1/1", DesktopState.AVAILABLE, ""),
                FakeControlPlane.desktop("agent-1/2", DesktopState.IN_USE, "bob"),
                FakeControlPlane.desktop("agent-1/3", DesktopState.DISCONNECTED, "alice"),
                FakeControlPlane.desktop("agent-1/4", DesktopState.AVAILABLE, "bob"), // dedicated to bob: never listed to others
                FakeControlPlane.desktop("agent-9/1", DesktopState.AVAILABLE, ""),
                FakeControlPlane.desktop("agent-5/1", DesktopState.AVAILABLE, "").toBuilder().addLabels("gpu").build());
    }

    static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return FrontdoorFixture.json(r);
    }

    static List<String> ids(JsonNode desktops) {
        List<String> out = new ArrayList<>();
        for (JsonNode d : desktops) out.add(d.get("id").asText());
        return out;
    }

    @Test
    void shouldListOnlyTheEntitledPoolsWithTheDesktopsTheUserMayOpen() throws Exception {
        JsonNode pools = ok(f.send("GET", "/api/pools", null, alice)).get("pools");
        assertThat(pools.size()).isEqualTo(2);
        assertThat(pools.get(0).get("name").asText()).isEqualTo("default");
        assertThat(ids(pools.get(0).get("desktops"))).as("available and her own, not bob's, not agent-9's")
                .containsExactly("agent-1/1", "agent-1/3");
        assertThat(pools.get(0).get("desktops").get(1).get("mine").asBoolean()).isTrue();
        assertThat(pools.get(1).get("name").asText()).isEqualTo("lab");
        assertThat(ids(pools.get(1).get("desktops"))).as("by label").containsExactly("agent-5/1");
        ListDesktopsRequest asked = f.control.lists.getLast();
        assertThat(asked.getUser()).isEqualTo("alice");
        assertThat(asked.hasScope()).as("a sharded broker lists the free desktops of her pools' scopes").isTrue();
        assertThat(asked.getScope().getLabelsList()).as("lab's label").contains("gpu");

        JsonNode desktops = ok(f.send("GET", "/api/desktops", null, alice)).get("desktops");
        assertThat(ids(desktops)).containsExactly("agent-1/1", "agent-1/3", "agent-5/1");
        assertThat(desktops.get(2).get("pool").asText()).isEqualTo("lab");

        assertThat(ok(f.send("GET", "/api/pools", null, nora)).get("pools").size()).as("nora is entitled to nothing").isZero();
        assertThat(ok(f.send("GET", "/api/desktops", null, nora)).get("desktops").size()).isZero();
    }

    @Test
    void shouldNameTheSessionOnlyOfTheUsersOwnDesktopSoThePortalOpensItAsAFurtherConnection() throws Exception {
        String session = java.util.UUID.randomUUID().toString();
        f.control.desktops = List.of(
                FakeControlPlane.desktop("agent-1/1", DesktopState.AVAILABLE, ""),
                FakeControlPlane.desktop("agent-1/3", DesktopState.IN_USE, "alice").toBuilder().setSessionId(session).build());

        JsonNode desktops = ok(f.send("GET", "/api/pools", null, alice)).get("pools").get(0).get("desktops");
        assertThat(ids(desktops)).containsExactly("agent-1/1", "agent-1/3");
        assertThat(desktops.get(0).has("sessionId")).as("a free desktop").isFalse();
        assertThat(desktops.get(1).get("sessionId").asText()).as("her own, held by her session").isEqualTo(session);
        assertThat(ok(f.send("GET", "/api/desktops", null, alice)).get("desktops").get(1).get("sessionId").asText())
                .isEqualTo(session);
        assertThat(ok(f.send("GET", "/api/pools", null, olga)).get("pools").toString())
                .as("another user's session is never named").doesNotContain(session);
    }

    @Test
    void shouldLaunchInTheDefaultPoolAndTellTheBrokerItsScope() throws Exception {
        HttpResponse<String> r = f.send("POST", "/api/sessions", "{}", alice);
        assertThat(ok(r).get("pool").asText()).isEqualTo("default");
        FindDesktopRequest find = f.control.finds.getFirst();
        assertThat(find.getPool()).isEqualTo("default");
        assertThat(find.getScope()).isEqualTo(PoolScope.newBuilder().addAgents(FakeControlPlane.AGENT).build());

        f.control.reset();
        ok(f.send("POST", "/api/sessions", "{\"pool\":\"lab\"}", alice));
        assertThat(f.control.finds.getFirst().getScope()).isEqualTo(PoolScope.newBuilder().addLabels("gpu").build());
    }

    @Test
    void shouldTellTheBrokerAPersistentPoolAndKeepItsDesktopAtTheEndWhenThePoolSaysSo() throws Exception {
        f.control.desktop = FakeControlPlane.desktop("agent-9/1", DesktopState.ASSIGNED, "olga");
        JsonNode launched = ok(f.send("POST", "/api/sessions", "{\"pool\":\"design\"}", olga));
        assertThat(f.control.finds.getFirst().getScope())
                .isEqualTo(PoolScope.newBuilder().addAgents("agent-9").setPersistent(true).build());
        JsonNode ended = ok(f.send("DELETE", "/api/sessions/" + launched.get("sessionId").asText(), null, olga));
        assertThat(ended.get("kept").asBoolean()).isTrue();
        assertThat(f.control.ends).singleElement().satisfies(e -> {
            assertThat(e.getDesktopId()).isEqualTo("agent-9/1");
            assertThat(e.getKeep()).as("design does not reset on logout").isTrue();
        });

        f.control.reset();
        f.control.desktop = FakeControlPlane.desktop("agent-5/1", DesktopState.ASSIGNED, "olga").toBuilder().addLabels("gpu").build();
        launched = ok(f.send("POST", "/api/sessions", "{\"pool\":\"lab\"}", olga));
        assertThat(f.control.finds.getFirst().getScope().getPersistent()).isFalse();
        ok(f.send("DELETE", "/api/sessions/" + launched.get("sessionId").asText(), null, olga));
        assertThat(f.control.ends).singleElement().satisfies(e -> assertThat(e.getKeep()).as("lab resets").isFalse());
        f.control.desktop = FakeControlPlane.desktop("agent-1/1", DesktopState.ASSIGNED, "");
    }

    @Test
    void shouldRefuseWith403NamingThePoolWhenTheUserIsNotEntitled() throws Exception {
        HttpResponse<String> r = f.send("POST", "/api/sessions", "{\"pool\":\"design\"}", alice);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
        assertThat(FrontdoorFixture.json(r).get("error").asText()).isEqualTo("you are not entitled to pool design");
        r = f.send("POST", "/api/sessions", "{\"pool\":\"no such pool\"}", alice);
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(FrontdoorFixture.json(r).get("error").asText()).isEqualTo("you are not entitled to pool with that name");
        r = f.send("POST", "/api/sessions", "{}", nora);
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(FrontdoorFixture.json(r).get("error").asText()).isEqualTo("you are not entitled to any pool");
        assertThat(f.control.finds).as("the broker was never asked").isEmpty();
        assertThat(f.control.launches).isEmpty();
    }

    @Test
    void shouldAskForAPoolWhenSeveralCouldBeMeant() throws Exception {
        HttpResponse<String> r = f.send("POST", "/api/sessions", "{}", olga);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(FrontdoorFixture.json(r).get("error").asText()).isEqualTo("name a pool: you are entitled to design, lab");
        assertThat(f.control.finds).isEmpty();
        assertThat(ok(f.send("POST", "/api/sessions", "{\"pool\":\"design\"}", olga)).get("pool").asText()).isEqualTo("design");
    }

    @Test
    void shouldCreateTheDefaultPoolOnceWithTheUsersOfThatTimeEntitled() {
        assertThat(new EntitlementStore(f.db.dataSource()).users(1, Pool.DEFAULT_NAME)).containsExactly("alice", "bob");
        assertThat(AdminBootstrap.ensureDefaultPool(new UserStore(f.db.dataSource()), new PoolStore(f.db.dataSource()),
                new EntitlementStore(f.db.dataSource()), List.of("agent-x"))).as("it exists").isFalse();
        Pool p = new PoolStore(f.db.dataSource()).find(1, Pool.DEFAULT_NAME).orElseThrow();
        assertThat(p.agents()).containsExactly(FakeControlPlane.AGENT);
        assertThat(p.assignment()).isEqualTo(Pool.Assignment.FLOATING);
        assertThat(p.resetOnLogout()).isTrue();
        assertThat(new EntitlementStore(f.db.dataSource()).users(1, Pool.DEFAULT_NAME)).as("nobody added later")
                .doesNotContain("nora", "olga");
    }
}
