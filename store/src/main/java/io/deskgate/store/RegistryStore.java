package io.deskgate.store;

import io.deskgate.common.RateLimitedLog;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet registry: one row per running role instance, kept fresh by its heartbeats
 * ({@link RegistryHeartbeat}). Every time comparison is made by the database ({@code now()} in SQL), so the
 * clocks of the machines that register and read never matter. A row whose heartbeat is older than the
 * reader's timeout is gone: {@link #live} leaves it out (one log line per gone instance) and deletes it once
 * it is {@link #GRACE_TIMEOUTS} timeouts old. Thread-safe.
 */
public final class RegistryStore {
    private static final Logger log = LoggerFactory.getLogger(RegistryStore.class);
    /** A gone row is deleted once its heartbeat is this many timeouts old. */
    public static final int GRACE_TIMEOUTS = 10;
    private static final int MAX_REMEMBERED_GONE = 1024;
    private static final String MAP_COLUMNS = "(SELECT array_agg(key ORDER BY key) FROM jsonb_each_text(%1$s)), "
            + "(SELECT array_agg(value ORDER BY key) FROM jsonb_each_text(%1$s))";
    private static final String SELECT = "SELECT role, id, incarnation, " + MAP_COLUMNS.formatted("addresses")
            + ", capacity, version, " + MAP_COLUMNS.formatted("labels") + ", load, started_at, heartbeat_at, "
            + "heartbeat_at >= now() - ? * interval '1 millisecond', "
            + "(extract(epoch FROM now() - heartbeat_at) * 1000)::bigint FROM registry ";

    /** Load over capacity, then id: the order {@link #live} returns. */
    private static final Comparator<RegistryEntry> LEAST_LOADED =
            Comparator.comparingDouble((RegistryEntry e) -> (double) e.load() / e.registration().capacity())
                    .thenComparing(RegistryEntry::id);

    private final DataSource ds;
    private final RateLimitedLog rateLimited = new RateLimitedLog(log);
    /** Incarnations already reported gone, so that each is logged once. */
    private final Set<UUID> reportedGone = ConcurrentHashMap.newKeySet();

    public RegistryStore(DataSource ds) {
        this.ds = ds;
    }

    /**
     * Registers an instance, or refreshes its row when the same incarnation registers again (its row is
     * replaced, its start time kept). Another incarnation's row under the same role and id is replaced only
     * when its heartbeat is older than {@code timeout}.
     *
     * @throws RegistryConflict when another incarnation holds the id and heartbeated within {@code timeout}
     */
    public void register(Registration r, Duration timeout) {
        int updated = Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "INSERT INTO registry (role, id, incarnation, addresses, capacity, load, version, labels, "
                                 + "started_at, heartbeat_at) VALUES (?, ?, ?, jsonb_object(?::text[], ?::text[]), ?, 0, ?, "
                                 + "jsonb_object(?::text[], ?::text[]), now(), now()) "
                                 + "ON CONFLICT (role, id) DO UPDATE SET incarnation = EXCLUDED.incarnation, "
                                 + "addresses = EXCLUDED.addresses, capacity = EXCLUDED.capacity, load = 0, "
                                 + "version = EXCLUDED.version, labels = EXCLUDED.labels, heartbeat_at = now(), "
                                 + "started_at = CASE WHEN registry.incarnation = EXCLUDED.incarnation "
                                 + "THEN registry.started_at ELSE now() END "
                                 + "WHERE registry.incarnation = EXCLUDED.incarnation "
                                 + "OR registry.heartbeat_at < now() - ? * interval '1 millisecond'")) {
                st.setString(1, r.role().sqlName());
                st.setString(2, r.id());
                st.setObject(3, r.incarnation());
                setMap(c, st, 4, r.addresses());
                st.setInt(6, r.capacity());
                st.setString(7, r.version());
                setMap(c, st, 8, r.labels());
                st.setLong(10, timeout.toMillis());
                return st.executeUpdate();
            }
        });
        if (updated == 0) {
            throw new RegistryConflict(r.role().sqlName() + " id " + r.id() + " is registered by another running instance "
                    + "(it heartbeated within the last " + timeout.toSeconds() + " s): give each instance its own id");
        }
        reportedGone.remove(r.incarnation());
    }

    /**
     * Records a heartbeat with the instance's current load; false when its row is gone (deleted, or taken
     * over by another incarnation after a timeout): the caller registers again.
     */
    public boolean heartbeat(Registration r, int load) {
        if (load < 0) throw new IllegalArgumentException("load must not be negative: " + load);
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("UPDATE registry SET load = ?, heartbeat_at = now() "
                         + "WHERE role = ? AND id = ? AND incarnation = ?")) {
                st.setInt(1, load);
                st.setString(2, r.role().sqlName());
                st.setString(3, r.id());
                st.setObject(4, r.incarnation());
                return st.executeUpdate() == 1;
            }
        });
    }

    /** Removes the instance's row (only its own incarnation's); false when there was none. */
    public boolean deregister(Registration r) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "DELETE FROM registry WHERE role = ? AND id = ? AND incarnation = ?")) {
                st.setString(1, r.role().sqlName());
                st.setString(2, r.id());
                st.setObject(3, r.incarnation());
                return st.executeUpdate() == 1;
            }
        });
    }

    /**
     * The instances of {@code role} that heartbeated within {@code timeout} by the database's clock, least
     * loaded first (load over capacity, then id). Gone rows are left out with one log line each, and deleted
     * once {@link #GRACE_TIMEOUTS} timeouts old; a row that does not read as a valid registration (written by
     * another version, or by hand) is left out with a rate-limited log line.
     */
    public List<RegistryEntry> live(Role role, Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be positive");
        List<RegistryEntry> out = new ArrayList<>();
        boolean sawGone = Database.run(() -> {
            boolean gone = false;
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(SELECT + "WHERE role = ? ORDER BY id")) {
                st.setLong(1, timeout.toMillis());
                st.setString(2, role.sqlName());
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        if (rs.getBoolean(13)) {
                            readRow(rs, role).ifPresent(out::add);
                        } else {
                            gone = true;
                            reportGone(rs, role);
                        }
                    }
                }
            }
            return gone;
        });
        if (sawGone) purge(role, timeout.multipliedBy(GRACE_TIMEOUTS));
        out.sort(LEAST_LOADED);
        return out;
    }

    /**
     * One reading of the live instances of several roles and of their drain flags, in one statement (one
     * round trip): what a frontdoor chooses brokers, engines and gateways from. {@code live} holds each role's
     * live instances as {@link #live} orders them (a role without any maps to an empty list); {@code drained} the
     * live engine and gateway ids that carry a drain flag ({@link DrainStore}). Immutable.
     */
    public record Snapshot(Map<Role, List<RegistryEntry>> live, Set<String> drainedEngines, Set<String> drainedGateways) {
        public Snapshot {
            Map<Role, List<RegistryEntry>> copy = new java.util.EnumMap<>(Role.class);
            live.forEach((role, rows) -> copy.put(role, List.copyOf(rows)));
            live = java.util.Collections.unmodifiableMap(copy);
            drainedEngines = Set.copyOf(drainedEngines);
            drainedGateways = Set.copyOf(drainedGateways);
        }

        /** The live instances of {@code role}, least loaded first; empty when it was not read or has none. */
        public List<RegistryEntry> of(Role role) {
            return live.getOrDefault(role, List.of());
        }
    }

    /**
     * As {@link #live} for each of {@code roles}, with the drain flags of the live engines and gateways, in one
     * statement. Gone rows are reported and purged as {@link #live} does.
     */
    public Snapshot snapshot(Set<Role> roles, Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be positive");
        if (roles.isEmpty()) throw new IllegalArgumentException("name at least one role");
        Map<Role, List<RegistryEntry>> out = new java.util.EnumMap<>(Role.class);
        for (Role r : roles) out.put(r, new ArrayList<>());
        Set<String> drainedEngines = new java.util.TreeSet<>(), drainedGateways = new java.util.TreeSet<>();
        Set<Role> sawGone = java.util.EnumSet.noneOf(Role.class);
        Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(SELECT.replace(" FROM registry ",
                         ", EXISTS (SELECT 1 FROM drained d WHERE d.role = registry.role AND d.id = registry.id) FROM registry ")
                         + "WHERE role = ANY (?) ORDER BY role, id")) {
                st.setLong(1, timeout.toMillis());
                st.setArray(2, c.createArrayOf("text", roles.stream().map(Role::sqlName).toArray()));
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        Role role;
                        try {
                            role = Role.ofSqlName(rs.getString(1));
                        } catch (IllegalArgumentException e) {
                            continue;
                        }
                        if (!rs.getBoolean(13)) {
                            sawGone.add(role);
                            reportGone(rs, role);
                            continue;
                        }
                        boolean drained = rs.getBoolean(15);
                        readRow(rs, role).ifPresent(e -> {
                            out.get(role).add(e);
                            if (drained && role == Role.ENGINE) drainedEngines.add(e.id());
                            if (drained && role == Role.GATEWAY) drainedGateways.add(e.id());
                        });
                    }
                }
            }
            return null;
        });
        for (Role r : sawGone) purge(r, timeout.multipliedBy(GRACE_TIMEOUTS));
        for (List<RegistryEntry> rows : out.values()) rows.sort(LEAST_LOADED);
        return new Snapshot(out, drainedEngines, drainedGateways);
    }

    /** A registry row and whether its heartbeat is within the timeout it was read with. */
    public record Row(RegistryEntry entry, boolean live) {}

    /**
     * Every row of every role, live or not (gone rows stay until {@link #GRACE_TIMEOUTS} timeouts old), by role
     * and id, for {@code deskgate status}: reads only, logs and deletes nothing. Unreadable rows are left out.
     */
    public List<Row> all(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be positive");
        return Database.run(() -> {
            List<Row> out = new ArrayList<>();
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(SELECT + "ORDER BY role, id")) {
                st.setLong(1, timeout.toMillis());
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        Role role;
                        try {
                            role = Role.ofSqlName(rs.getString(1));
                        } catch (IllegalArgumentException e) {
                            continue;
                        }
                        boolean live = rs.getBoolean(13);
                        readRow(rs, role).ifPresent(e -> out.add(new Row(e, live)));
                    }
                }
            }
            return out;
        });
    }

    private void reportGone(ResultSet rs, Role role) throws SQLException {
        UUID incarnation = rs.getObject(3, UUID.class);
        if (reportedGone.size() > MAX_REMEMBERED_GONE) reportedGone.clear();
        if (reportedGone.add(incarnation)) {
            rateLimited.info("registry row gone", "{} {} missed its heartbeats ({} ms since the last): treated as gone",
                    role.sqlName(), rs.getString(2), rs.getLong(14));
        }
    }

    private void purge(Role role, Duration olderThan) {
        int deleted = Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "DELETE FROM registry WHERE role = ? AND heartbeat_at < now() - ? * interval '1 millisecond'")) {
                st.setString(1, role.sqlName());
                st.setLong(2, olderThan.toMillis());
                return st.executeUpdate();
            }
        });
        if (deleted > 0) log.info("removed {} {} row(s) gone for over {} s", deleted, role.sqlName(), olderThan.toSeconds());
    }

    private Optional<RegistryEntry> readRow(ResultSet rs, Role role) throws SQLException {
        try {
            Registration r = new Registration(role, rs.getString(2), rs.getObject(3, UUID.class), map(rs, 4, 5),
                    rs.getInt(6), rs.getString(7), map(rs, 8, 9));
            return Optional.of(new RegistryEntry(r, rs.getInt(10), rs.getTimestamp(11).toInstant(),
                    rs.getTimestamp(12).toInstant()));
        } catch (IllegalArgumentException e) {
            rateLimited.warn("registry row invalid", "ignoring the {} row {}: {}", role.sqlName(), rs.getString(2),
                    e.getMessage());
            return Optional.empty();
        }
    }

    private static void setMap(Connection c, PreparedStatement st, int index, Map<String, String> map) throws SQLException {
        List<String> keys = new ArrayList<>(map.keySet());
        List<String> values = keys.stream().map(map::get).toList();
        st.setArray(index, c.createArrayOf("text", keys.toArray()));
        st.setArray(index + 1, c.createArrayOf("text", values.toArray()));
    }

    private static Map<String, String> map(ResultSet rs, int keysColumn, int valuesColumn) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        String[] keys = strings(rs.getArray(keysColumn));
        String[] values = strings(rs.getArray(valuesColumn));
        for (int i = 0; i < keys.length; i++) out.put(keys[i], values[i]);
        return out;
    }

    private static String[] strings(Array array) throws SQLException {
        return array == null ? new String[0] : (String[]) array.getArray();
    }
}
