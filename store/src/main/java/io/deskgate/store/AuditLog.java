package io.deskgate.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The append-only audit trail: who did what, when. {@code detail} is free text for people and must never
 * hold a secret. Thread-safe.
 */
public final class AuditLog {
    /** One audit row. */
    public record Entry(long id, Instant at, int tenant, String actor, String action, String detail) {}

    private final DataSource ds;

    public AuditLog(DataSource ds) {
        this.ds = ds;
    }

    public void record(int tenant, String actor, String action, String detail) {
        Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "INSERT INTO audit (tenant_id, actor, action, detail) VALUES (?, ?, ?, ?)")) {
                st.setInt(1, tenant);
                st.setString(2, actor);
                st.setString(3, action);
                st.setString(4, detail);
                return st.executeUpdate();
            }
        });
    }

    /** The latest {@code limit} entries of a tenant, newest first. */
    public List<Entry> recent(int tenant, int limit) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("SELECT id, at, tenant_id, actor, action, detail FROM audit "
                         + "WHERE tenant_id = ? ORDER BY id DESC LIMIT ?")) {
                st.setInt(1, tenant);
                st.setInt(2, limit);
                List<Entry> out = new ArrayList<>();
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Entry(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getInt(3), rs.getString(4),
                                rs.getString(5), rs.getString(6)));
                    }
                }
                return out;
            }
        });
    }
}
