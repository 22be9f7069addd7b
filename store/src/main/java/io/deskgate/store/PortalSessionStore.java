package io.deskgate.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
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
    public record LiveLogin(UUID sessionId, User user, String tenantName, Instant expiresAt) {
        public LiveLogin {
            Objects.requireNonNull(sessionId, "sessionId");
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(tenantName, "tenantName");
            Objects.requireNonNull(expiresAt, "expiresAt");
        }
    }

    /**
     * Session {@code id} of {@code username} in {@code tenant} with its user and tenant, when it exists, is not revoked,
     * has not expired at {@code now} and its user still exists; empty otherwise. One query.
     */
    public Optional<LiveLogin> findLive(UUID id, int tenant, String username, Instant now) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "SELECT u.id, u.tenant_id, u.username, u.password_hash, u.is_admin, u.created_at, t.name, p.expires_at "
                                 + "FROM portal_sessions p JOIN users u ON u.tenant_id = p.tenant_id AND u.username = p.username "
                                 + "JOIN tenants t ON t.id = p.tenant_id "
                                 + "WHERE p.id = ? AND p.tenant_id = ? AND p.username = ? AND p.revoked_at IS NULL AND p.expires_at > ?")) {
                st.setObject(1, id);
                st.setInt(2, tenant);
                st.setString(3, username);
                st.setTimestamp(4, Timestamp.from(now));
                try (ResultSet rs = st.executeQuery()) {
                    if (!rs.next()) return Optional.empty();
                    User u = new User(rs.getLong(1), rs.getInt(2), rs.getString(3), rs.getString(4), rs.getBoolean(5),
                            rs.getTimestamp(6).toInstant());
                    return Optional.of(new LiveLogin(id, u, rs.getString(7), rs.getTimestamp(8).toInstant()));
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
