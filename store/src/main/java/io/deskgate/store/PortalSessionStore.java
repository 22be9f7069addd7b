package io.deskgate.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
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
