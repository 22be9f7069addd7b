package io.deskgate.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The registry on a real PostgreSQL: registration, heartbeats, duplicate ids and timeouts judged by the
 * database's clock (issue 8 item 2). Run against each server by a subclass that owns one shared database.
 * A silent instance is simulated by moving its heartbeat back in the database, never by waiting.
 */
abstract class RegistryStoreContract {
    static final Duration TIMEOUT = Duration.ofSeconds(6);

    public abstract Database database();

    private RegistryStore store() { return new RegistryStore(database().dataSource()); }

    static Registration registration(Role role, String id, int capacity) {
        return new Registration(role, id, UUID.randomUUID(), Map.of(RegistryEntry.GRPC, "127.0.0.1:" + (7000 + capacity)),
                capacity, "0.1.0-test", Map.of());
    }

    private List<RegistryEntry> live(Role role, String prefix) {
        return store().live(role, TIMEOUT).stream().filter(e -> e.id().startsWith(prefix)).toList();
    }

    /** Moves a row's heartbeat {@code age} into the past, as if its instance had stopped heartbeating. */
    private void silence(Registration r, Duration age) throws SQLException {
        try (Connection c = database().dataSource().getConnection();
             PreparedStatement st = c.prepareStatement(
                     "UPDATE registry SET heartbeat_at = now() - ? * interval '1 millisecond' WHERE role = ? AND id = ?")) {
            st.setLong(1, age.toMillis());
            st.setString(2, r.role().sqlName());
            st.setString(3, r.id());
            assertThat(st.executeUpdate()).isEqualTo(1);
        }
    }

