package io.deskgate.store;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** Users and their password hashes, per tenant. Thread-safe (each call takes its own connection). */
public final class UserStore {
    private static final String UNIQUE_VIOLATION = "23505";
    private static final String FOREIGN_KEY_VIOLATION = "23503";
    private static final String COLUMNS = "id, tenant_id, username, password_hash, is_admin, created_at";

    /** What {@link #remove} did. */
    public enum Removal { REMOVED, NOT_FOUND, HAS_ACTIVE_SESSION }

    private final DataSource ds;

    public UserStore(DataSource ds) {
        this.ds = ds;
    }

    /**
     * Creates a user.
     *
     * @throws DeskgateException {@link Status#ALREADY_EXISTS} when the tenant already has that user name,
     *                           {@link Status#NOT_FOUND} when there is no such tenant
     */
    public User create(int tenant, String username, String passwordHash, boolean admin) {
        String sql = "INSERT INTO users (tenant_id, username, password_hash, is_admin) VALUES (?, ?, ?, ?) "
                + "RETURNING id, tenant_id, username, password_hash, is_admin, created_at";
        try (Connection c = ds.getConnection(); PreparedStatement st = c.prepareStatement(sql)) {
            st.setInt(1, tenant);
            st.setString(2, username);
            st.setString(3, passwordHash);
            st.setBoolean(4, admin);
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                return row(rs);
            }
        } catch (SQLException e) {
            if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
                throw new DeskgateException(Status.ALREADY_EXISTS, "user " + username + " already exists in this tenant");
            }
            if (FOREIGN_KEY_VIOLATION.equals(e.getSQLState())) throw new DeskgateException(Status.NOT_FOUND, "no tenant " + tenant);
            throw new DeskgateException(Status.INTERNAL_ERROR, "store query failed: " + e.getMessage(), e);
        }
    }

    public Optional<User> find(int tenant, String username) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "SELECT id, tenant_id, username, password_hash, is_admin, created_at FROM users "
                                 + "WHERE tenant_id = ? AND username = ?")) {
                st.setInt(1, tenant);
                st.setString(2, username);
                try (ResultSet rs = st.executeQuery()) {
                    return rs.next() ? Optional.of(row(rs)) : Optional.empty();
                }
            }
        });
    }

    /** The user with row id {@code id}. */
    public Optional<User> findById(long id) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "SELECT id, tenant_id, username, password_hash, is_admin, created_at FROM users WHERE id = ?")) {
                st.setLong(1, id);
                try (ResultSet rs = st.executeQuery()) {
                    return rs.next() ? Optional.of(row(rs)) : Optional.empty();
                }
            }
        });
    }

    /** Replaces a user's password hash; false when there is no such user. */
    public boolean setPassword(int tenant, String username, String passwordHash) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "UPDATE users SET password_hash = ? WHERE tenant_id = ? AND username = ?")) {
                st.setString(1, passwordHash);
                st.setInt(2, tenant);
                st.setString(3, username);
                return st.executeUpdate() == 1;
            }
        });
    }

    /** The users of {@code tenant}, by name. */
    public List<User> list(int tenant) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("SELECT " + COLUMNS + " FROM users WHERE tenant_id = ? ORDER BY username")) {
                st.setInt(1, tenant);
                List<User> out = new ArrayList<>();
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) out.add(row(rs));
                }
                return out;
            }
        });
    }

    /**
     * Removes a user, in one transaction: refused while the user has an active session; otherwise every portal
     * (login) session of theirs is revoked, so that a user created later under the same name never inherits a
     * cookie, and the user goes with their entitlements and ended sessions (the audit trail keeps the history).
     */
    public Removal remove(int tenant, String username) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                try {
                    Removal r = removeIn(c, tenant, username);
                    c.commit();
                    return r;
                } catch (SQLException | RuntimeException e) {
                    c.rollback();
                    throw e;
                } finally {
                    c.setAutoCommit(true);
                }
            }
        });
    }

    private static Removal removeIn(Connection c, int tenant, String username) throws SQLException {
        long id;
        try (PreparedStatement st = c.prepareStatement("SELECT id FROM users WHERE tenant_id = ? AND username = ? FOR UPDATE")) {
            st.setInt(1, tenant);
            st.setString(2, username);
            try (ResultSet rs = st.executeQuery()) {
                if (!rs.next()) return Removal.NOT_FOUND;
                id = rs.getLong(1);
            }
        }
        try (PreparedStatement st = c.prepareStatement("SELECT 1 FROM sessions WHERE user_id = ? AND ended_at IS NULL LIMIT 1")) {
            st.setLong(1, id);
            try (ResultSet rs = st.executeQuery()) {
                if (rs.next()) return Removal.HAS_ACTIVE_SESSION;
            }
        }
        try (PreparedStatement st = c.prepareStatement("UPDATE portal_sessions SET revoked_at = now() "
                + "WHERE tenant_id = ? AND username = ? AND revoked_at IS NULL")) {
            st.setInt(1, tenant);
            st.setString(2, username);
            st.executeUpdate();
        }
        try (PreparedStatement st = c.prepareStatement("DELETE FROM users WHERE id = ?")) {
            st.setLong(1, id);
            st.executeUpdate();
        }
        return Removal.REMOVED;
    }

    private static User row(ResultSet rs) throws SQLException {
        return new User(rs.getLong(1), rs.getInt(2), rs.getString(3), rs.getString(4), rs.getBoolean(5),
                rs.getTimestamp(6).toInstant());
    }
}
