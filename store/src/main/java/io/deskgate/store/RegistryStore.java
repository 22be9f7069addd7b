package io.deskgate.store;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;

/**
 * The fleet registry: for now the gateways, with their endpoint fields and last heartbeat (the
 * frontdoor's reachability probe); a heartbeat is an upsert or a {@link #touch}. Thread-safe.
 */
public final class RegistryStore {
    private static final Set<String> KINDS = Set.of(RegistryEntry.GATEWAY);
    private static final String SELECT = "SELECT kind, id, endpoint, "
            + "(SELECT array_agg(key ORDER BY key) FROM jsonb_each_text(extra)), "
            + "(SELECT array_agg(value ORDER BY key) FROM jsonb_each_text(extra)), heartbeat_at FROM registry ";

    private final DataSource ds;

    public RegistryStore(DataSource ds) {
        this.ds = ds;
    }

    /** Inserts or replaces the entry {@code (kind, id)} and sets its heartbeat to now. */
    public void upsert(String kind, String id, String endpoint, Map<String, String> fields) {
        requireKind(kind);
        Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "INSERT INTO registry (kind, id, endpoint, extra, heartbeat_at) "
                                 + "VALUES (?, ?, ?, jsonb_object(?::text[], ?::text[]), now()) "
                                 + "ON CONFLICT (kind, id) DO UPDATE SET endpoint = EXCLUDED.endpoint, "
                                 + "extra = EXCLUDED.extra, heartbeat_at = now()")) {
                List<String> keys = new ArrayList<>(fields.keySet());
                List<String> values = keys.stream().map(fields::get).toList();
                st.setString(1, kind);
                st.setString(2, id);
                st.setString(3, endpoint);
                st.setArray(4, c.createArrayOf("text", keys.toArray()));
                st.setArray(5, c.createArrayOf("text", values.toArray()));
                return st.executeUpdate();
            }
        });
    }

    /** Entries of one kind, ordered by id. */
    public List<RegistryEntry> list(String kind) {
        requireKind(kind);
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(SELECT + "WHERE kind = ? ORDER BY id")) {
                st.setString(1, kind);
                List<RegistryEntry> out = new ArrayList<>();
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) out.add(row(rs));
                }
                return out;
            }
        });
    }

    /** Sets an entry's heartbeat to now, keeping everything else; false when there is no such entry. */
    public boolean touch(String kind, String id) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "UPDATE registry SET heartbeat_at = now() WHERE kind = ? AND id = ?")) {
                st.setString(1, kind);
                st.setString(2, id);
                return st.executeUpdate() == 1;
            }
        });
    }

    /** Removes an entry; false when there was none. */
    public boolean remove(String kind, String id) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("DELETE FROM registry WHERE kind = ? AND id = ?")) {
                st.setString(1, kind);
                st.setString(2, id);
                return st.executeUpdate() == 1;
            }
        });
    }

    private static void requireKind(String kind) {
        if (!KINDS.contains(kind)) throw new IllegalArgumentException("unknown registry kind " + kind);
    }

    private static RegistryEntry row(ResultSet rs) throws SQLException {
        Map<String, String> fields = new LinkedHashMap<>();
        String[] keys = strings(rs.getArray(4));
        String[] values = strings(rs.getArray(5));
        for (int i = 0; i < keys.length; i++) fields.put(keys[i], values[i]);
        return new RegistryEntry(rs.getString(1), rs.getString(2), rs.getString(3), fields,
                rs.getTimestamp(6).toInstant());
    }

    private static String[] strings(Array array) throws SQLException {
        return array == null ? new String[0] : (String[]) array.getArray();
    }
}