    private int rows(Registration r) throws SQLException {
        try (Connection c = database().dataSource().getConnection();
             PreparedStatement st = c.prepareStatement("SELECT count(*) FROM registry WHERE role = ? AND id = ?")) {
            st.setString(1, r.role().sqlName());
            st.setString(2, r.id());
            try (var rs = st.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    @Test
    void shouldListLiveInstancesOfEachRoleLeastLoadedFirstWithWhatTheyRegistered() {
        RegistryStore store = store();
        Registration busy = registration(Role.ENGINE, "list-busy", 10);
        Registration idle = registration(Role.ENGINE, "list-idle", 10);
        Registration gateway = new Registration(Role.GATEWAY, "list-gw", UUID.randomUUID(),
                Map.of(RegistryEntry.WS, "wss://pop1.example:8443/stream", RegistryEntry.UDP, "10.0.0.1:40000"), 500, "0.1.0",
                Map.of("site", "eu-1"));
        for (Registration r : List.of(busy, idle, gateway)) store.register(r, TIMEOUT);
        assertThat(store.heartbeat(busy, 5)).isTrue();
        assertThat(store.heartbeat(idle, 1)).isTrue();

        assertThat(live(Role.ENGINE, "list-")).extracting(RegistryEntry::id).containsExactly("list-idle", "list-busy");
        assertThat(live(Role.ENGINE, "list-")).extracting(RegistryEntry::load).containsExactly(1, 5);
        RegistryEntry gw = live(Role.GATEWAY, "list-").getFirst();
        assertThat(gw.registration()).isEqualTo(gateway);
        assertThat(gw.address(RegistryEntry.UDP)).contains("10.0.0.1:40000");
        assertThat(gw.label("site")).contains("eu-1");
        assertThat(gw.heartbeatAt()).isAfterOrEqualTo(gw.startedAt());
        assertThat(live(Role.BROKER, "list-")).as("no broker registered").isEmpty();
    }

    @Test
    void shouldRankByLoadOverCapacity() {
        RegistryStore store = store();
        Registration small = registration(Role.GATEWAY, "rank-small", 2);
        Registration large = registration(Role.GATEWAY, "rank-large", 100);
        store.register(small, TIMEOUT);
        store.register(large, TIMEOUT);
        store.heartbeat(small, 1);
        store.heartbeat(large, 10);
        assertThat(live(Role.GATEWAY, "rank-")).extracting(RegistryEntry::id).containsExactly("rank-large", "rank-small");
    }

    @Test
    void shouldRefuseADuplicateLiveIdFromAnotherStartUntilTheOldRowTimesOut() throws Exception {
        RegistryStore store = store();
        Registration first = registration(Role.BROKER, "dup-1", 1);
        Registration second = new Registration(Role.BROKER, "dup-1", UUID.randomUUID(), Map.of(), 1, "0.1.0", Map.of());
        store.register(first, TIMEOUT);
        assertThatThrownBy(() -> store.register(second, TIMEOUT)).isInstanceOf(RegistryConflict.class)
                .hasMessage("broker id dup-1 is registered by another running instance (it heartbeated within the last 6 s):"
                        + " give each instance its own id");
        assertThat(live(Role.BROKER, "dup-")).extracting(e -> e.registration().incarnation()).containsExactly(first.incarnation());

        silence(first, TIMEOUT.plusSeconds(1));
        store.register(second, TIMEOUT);
        assertThat(live(Role.BROKER, "dup-")).extracting(e -> e.registration().incarnation()).containsExactly(second.incarnation());
        assertThat(store.heartbeat(first, 0)).as("the old start's row was taken over").isFalse();
        assertThat(store.heartbeat(second, 0)).isTrue();
        assertThat(store.deregister(first)).as("deregisters only its own incarnation").isFalse();
        assertThat(rows(second)).isEqualTo(1);
    }

    @Test
    void shouldKeepTheStartTimeWhenTheSameStartRegistersAgain() {
        RegistryStore store = store();
        Registration r = registration(Role.AGENT, "again-1", 3);
        store.register(r, TIMEOUT);
        RegistryEntry before = live(Role.AGENT, "again-").getFirst();
        store.heartbeat(r, 2);
        store.register(r, TIMEOUT);
        RegistryEntry after = live(Role.AGENT, "again-").getFirst();
        assertThat(after.startedAt()).isEqualTo(before.startedAt());
        assertThat(after.load()).as("a registration starts from no load").isZero();
    }

    @Test
    void shouldTreatARowPastTheTimeoutAsGoneAndRemoveItAfterTheGrace() throws Exception {
        RegistryStore store = store();
        Registration r = registration(Role.CONCENTRATOR, "gone-1", 1);
        store.register(r, TIMEOUT);
        silence(r, TIMEOUT.plusSeconds(1));
        assertThat(live(Role.CONCENTRATOR, "gone-")).isEmpty();
        assertThat(rows(r)).as("kept during the grace").isEqualTo(1);
        assertThat(store.heartbeat(r, 0)).as("its own instance may come back").isTrue();
        assertThat(live(Role.CONCENTRATOR, "gone-")).hasSize(1);

        silence(r, TIMEOUT.multipliedBy(RegistryStore.GRACE_TIMEOUTS).plusSeconds(1));
        assertThat(live(Role.CONCENTRATOR, "gone-")).isEmpty();
        assertThat(rows(r)).as("removed after the grace").isZero();
        assertThat(store.heartbeat(r, 0)).as("the caller re-registers").isFalse();
        store.register(r, TIMEOUT);
        assertThat(live(Role.CONCENTRATOR, "gone-")).hasSize(1);
    }

    @Test
    void shouldDeregisterAndThenAnswerHeartbeatsWithFalse() throws Exception {
        RegistryStore store = store();
        Registration r = registration(Role.FRONTDOOR, "bye-1", 1);
        store.register(r, TIMEOUT);
        assertThat(store.deregister(r)).isTrue();
        assertThat(store.deregister(r)).isFalse();
        assertThat(store.heartbeat(r, 0)).isFalse();
        assertThat(rows(r)).isZero();
    }

    @Test
    void shouldIgnoreARowThatIsNoValidRegistration() throws Exception {
        try (Connection c = database().dataSource().getConnection();
             PreparedStatement st = c.prepareStatement("INSERT INTO registry (role, id, incarnation, capacity, version) "
                     + "VALUES ('engine', 'bad id with spaces', ?, 1, 'x')")) {
            st.setObject(1, UUID.randomUUID());
            st.executeUpdate();
        }
        assertThat(store().live(Role.ENGINE, TIMEOUT)).extracting(RegistryEntry::id).doesNotContain("bad id with spaces");
    }
}
