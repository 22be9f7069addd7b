package io.deskgate.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/** Sessions (unique sockets) and their engine, gateway and desktop. Thread-safe. */
public final class SessionStore {
    private static final String COLUMNS =
            "id, tenant_id, user_id, desktop_id, engine_id, gateway_id, instance_id, state, created_at, ended_at";

    private final DataSource ds;

    public SessionStore(DataSource ds) {
        this.ds = ds;
    }

    /** Records a started session in state {@link SessionRow#ACTIVE}. */
    public SessionRow create(UUID id, int tenant, long userId, String desktopId, String engineId, String gatewayId,
                             String instanceId) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "INSERT INTO sessions (id, tenant_id, user_id, desktop_id, engine_id, gateway_id, instance_id, state) "
                                 + "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING " + COLUMNS)) {
                st.setObject(1, id);
                st.setInt(2, tenant);
                st.setLong(3, userId);
                st.setString(4, desktopId);
                st.setString(5, engineId);
                st.setString(6, gatewayId);
                st.setString(7, instanceId);
                st.setString(8, SessionRow.ACTIVE);
                try (ResultSet rs = st.executeQuery()) {
                    rs.next();
                    return row(rs);
                }
            }
        });
    }

    /**
     * Records a started session in state {@link SessionRow#ACTIVE} and its audit row ({@link AuditLog}: {@code actor},
     * {@code action}, {@code detail}, which must hold no secret) in one statement: one round trip and one commit,
     * both rows or neither. {@code frontdoorId} is the registry id of the frontdoor that launched it ("" for none;
     * {@link #activeByFrontdoor}).
     */
    public SessionRow createAudited(UUID id, int tenant, long userId, String desktopId, String engineId, String gatewayId,
                                    String instanceId, String frontdoorId, String actor, String action, String detail) {
        java.util.Objects.requireNonNull(frontdoorId, "frontdoorId");
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "WITH s AS (INSERT INTO sessions (id, tenant_id, user_id, desktop_id, engine_id, gateway_id, instance_id, "
                                 + "state, frontdoor_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING " + COLUMNS + "), "
                                 + "a AS (INSERT INTO audit (tenant_id, actor, action, detail) SELECT tenant_id, ?, ?, ? FROM s) "
                                 + "SELECT " + COLUMNS + " FROM s")) {
                st.setObject(1, id);
                st.setInt(2, tenant);
                st.setLong(3, userId);
                st.setString(4, desktopId);
                st.setString(5, engineId);
                st.setString(6, gatewayId);
                st.setString(7, instanceId);
                st.setString(8, SessionRow.ACTIVE);
                st.setString(9, frontdoorId);
                st.setString(10, actor);
                st.setString(11, action);
                st.setString(12, detail);
                try (ResultSet rs = st.executeQuery()) {
                    rs.next();
                    return row(rs);
                }
            }
        });
    }

    /**
     * Records that frontdoor {@code frontdoorId} launched session {@code id} (its registry id); false when the session
     * is unknown. A later call replaces the name.
     */
    public boolean launchedBy(UUID id, String frontdoorId) {
        java.util.Objects.requireNonNull(frontdoorId, "frontdoorId");
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("UPDATE sessions SET frontdoor_id = ? WHERE id = ?")) {
                st.setString(1, frontdoorId);
                st.setObject(2, id);
                return st.executeUpdate() == 1;
            }
        });
    }

    /**
     * The sessions that have not ended, counted by the frontdoor that launched them ({@link #launchedBy}); sessions
     * no frontdoor claimed are left out.
     */
    public java.util.Map<String, Integer> activeByFrontdoor() {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("SELECT frontdoor_id, count(*) FROM sessions"
                         + " WHERE ended_at IS NULL AND frontdoor_id <> '' GROUP BY frontdoor_id ORDER BY frontdoor_id")) {
                java.util.Map<String, Integer> out = new java.util.LinkedHashMap<>();
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) out.put(rs.getString(1), rs.getInt(2));
                }
                return out;
            }
        });
    }

    /** Marks an active session ended; false when it was unknown or already ended. */
    public boolean markEnded(UUID id) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "UPDATE sessions SET state = ?, ended_at = now() WHERE id = ? AND ended_at IS NULL")) {
                st.setString(1, SessionRow.ENDED);
                st.setObject(2, id);
                return st.executeUpdate() == 1;
            }
        });
    }

    public Optional<SessionRow> findById(UUID id) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("SELECT " + COLUMNS + " FROM sessions WHERE id = ?")) {
                st.setObject(1, id);
                try (ResultSet rs = st.executeQuery()) {
                    return rs.next() ? Optional.of(row(rs)) : Optional.empty();
                }
            }
        });
    }

    /** The user's sessions that have not ended, oldest first. */
    public List<SessionRow> listActiveByUser(long userId) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("SELECT " + COLUMNS
                         + " FROM sessions WHERE user_id = ? AND ended_at IS NULL ORDER BY created_at, id")) {
                st.setLong(1, userId);
                List<SessionRow> out = new ArrayList<>();
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) out.add(row(rs));
                }
                return out;
            }
        });
    }

    /** Every session that has not ended, of every user, oldest first (for administrators). */
    public List<SessionRow> listActive() {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("SELECT " + COLUMNS
                         + " FROM sessions WHERE ended_at IS NULL ORDER BY created_at, id")) {
                List<SessionRow> out = new ArrayList<>();
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) out.add(row(rs));
                }
                return out;
            }
        });
    }

    private static SessionRow row(ResultSet rs) throws SQLException {
        Timestamp ended = rs.getTimestamp(10);
        return new SessionRow(rs.getObject(1, UUID.class), rs.getInt(2), rs.getLong(3), rs.getString(4),
                rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getTimestamp(9).toInstant(),
                Optional.ofNullable(ended).map(Timestamp::toInstant));
    }
}
