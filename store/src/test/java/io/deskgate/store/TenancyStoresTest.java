package io.deskgate.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.store.Pool.Assignment;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tenants, pools and entitlements (issue 8 item 7) on one embedded PostgreSQL for the class. */
class TenancyStoresTest {
    @TempDir static Path dir;
    static Database db;
    static TenantStore tenants;
    static UserStore users;
    static PoolStore pools;
    static EntitlementStore entitlements;

    @BeforeAll
    static void start() throws Exception {
        db = Database.embedded(dir);
        tenants = new TenantStore(db.dataSource());
        users = new UserStore(db.dataSource());
        pools = new PoolStore(db.dataSource());
        entitlements = new EntitlementStore(db.dataSource());
    }

    @AfterAll
    static void stop() {
        if (db != null) db.close();
    }

    static void assertStatus(ThrowingCallable call, Status status, String messagePart) {
        assertThatThrownBy(call).isInstanceOfSatisfying(DeskgateException.class, e -> {
            assertThat(e.status()).isEqualTo(status);
            assertThat(e.getMessage()).contains(messagePart);
        });
    }

    @Test
    void shouldAddTenantsWithFreshIdsAndRefuseDuplicateOrInvalidNames() {
        assertThat(tenants.list()).extracting(Tenant::name).startsWith(Tenant.DEFAULT_NAME);
        assertThat(tenants.find(Tenant.DEFAULT_NAME).orElseThrow().id()).isEqualTo(Tenant.DEFAULT_ID);
        Tenant acme = tenants.create("acme");
        Tenant globex = tenants.create("globex");
        assertThat(acme.id()).isGreaterThan(Tenant.DEFAULT_ID);
        assertThat(globex.id()).isGreaterThan(acme.id());
        assertThat(tenants.find("acme")).contains(acme);
        assertThat(tenants.findById(globex.id())).contains(globex);

        assertStatus(() -> tenants.create("acme"), Status.ALREADY_EXISTS, "tenant acme already exists");
        assertStatus(() -> tenants.create(""), Status.BAD_REQUEST, "tenant name is empty");
        assertStatus(() -> tenants.create("has space"), Status.BAD_REQUEST, "tenant name 'has space' is invalid");
        assertStatus(() -> tenants.create("x".repeat(65)), Status.BAD_REQUEST, "tenant name is invalid");
        assertStatus(() -> tenants.require("nope"), Status.NOT_FOUND, "no tenant nope");
        assertThat(tenants.list()).extracting(Tenant::name).containsOnlyOnce("acme");
    }

