package io.deskgate.store;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Which user may use which pool. A user and a pool are named within one tenant, and every query compares the
 * tenant with the user and the pool (the schema's foreign keys do too), so an entitlement never crosses tenants.
 * Thread-safe.
 */
public final class EntitlementStore {
    private final DataSource ds;

    public EntitlementStore(DataSource ds) {
        this.ds = ds;
    }

    /**
     * Entitles {@code username} of {@code tenant} to the tenant's pool {@code pool}.
     *
     * @return true when the entitlement is new, false when it already existed
     * @throws DeskgateException {@link Status#NOT_FOUND} naming the user or the pool that the tenant does not have
     */
    public boolean entitle(int tenant, String username, String pool) {
        int added = Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("INSERT INTO entitlements (tenant_id, user_id, pool_id) "
                         + "SELECT u.tenant_id, u.id, p.id FROM users u JOIN pools p ON p.tenant_id = u.tenant_id "
                         + "WHERE u.tenant_id = ? AND u.username = ? AND p.name = ? ON CONFLICT DO NOTHING")) {
                st.setInt(1, tenant);
                st.setString(2, username);
                st.setString(3, pool);
                return st.executeUpdate();
            }
        });
        if (added == 1) return true;
        requireBoth(tenant, username, pool);
        return false;
    }

    /**
     * Takes the entitlement back.
     *
     * @return true when there was one, false when the user was not entitled
     * @throws DeskgateException {@link Status#NOT_FOUND} naming the user or the pool that the tenant does not have
     */
    public boolean revoke(int tenant, String username, String pool) {
        int removed = Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("DELETE FROM entitlements e USING users u, pools p "
                         + "WHERE e.tenant_id = ? AND u.tenant_id = e.tenant_id AND p.tenant_id = e.tenant_id "
                         + "AND e.user_id = u.id AND e.pool_id = p.id AND u.username = ? AND p.name = ?")) {
                st.setInt(1, tenant);
                st.setString(2, username);
                st.setString(3, pool);
                return st.executeUpdate();
            }
        });
        if (removed == 1) return true;
        requireBoth(tenant, username, pool);
        return false;
    }

    /** The pools {@code username} of {@code tenant} is entitled to, by name; empty for an unknown user. */
    public List<Pool> pools(int tenant, String username) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("SELECT " + PoolStore.P_COLUMNS + " FROM pools p "
                         + "JOIN entitlements e ON e.tenant_id = p.tenant_id AND e.pool_id = p.id "
                         + "JOIN users u ON u.tenant_id = e.tenant_id AND u.id = e.user_id "
                         + "WHERE p.tenant_id = ? AND u.username = ? ORDER BY p.name")) {
                st.setInt(1, tenant);
                st.setString(2, username);
                return PoolStore.rows(st);
            }
        });
    }

    /** A user and the pools they are entitled to, by name, as one reading. */
    public record UserPools(User user, List<Pool> pools) {
        public UserPools {
            java.util.Objects.requireNonNull(user, "user");
            pools = List.copyOf(pools);
        }
    }

    /**
     * The user {@code username} of {@code tenant} with the pools they are entitled to (by name), in one statement:
     * {@link UserStore#find} and {@link #pools} in one round trip. Empty for an unknown user.
     */
    public Optional<UserPools> userWithPools(int tenant, String username) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("SELECT " + PoolStore.P_COLUMNS
                         + ", u.id, u.tenant_id, u.username, u.password_hash, u.is_admin, u.created_at FROM users u "
                         + "LEFT JOIN (entitlements e JOIN pools p ON p.tenant_id = e.tenant_id AND p.id = e.pool_id) "
                         + "ON e.tenant_id = u.tenant_id AND e.user_id = u.id "
                         + "WHERE u.tenant_id = ? AND u.username = ? ORDER BY p.name")) {
                st.setInt(1, tenant);
                st.setString(2, username);
                User user = null;
                List<Pool> pools = new ArrayList<>();
                try (java.sql.ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        if (user == null) {
                            user = new User(rs.getLong(9), rs.getInt(10), rs.getString(11), rs.getString(12), rs.getBoolean(13),
                                    rs.getTimestamp(14).toInstant());
                        }
                        if (rs.getObject(1) != null) pools.add(PoolStore.row(rs));
                    }
                }
                return user == null ? Optional.<UserPools>empty() : Optional.of(new UserPools(user, pools));
            }
        });
    }

    /** The pool {@code pool} of {@code tenant} when {@code username} of the same tenant is entitled to it. */
    public Optional<Pool> entitled(int tenant, String username, String pool) {
        return pools(tenant, username).stream().filter(p -> p.name().equals(pool)).findFirst();
    }

    /** The names of the users of {@code tenant} entitled to its pool {@code pool}, sorted. */
    public List<String> users(int tenant, String pool) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("SELECT u.username FROM users u "
                         + "JOIN entitlements e ON e.tenant_id = u.tenant_id AND e.user_id = u.id "
                         + "JOIN pools p ON p.tenant_id = e.tenant_id AND p.id = e.pool_id "
                         + "WHERE u.tenant_id = ? AND p.name = ? ORDER BY u.username")) {
                st.setInt(1, tenant);
                st.setString(2, pool);
                List<String> out = new ArrayList<>();
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) out.add(rs.getString(1));
                }
                return out;
            }
        });
    }

    private void requireBoth(int tenant, String username, String pool) {
        boolean user = exists("SELECT 1 FROM users WHERE tenant_id = ? AND username = ?", tenant, username);
        if (!user) throw new DeskgateException(Status.NOT_FOUND, "no user " + TenantStore.shown(username) + " in this tenant");
        boolean p = exists("SELECT 1 FROM pools WHERE tenant_id = ? AND name = ?", tenant, pool);
        if (!p) throw new DeskgateException(Status.NOT_FOUND, "no pool " + TenantStore.shown(pool) + " in this tenant");
    }

    private boolean exists(String sql, int tenant, String name) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection(); PreparedStatement st = c.prepareStatement(sql)) {
                st.setInt(1, tenant);
                st.setString(2, name);
                try (ResultSet rs = st.executeQuery()) {
                    return rs.next();
                }
            }
        });
    }
}
