package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.store.Database;
import io.deskgate.store.DrainStore;
import io.deskgate.store.Registration;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.RegistryStore;
import io.deskgate.store.Role;
import io.deskgate.testkit.Conditions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launches' view of the registry (issue 9's launch speed): a started view serves launches without reading the
 * registry; a drain, or an instance that registered, reaches it at the next refresh; a zero interval reads per launch.
 * On a real embedded PostgreSQL.
 */
class LiveRolesViewTest {
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    @TempDir static Path dir;
    static Database db;
    static RegistryStore registry;
    static DrainStore drains;

    @BeforeAll
    static void start() throws Exception {
        db = Database.embedded(dir);
        registry = new RegistryStore(db.dataSource());
        drains = new DrainStore(db.dataSource());
        register("view-engine-1");
        register("view-gateway-1");
        register("view-broker-1");
    }

    @AfterAll
    static void stop() {
        if (db != null) db.close();
    }

    @BeforeEach
    void undrain() {
        drains.undrain(Role.ENGINE, "view-engine-1");
    }

    private static void register(String id) {
        Map<String, String> addresses = id.contains("gateway")
                ? Map.of(RegistryEntry.WS, "ws://127.0.0.1:9/s", RegistryEntry.UDP, "127.0.0.1:9")
                : Map.of(RegistryEntry.GRPC, "127.0.0.1:9");
        Role role = id.contains("gateway") ? Role.GATEWAY : id.contains("broker") ? Role.BROKER : Role.ENGINE;
        registry.register(new Registration(role, id, UUID.randomUUID(), addresses, 10, "test", Map.of()), FrontdoorFixture.TIMING.timeout());
    }

    @Test
    void aStartedViewServesLaunchesWithoutReadingTheRegistryUntilItsNextRefresh() {
        try (LiveRoles roles = new LiveRoles(registry, FrontdoorFixture.TIMING, Optional.empty(), Duration.ofSeconds(60)).start()) {
            long readings = roles.readsStarted();
            assertThat(readings).as("start reads once").isEqualTo(1);
            LiveRoles.Snapshot first = roles.view();
            assertThat(first.engine("view-engine-1")).isPresent();
            assertThat(first.gateway("view-gateway-1")).isPresent();
            assertThat(first.brokers()).containsExactly("127.0.0.1:9");
            for (int i = 0; i < 100; i++) assertThat(roles.view()).isSameAs(first);
            assertThat(roles.readsStarted()).as("launches read nothing").isEqualTo(readings);

            drains.drain(Role.ENGINE, "view-engine-1", "test");
            register("view-engine-2");
            assertThat(roles.view().drainedEngines()).as("not before the next refresh").isEmpty();
            assertThat(roles.view().engine("view-engine-2")).isEmpty();
            roles.refresh(); // what the drain API does after a drain through this frontdoor
            assertThat(roles.view().drainedEngines()).containsExactly("view-engine-1");
            assertThat(roles.view().engine("view-engine-2")).isPresent();
        }
    }

    @Test
    void aDrainMadeElsewhereReachesTheViewAtARefreshThatStartedAfterIt() {
        try (LiveRoles roles = new LiveRoles(registry, FrontdoorFixture.TIMING, Optional.empty(), Duration.ofMillis(100)).start()) {
            assertThat(roles.view().drainedEngines()).isEmpty();
            long before = roles.readsStarted();
            drains.drain(Role.ENGINE, "view-engine-1", "test");
            AtomicReference<LiveRoles.Snapshot> seen = new AtomicReference<>();
            Conditions.await("the background view shows the drain", DEADLINE, () -> {
                seen.set(roles.view());
                return seen.get().drainedEngines().contains("view-engine-1");
            });
            assertThat(seen.get().reading()).as("a background reading, started after the drain").isGreaterThan(before);
        }
    }

    @Test
    void withAZeroIntervalEveryLaunchReadsTheRegistryOnceAndSeesADrainAtOnce() {
        try (LiveRoles roles = new LiveRoles(registry, FrontdoorFixture.TIMING, Optional.empty(), Duration.ZERO).start()) {
            long before = roles.readsStarted();
            assertThat(roles.view().drainedEngines()).isEmpty();
            drains.drain(Role.ENGINE, "view-engine-1", "test");
            LiveRoles.Snapshot s = roles.view();
            assertThat(s.drainedEngines()).containsExactly("view-engine-1");
            assertThat(s.engine("view-engine-1")).as("a drained engine is still live (its sessions go on)").isPresent();
            assertThat(roles.readsStarted()).as("one reading per view").isEqualTo(before + 2);
        }
    }

    @Test
    void theRefreshIntervalIsZeroToSixtySecondsDefaultingToOne() {
        assertThat(FrontdoorConfig.builder().dataDir(dir).build().rolesRefresh()).isEqualTo(Duration.ofSeconds(1));
        assertThat(FrontdoorConfig.builder().dataDir(dir).rolesRefresh(Duration.ZERO).build().rolesRefresh()).isZero();
        for (Duration bad : java.util.List.of(Duration.ofSeconds(61), Duration.ofMillis(-1))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> FrontdoorConfig.builder().dataDir(dir).rolesRefresh(bad).build())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("roles-refresh");
        }
    }

    @Test
    void aFixedBrokerIsTheOnlyBrokerAndTheRegistrysBrokersAreNotRead() {
        try (LiveRoles roles = new LiveRoles(registry, FrontdoorFixture.TIMING, Optional.of("127.0.0.1:4242"), Duration.ZERO)) {
            assertThat(roles.view().brokers()).containsExactly("127.0.0.1:4242");
        }
    }
}
