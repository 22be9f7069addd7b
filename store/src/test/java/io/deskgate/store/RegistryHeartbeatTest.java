package io.deskgate.store;

import io.deskgate.testkit.Conditions;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The heartbeat edge on a real PostgreSQL: registration, true load, a vanished row, an outage, close. */
class RegistryHeartbeatTest {
    /** Short interval so a test sees several heartbeats; generous timeout so a busy machine is not a death. */
    private static final RegistryTiming FAST = new RegistryTiming(Duration.ofMillis(100), Duration.ofSeconds(10));
    private static final Duration DEADLINE = Duration.ofSeconds(60);

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

    private static Registration engine(String id) {
        return new Registration(Role.ENGINE, id, UUID.randomUUID(), Map.of(RegistryEntry.GRPC, "127.0.0.1:7000"), 64,
                "0.1.0", Map.of());
    }

    private static Optional<RegistryEntry> row(RegistryStore store, String id) {
        return store.live(Role.ENGINE, FAST.timeout()).stream().filter(e -> e.id().equals(id)).findFirst();
    }

    static void await(String what, BooleanSupplier condition) {
        Conditions.await(what, DEADLINE, condition);
    }

    @Test
    void shouldRegisterAtStartReportTheTrueLoadAndDeregisterAtClose() throws Exception {
        RegistryStore store = new RegistryStore(db.dataSource());
        AtomicInteger load = new AtomicInteger(3);
        Registration r = engine("hb-load");
        try (RegistryHeartbeat h = RegistryHeartbeat.start(store, r, load::get, FAST)) {
            assertThat(row(store, "hb-load")).as("registered before start returns").isPresent();
            await("load 3 reported", () -> row(store, "hb-load").map(e -> e.load() == 3).orElse(false));
            load.set(11);
            await("load 11 reported", () -> row(store, "hb-load").map(e -> e.load() == 11).orElse(false));
            assertThat(h.registration()).isEqualTo(r);
        }
        assertThat(row(store, "hb-load")).as("deregistered at close").isEmpty();
        assertThat(store.heartbeat(r, 0)).isFalse();
    }

    @Test
    void shouldRegisterAgainWhenItsRowVanished() throws Exception {
        RegistryStore store = new RegistryStore(db.dataSource());
        try (RegistryHeartbeat h = RegistryHeartbeat.start(store, engine("hb-vanish"), () -> 5, FAST)) {
            await("first heartbeat", () -> row(store, "hb-vanish").map(e -> e.load() == 5).orElse(false));
            try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
                assertThat(st.executeUpdate("DELETE FROM registry WHERE id = 'hb-vanish'")).isEqualTo(1);
            }
            await("registered again with its load", () -> row(store, "hb-vanish").map(e -> e.load() == 5).orElse(false));
        }
    }

    @Test
    void shouldRefuseToStartWhileAnotherRunningInstanceKeepsHeartbeatingUnderTheId() {
        RegistryStore store = new RegistryStore(db.dataSource());
        RegistryTiming shortTimeout = new RegistryTiming(Duration.ofMillis(100), Duration.ofSeconds(1));
        try (RegistryHeartbeat first = RegistryHeartbeat.start(store, engine("hb-dup"), () -> 0, shortTimeout)) {
            assertThatThrownBy(() -> RegistryHeartbeat.start(store, engine("hb-dup"), () -> 0, shortTimeout))
                    .isInstanceOf(RegistryConflict.class).hasMessageContaining("engine id hb-dup is registered by another");
            assertThat(row(store, "hb-dup")).map(e -> e.registration().incarnation())
                    .contains(first.registration().incarnation());
        }
    }

    @Test
    void shouldTakeItsIdBackFromACrashedEarlierStartOnceThatRowTimesOut() {
        RegistryStore store = new RegistryStore(db.dataSource());
        RegistryTiming shortTimeout = new RegistryTiming(Duration.ofMillis(100), Duration.ofSeconds(1));
        store.register(engine("hb-crashed"), shortTimeout.timeout()); // a start that never heartbeats again
        try (RegistryHeartbeat again = RegistryHeartbeat.start(store, engine("hb-crashed"), () -> 0, shortTimeout)) {
            assertThat(store.live(Role.ENGINE, shortTimeout.timeout()).stream().filter(e -> e.id().equals("hb-crashed")))
                    .extracting(e -> e.registration().incarnation()).containsExactly(again.registration().incarnation());
        }
    }

    @Test
    void shouldSurviveAStoreOutageAndReportTheLoadOnceTheStoreIsBack(@TempDir Path pgDir) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        EmbeddedPostgres pg = postgres(pgDir, port);
        try (Database external = Database.external("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", "")) {
            RegistryStore store = new RegistryStore(external.dataSource());
            AtomicInteger load = new AtomicInteger(1);
            try (RegistryHeartbeat h = RegistryHeartbeat.start(store, engine("hb-outage"), load::get, FAST)) {
                await("first heartbeat", () -> row(store, "hb-outage").map(e -> e.load() == 1).orElse(false));
                pg.close();
                await("outage noticed", h::storeLost);
                load.set(9);
                pg = postgres(pgDir, port);
                await("heartbeats again with the new load", () -> {
                    try {
                        return row(store, "hb-outage").map(e -> e.load() == 9).orElse(false);
                    } catch (RuntimeException e) {
                        return false; // the pool reconnects
                    }
                });
                assertThat(h.storeLost()).isFalse();
            }
            assertThat(new RegistryStore(external.dataSource()).live(Role.ENGINE, FAST.timeout())).isEmpty();
        } finally {
            pg.close();
        }
    }

    @Test
    void timingRejectsATimeoutShorterThanTwoIntervals() {
        assertThatThrownBy(() -> new RegistryTiming(Duration.ofSeconds(2), Duration.ofSeconds(3)))
                .hasMessage("timeout must be at least twice the interval between heartbeats (2000 ms): 3000 ms");
        assertThatThrownBy(() -> new RegistryTiming(Duration.ZERO, Duration.ofSeconds(3)))
                .hasMessage("heartbeat-interval must be positive");
        assertThat(List.of(RegistryTiming.DEFAULT.interval(), RegistryTiming.DEFAULT.timeout()))
                .containsExactly(Duration.ofSeconds(2), Duration.ofSeconds(6));
    }

    private static EmbeddedPostgres postgres(Path dataDir, int port) throws Exception {
        return EmbeddedPostgres.builder().setDataDirectory(dataDir.resolve("pg")).setCleanDataDirectory(false).setPort(port)
                .start();
    }
}