    @Test
    void shouldKeepPoolNamesUniquePerTenantAndValidateMembers() {
        Tenant t = tenants.create("pools-tenant");
        Pool p = pools.create(t.id(), "engineering", List.of("agent-1", "agent-2", "agent-1"), List.of("gpu"),
                Assignment.PERSISTENT, false);
        assertThat(p.agents()).as("duplicates dropped, order kept").containsExactly("agent-1", "agent-2");
        assertThat(p.labels()).containsExactly("gpu");
        assertThat(p.assignment()).isEqualTo(Assignment.PERSISTENT);
        assertThat(p.resetOnLogout()).isFalse();
        assertThat(pools.find(t.id(), "engineering")).contains(p);
        Pool same = pools.create(Tenant.DEFAULT_ID, "engineering", List.of(), List.of("gpu"), Assignment.FLOATING, true);
        assertThat(same.tenant()).as("another tenant may use the name").isEqualTo(Tenant.DEFAULT_ID);

        assertStatus(() -> pools.create(t.id(), "engineering", List.of("agent-9"), List.of(), Assignment.FLOATING, true),
                Status.ALREADY_EXISTS, "pool engineering already exists");
        assertStatus(() -> pools.create(t.id(), "empty", List.of(), List.of(), Assignment.FLOATING, true),
                Status.BAD_REQUEST, "at least one agent or label");
        assertStatus(() -> pools.create(t.id(), "bad", List.of("agent/1"), List.of(), Assignment.FLOATING, true),
                Status.BAD_REQUEST, "agent id 'agent/1' is invalid");
        assertStatus(() -> pools.create(t.id(), "bad name", List.of("a"), List.of(), Assignment.FLOATING, true),
                Status.BAD_REQUEST, "pool name 'bad name' is invalid");
        assertStatus(() -> pools.create(999_999, "orphan", List.of("a"), List.of(), Assignment.FLOATING, true),
                Status.NOT_FOUND, "no tenant 999999");
        assertThat(pools.list(t.id())).extracting(Pool::name).containsExactly("engineering");
        assertThatThrownBy(() -> Assignment.fromWire("sticky")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldEntitleOnlyWithinOneTenantAndCompareTenantAndUserTogether() {
        Tenant a = tenants.create("tenant-a");
        Tenant b = tenants.create("tenant-b");
        users.create(a.id(), "dana", "$argon2id$a", false);
        users.create(b.id(), "dana", "$argon2id$b", false);
        pools.create(a.id(), "office", List.of("agent-a"), List.of(), Assignment.FLOATING, true);
        pools.create(b.id(), "office", List.of("agent-b"), List.of(), Assignment.FLOATING, true);
        pools.create(b.id(), "lab", List.of("agent-lab"), List.of(), Assignment.FLOATING, true);

        assertThat(entitlements.entitle(a.id(), "dana", "office")).isTrue();
        assertThat(entitlements.entitle(a.id(), "dana", "office")).as("again: nothing new").isFalse();
        assertThat(entitlements.pools(a.id(), "dana")).extracting(Pool::agents).containsExactly(List.of("agent-a"));
        assertThat(entitlements.pools(b.id(), "dana")).as("same name in tenant b: not entitled").isEmpty();
        assertThat(entitlements.entitled(b.id(), "dana", "office")).isEmpty();
        assertThat(entitlements.entitled(a.id(), "dana", "office")).isPresent();
        assertStatus(() -> entitlements.entitle(a.id(), "dana", "lab"), Status.NOT_FOUND, "no pool lab");
        assertStatus(() -> entitlements.entitle(a.id(), "erin", "office"), Status.NOT_FOUND, "no user erin");
        assertThat(entitlements.users(a.id(), "office")).containsExactly("dana");
        assertThat(entitlements.users(b.id(), "office")).isEmpty();

        assertThat(entitlements.revoke(b.id(), "dana", "office")).as("tenant b's dana held nothing").isFalse();
        assertThat(entitlements.pools(a.id(), "dana")).hasSize(1);
        assertThat(entitlements.revoke(a.id(), "dana", "office")).isTrue();
        assertThat(entitlements.revoke(a.id(), "dana", "office")).isFalse();
        assertThat(entitlements.pools(a.id(), "dana")).isEmpty();
        assertStatus(() -> entitlements.revoke(a.id(), "dana", "nope"), Status.NOT_FOUND, "no pool nope");
    }

    @Test
    void shouldRemoveAUserWithTheirEntitlementsAndLoginsButNotWhileASessionIsActive() {
        Tenant t = tenants.create("removals");
        User frank = users.create(t.id(), "frank", "$argon2id$f", false);
        users.create(t.id(), "gina", "$argon2id$g", false);
        pools.create(t.id(), "desk", List.of("agent-1"), List.of(), Assignment.FLOATING, true);
        entitlements.entitle(t.id(), "frank", "desk");
        PortalSessionStore logins = new PortalSessionStore(db.dataSource());
        UUID login = UUID.randomUUID();
        Instant now = Instant.now();
        logins.create(login, t.id(), "frank", now.plus(Duration.ofHours(1)));
        SessionStore sessions = new SessionStore(db.dataSource());
        UUID session = UUID.randomUUID();
        sessions.create(session, t.id(), frank.id(), "agent-1/1", "engine-1", "gateway-1", "inst-1");

        assertThat(users.remove(t.id(), "frank")).isEqualTo(UserStore.Removal.HAS_ACTIVE_SESSION);
        assertThat(users.find(t.id(), "frank")).as("nothing lost").isPresent();
        assertThat(logins.isLive(login, t.id(), "frank", now)).isTrue();

        sessions.markEnded(session);
        assertThat(users.remove(t.id(), "frank")).isEqualTo(UserStore.Removal.REMOVED);
        assertThat(users.find(t.id(), "frank")).isEmpty();
        assertThat(entitlements.users(t.id(), "desk")).isEmpty();
        assertThat(sessions.findById(session)).isEmpty();
        users.create(t.id(), "frank", "$argon2id$new", false);
        assertThat(logins.isLive(login, t.id(), "frank", now)).as("a new frank does not inherit the old login").isFalse();
        assertThat(users.remove(t.id(), "nobody")).isEqualTo(UserStore.Removal.NOT_FOUND);
        assertThat(users.list(t.id())).extracting(User::username).containsExactly("frank", "gina");
    }

    @Test
    void shouldRefuseAUserInAnUnknownTenant() {
        assertStatus(() -> users.create(999_998, "x", "$argon2id$x", false), Status.NOT_FOUND, "no tenant 999998");
    }
}
