package io.deskgate.store;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import javax.sql.DataSource;

/** Users and their password hashes, per tenant. Thread-safe (each call takes its own connection). */
public final class UserStore {
    private static final String UNIQUE_VIOLATION = "23505";

    private final DataSource ds;

    public UserStore(DataSource ds) {
        this.ds = ds;
    }

    /**
     * Creates a user.
     *
     * @throws DeskgateException {@link Status#BAD_REQUEST} when the tenant already has that user name
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
                throw new DeskgateException(Status.BAD_REQUEST, "user " + username + " already exists in tenant " + tenant);
            }
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

    private static User row(ResultSet rs) throws SQLException {
        return new User(rs.getLong(1), rs.getInt(2), rs.getString(3), rs.getString(4), rs.getBoolean(5),
                rs.getTimestamp(6).toInstant());
    }
}
