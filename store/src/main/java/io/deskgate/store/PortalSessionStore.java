package io.deskgate.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * Portal (login) sessions: one row per login cookie, so that logout revokes the cookie on the server for
 * every frontdoor. A session is live while it is neither revoked nor past its expiry. Thread-safe.
 */
public final class PortalSessionStore {
    private final DataSource ds;

    public PortalSessionStore(DataSource ds) {
        this.ds = ds;
    }

    /** Records a new live session of {@code username} that expires at {@code expiresAt}. */
    public void create(UUID id, int tenant, String username, Instant expiresAt) {
        Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "INSERT INTO portal_sessions (id, tenant_id, username, expires_at) VALUES (?, ?, ?, ?)")) {
                st.setObject(1, id);
                st.setInt(2, tenant);
                st.setString(3, username);
                st.setTimestamp(4, Timestamp.from(expiresAt));
                return st.executeUpdate();
            }
        });
    }

    /** Whether session {@code id} of {@code username} in {@code tenant} exists, is not revoked and has not expired at {@code now}. */
    public boolean isLive(UUID id, int tenant, String username, Instant now) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "SELECT 1 FROM portal_sessions WHERE id = ? AND tenant_id = ? AND username = ? "
                                 + "AND revoked_at IS NULL AND expires_at > ?")) {
                st.setObject(1, id);
                st.setInt(2, tenant);
                st.setString(3, username);
                st.setTimestamp(4, Timestamp.from(now));
                try (ResultSet rs = st.executeQuery()) {
                    return rs.next();
                }
            }
        });
    }

    /**
     * A live login: a portal session that is neither revoked nor expired, with its user's row and its tenant's name,
     * read together in one round trip. Immutable.
     */
    public record LiveLogin(UUID sessionId, User user, String tenantName, Instant expiresAt, List<Pool> pools) {
        public LiveLogin {
            Objects.requireNonNull(sessionId, "sessionId");
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(tenantName, "tenantName");
            Objects.requireNonNull(expiresAt, "expiresAt");
            pools = List.copyOf(pools);
        }
    }

    /**
     * Session {@code id} of {@code username} in {@code tenant} with its user, its tenant and the pools the user is
     * entitled to (by name), when it exists, is not revoked, has not expired at {@code now} and its user still exists;
     * empty otherwise. One query.
     */
    public Optional<LiveLogin> findLive(UUID id, int tenant, String username, Instant now) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "SELECT " + PoolStore.P_COLUMNS + ", u.id, u.tenant_id, u.username, u.password_hash, u.is_admin, u.created_at, "
                                 + "t.name, s.expires_at "
                                 + "FROM portal_sessions s JOIN users u ON u.tenant_id = s.tenant_id AND u.username = s.username "
                                 + "JOIN tenants t ON t.id = s.tenant_id "
                                 + "LEFT JOIN (entitlements e JOIN pools p ON p.tenant_id = e.tenant_id AND p.id = e.pool_id) "
                                 + "ON e.tenant_id = u.tenant_id AND e.user_id = u.id "
                                 + "WHERE s.id = ? AND s.tenant_id = ? AND s.username = ? AND s.revoked_at IS NULL AND s.expires_at > ? "
                                 + "ORDER BY p.name")) {
                st.setObject(1, id);
                st.setInt(2, tenant);
                st.setString(3, username);
                st.setTimestamp(4, Timestamp.from(now));
                try (ResultSet rs = st.executeQuery()) {
                    User u = null;
                    String tenantName = null;
                    Instant expiresAt = null;
                    List<Pool> pools = new java.util.ArrayList<>();
                    while (rs.next()) {
                        if (u == null) {
                            u = new User(rs.getLong(9), rs.getInt(10), rs.getString(11), rs.getString(12), rs.getBoolean(13),
                                    rs.getTimestamp(14).toInstant());
                            tenantName = rs.getString(15);
                            expiresAt = rs.getTimestamp(16).toInstant();
                        }
                        if (rs.getObject(1) != null) pools.add(PoolStore.row(rs));
                    }
                    return u == null ? Optional.<LiveLogin>empty() : Optional.of(new LiveLogin(id, u, tenantName, expiresAt, pools));
                }
            }
        });
    }

    /** Revokes a session; false when it was unknown or already revoked. */
    public boolean revoke(UUID id) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "UPDATE portal_sessions SET revoked_at = now() WHERE id = ? AND revoked_at IS NULL")) {
                st.setObject(1, id);
                return st.executeUpdate() == 1;
            }
        });
    }

    /** Deletes sessions that expired before {@code before}; returns how many. */
    public int purgeExpired(Instant before) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("DELETE FROM portal_sessions WHERE expires_at < ?")) {
                st.setTimestamp(1, Timestamp.from(before));
                return st.executeUpdate();
            }
        });
    }

    /** Sessions neither revoked nor expired at {@code now}, across the fleet (the frontdoor's portal-sessions gauge). */
    public int countLive(Instant now) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "SELECT count(*) FROM portal_sessions WHERE revoked_at IS NULL AND expires_at > ?")) {
                st.setTimestamp(1, Timestamp.from(now));
                try (var rs = st.executeQuery()) {
                    rs.next();
                    return rs.getInt(1);
                }
            }
        });
    }
}
