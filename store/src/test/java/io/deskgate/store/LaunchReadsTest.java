package io.deskgate.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.store.Pool.Assignment;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store calls a session launch makes, each one statement (issue 9's launch speed): the registry snapshot with
 * drain flags, the user with their pools, the session row with its audit row.
 */
class LaunchReadsTest {
    static final Duration TIMEOUT = Duration.ofSeconds(6);
    @TempDir static Path dir;
    static Database db;

    @BeforeAll
    static void start() throws Exception {
        db = Database.embedded(dir);
    }

    @AfterAll
    static void stop() {
        if (db != null) db.close();
    }

    private static Registration registration(Role role, String id, Map<String, String> addresses) {
        return new Registration(role, id, UUID.randomUUID(), addresses, 10, "0.1.0-test", Map.of());
    }

    @Test
    void aSnapshotReadsEveryRoleAskedForLeastLoadedFirstWithTheDrainFlagsAndLeavesGoneRowsOut() throws Exception {
        RegistryStore registry = new RegistryStore(db.dataSource());
        Registration busy = registration(Role.ENGINE, "snap-busy", Map.of(RegistryEntry.GRPC, "127.0.0.1:7001"));
        Registration idle = registration(Role.ENGINE, "snap-idle", Map.of(RegistryEntry.GRPC, "127.0.0.1:7002"));
        Registration gone = registration(Role.ENGINE, "snap-gone", Map.of(RegistryEntry.GRPC, "127.0.0.1:7003"));
        Registration gw = registration(Role.GATEWAY, "snap-gw", Map.of(RegistryEntry.WS, "ws://127.0.0.1:1/s",
                RegistryEntry.UDP, "127.0.0.1:2"));
        Registration broker = registration(Role.BROKER, "snap-broker", Map.of(RegistryEntry.GRPC, "127.0.0.1:7004"));
        Registration agent = registration(Role.AGENT, "snap-agent", Map.of());
        for (Registration r : List.of(busy, idle, gone, gw, broker, agent)) registry.register(r, TIMEOUT);
        registry.heartbeat(busy, 7);
        registry.heartbeat(idle, 1);
        try (Connection c = db.dataSource().getConnection();
             PreparedStatement st = c.prepareStatement("UPDATE registry SET heartbeat_at = now() - interval '1 hour' WHERE id = ?")) {
            st.setString(1, "snap-gone");
            assertThat(st.executeUpdate()).isEqualTo(1);
        }
        DrainStore drains = new DrainStore(db.dataSource());
        drains.drain(Role.ENGINE, "snap-busy", "test");
        drains.drain(Role.GATEWAY, "snap-gw", "test");
        drains.drain(Role.ENGINE, "snap-not-registered", "test");

        RegistryStore.Snapshot s = registry.snapshot(Set.of(Role.BROKER, Role.ENGINE, Role.GATEWAY), TIMEOUT);
        assertThat(s.of(Role.ENGINE)).extracting(RegistryEntry::id).containsExactly("snap-idle", "snap-busy");
        assertThat(s.of(Role.ENGINE)).extracting(RegistryEntry::load).containsExactly(1, 7);
        assertThat(s.of(Role.GATEWAY)).extracting(RegistryEntry::registration).containsExactly(gw);
        assertThat(s.of(Role.BROKER)).extracting(RegistryEntry::id).containsExactly("snap-broker");
        assertThat(s.of(Role.AGENT)).as("not asked for").isEmpty();
        assertThat(s.drainedEngines()).as("only live engines' flags").containsExactly("snap-busy");
        assertThat(s.drainedGateways()).containsExactly("snap-gw");
        assertThat(s.of(Role.ENGINE)).isEqualTo(registry.live(Role.ENGINE, TIMEOUT));

        drains.undrain(Role.ENGINE, "snap-busy");
        assertThat(registry.snapshot(Set.of(Role.ENGINE), TIMEOUT).drainedEngines()).isEmpty();
    }

    @Test
    void theUserComesWithTheirPoolsInOneReadingAndAnUnknownUserIsEmpty() {
        Tenant t = new TenantStore(db.dataSource()).create("launch-reads");
        UserStore users = new UserStore(db.dataSource());
        PoolStore pools = new PoolStore(db.dataSource());
        EntitlementStore entitlements = new EntitlementStore(db.dataSource());
        User hana = users.create(t.id(), "hana", "$argon2id$h", true);
        users.create(t.id(), "ivan", "$argon2id$i", false);
        pools.create(t.id(), "zeta", List.of("agent-z"), List.of(), Assignment.FLOATING, true);
        pools.create(t.id(), "alpha", List.of(), List.of("gpu"), Assignment.PERSISTENT, false);
        entitlements.entitle(t.id(), "hana", "zeta");
        entitlements.entitle(t.id(), "hana", "alpha");

        EntitlementStore.UserPools h = entitlements.userWithPools(t.id(), "hana").orElseThrow();
        assertThat(h.user()).isEqualTo(hana);
        assertThat(h.pools()).extracting(Pool::name).containsExactly("alpha", "zeta");
        assertThat(h.pools()).isEqualTo(entitlements.pools(t.id(), "hana"));
        EntitlementStore.UserPools i = entitlements.userWithPools(t.id(), "ivan").orElseThrow();
        assertThat(i.user().username()).isEqualTo("ivan");
        assertThat(i.pools()).as("no entitlement").isEmpty();
        assertThat(entitlements.userWithPools(t.id(), "nobody")).isEmpty();
        assertThat(entitlements.userWithPools(Tenant.DEFAULT_ID, "hana")).as("another tenant's user").isEmpty();
    }

    @Test
    void aSessionIsRecordedWithItsAuditRowInOneStatement() {
        User jo = new UserStore(db.dataSource()).create(Tenant.DEFAULT_ID, "jo-launch", "$argon2id$j", false);
        SessionStore sessions = new SessionStore(db.dataSource());
        UUID id = UUID.randomUUID();
        SessionRow row = sessions.createAudited(id, Tenant.DEFAULT_ID, jo.id(), "agent-1/1", "engine-1", "gateway-1", "inst-1",
                "fd-7", "jo-launch", "session.start", "session " + id + " desktop agent-1/1");
        assertThat(row.active()).isTrue();
        assertThat(row.engineId()).isEqualTo("engine-1");
        assertThat(sessions.activeByFrontdoor()).as("the launching frontdoor, in the same statement").containsEntry("fd-7", 1);
        assertThat(sessions.findById(id)).contains(row);
        assertThat(new AuditLog(db.dataSource()).recent(Tenant.DEFAULT_ID, 5)).anySatisfy(e -> {
            assertThat(e.actor()).isEqualTo("jo-launch");
            assertThat(e.action()).isEqualTo("session.start");
            assertThat(e.detail()).isEqualTo("session " + id + " desktop agent-1/1");
        });
    }
}
