package io.deskgate.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Set;
import java.util.TreeSet;
import javax.sql.DataSource;

/**
 * The drain flags of engines and gateways ({@code drained} table): a drained instance gets no new sessions
 * (the frontdoor's choice leaves it out) and keeps serving the ones it has. A flag names a role and an id,
 * not an incarnation, so it outlives a restart of the instance. Thread-safe.
 */
public final class DrainStore {
    private final DataSource ds;

    public DrainStore(DataSource ds) {
        this.ds = ds;
    }

    /** Drains {@code id} of {@code role}; false when it was already drained. */
    public boolean drain(Role role, String id, String by) {
        checkRole(role);
        checkId(id);
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "INSERT INTO drained (role, id, drained_by) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")) {
                st.setString(1, role.sqlName());
                st.setString(2, id);
                st.setString(3, by);
                return st.executeUpdate() == 1;
            }
        });
    }

    /** Lifts the drain of {@code id} of {@code role}; false when it was not drained. */
    public boolean undrain(Role role, String id) {
        checkRole(role);
        checkId(id);
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("DELETE FROM drained WHERE role = ? AND id = ?")) {
                st.setString(1, role.sqlName());
                st.setString(2, id);
                return st.executeUpdate() == 1;
            }
        });
    }

    /** The drained ids of {@code role}, sorted. */
    public Set<String> drained(Role role) {
        checkRole(role);
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("SELECT id FROM drained WHERE role = ?")) {
                st.setString(1, role.sqlName());
                Set<String> out = new TreeSet<>();
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) out.add(rs.getString(1));
                }
                return java.util.Collections.unmodifiableSet(out);
            }
        });
    }

    private static void checkRole(Role role) {
        if (role != Role.ENGINE && role != Role.GATEWAY) {
            throw new IllegalArgumentException("only engines and gateways can be drained, not " + role.sqlName());
        }
    }

    private static void checkId(String id) {
        if (id == null || !Registration.ID.matcher(id).matches()) {
            throw new IllegalArgumentException("registry id must be 1-" + Registration.MAX_ID_CHARS + " letters, digits or . _ : -");
        }
    }
}
