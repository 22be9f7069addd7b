package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.deskgate.control.DesktopState;
import io.deskgate.control.FindDesktopRequest;
import io.deskgate.store.EntitlementStore;
import io.deskgate.store.Pool;
import io.deskgate.store.PoolStore;
import io.deskgate.store.Tenant;
import io.deskgate.store.TenantStore;
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

/**
 * Logins per tenant (issue 8 item 7) over real HTTP and PostgreSQL: the login names its tenant (a field; absent: the
 * default tenant), and everything after compares (tenant, user). Two tenants each have an "alice".
 */
class TenantLoginTest {
    @TempDir static Path dir;
    static FrontdoorFixture f;
    static Tenant acme;

    @BeforeAll
    static void start() throws Exception {
        f = new FrontdoorFixture(dir);
        acme = new TenantStore(f.db.dataSource()).create("acme");
        new UserStore(f.db.dataSource()).create(acme.id(), "alice", new PasswordHasher().hash("acme-alice-pw"), false);
        PoolStore pools = new PoolStore(f.db.dataSource());
        pools.create(acme.id(), "acme-office", List.of("agent-7"), List.of(), Pool.Assignment.FLOATING, true);
        new EntitlementStore(f.db.dataSource()).entitle(acme.id(), "alice", "acme-office");
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
                FakeControlPlane.desktop("agent-7/1", DesktopState.AVAILABLE, ""),
                FakeControlPlane.desktop("agent-7/2", DesktopState.DISCONNECTED, 1, "alice"),
                FakeControlPlane.desktop("agent-7/3", DesktopState.DISCONNECTED, acme.id(), "alice"));
    }

    private static HttpResponse<String> login(String body) throws Exception {
        return f.send("POST", "/api/login", body, null);
    }

    private static String cookie(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    private static List<String> pools(String cookie) throws Exception {
        HttpResponse<String> r = f.send("GET", "/api/pools", null, cookie);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        List<String> out = new ArrayList<>();
        for (JsonNode p : FrontdoorFixture.json(r).get("pools")) {
            List<String> ids = new ArrayList<>();
            for (JsonNode d : p.get("desktops")) ids.add(d.get("id").asText());
            out.add(p.get("name").asText() + " " + ids);
        }
        return out;
    }

    @Test
    void shouldLogTheSameNameIntoEachTenantSeeingOnlyThatTenantsPools() throws Exception {
        HttpResponse<String> r = login("{\"tenant\":\"acme\",\"username\":\"alice\",\"password\":\"acme-alice-pw\"}");
        String acmeAlice = cookie(r);
        assertThat(FrontdoorFixture.json(r).get("tenant").asText()).isEqualTo("acme");
        String defaultAlice = cookie(login("{\"username\":\"alice\",\"password\":\"alice-pw\"}"));
        String defaultAliceNamed = cookie(login("{\"tenant\":\"default\",\"username\":\"alice\",\"password\":\"alice-pw\"}"));

        JsonNode me = FrontdoorFixture.json(f.send("GET", "/api/me", null, acmeAlice));
        assertThat(me.get("tenant").asText()).isEqualTo("acme");
        assertThat(FrontdoorFixture.json(f.send("GET", "/api/me", null, defaultAliceNamed)).get("tenant").asText())
                .isEqualTo("default");

        assertThat(pools(acmeAlice)).as("acme's alice: her tenant's pool, her own desktop, not the other alice's")
                .containsExactly("acme-office [agent-7/1, agent-7/3]");
        assertThat(pools(defaultAlice)).as("the default tenant's alice sees none of acme's pools")
                .containsExactly("default [agent-1/1]");

        HttpResponse<String> launched = f.send("POST", "/api/sessions", "{}", acmeAlice);
        assertThat(launched.statusCode()).as(launched.body()).isEqualTo(200);
        FindDesktopRequest find = f.control.finds.getFirst();
        assertThat(find.getTenant()).isEqualTo(acme.id());
        assertThat(find.getPool()).isEqualTo("acme-office");
        HttpResponse<String> other = f.send("POST", "/api/sessions", "{\"pool\":\"default\"}", acmeAlice);
        assertThat(other.statusCode()).as("the default tenant's pool is not hers").isEqualTo(403);
    }

    @Test
    void shouldAnswerAWrongOrUnknownTenantExactlyLikeAWrongPassword() throws Exception {
        HttpResponse<String> wrongPassword = login("{\"tenant\":\"acme\",\"username\":\"alice\",\"password\":\"alice-pw\"}");
        HttpResponse<String> unknownTenant = login("{\"tenant\":\"initech\",\"username\":\"alice\",\"password\":\"alice-pw\"}");
        HttpResponse<String> unusableTenant = login("{\"tenant\":\"a b/c\",\"username\":\"alice\",\"password\":\"alice-pw\"}");
        HttpResponse<String> wrongTenantsUser = login("{\"tenant\":\"acme\",\"username\":\"bob\",\"password\":\"bob-pw\"}");
        for (HttpResponse<String> r : List.of(wrongPassword, unknownTenant, unusableTenant, wrongTenantsUser)) {
            assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
            assertThat(r.body()).isEqualTo(wrongPassword.body());
            assertThat(r.headers().firstValue("Set-Cookie")).isEmpty();
        }
    }
}
