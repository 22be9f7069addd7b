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

/** Tenants: added and listed; the default tenant exists from the first migration. Thread-safe. */
public final class TenantStore {
    static final String UNIQUE_VIOLATION = "23505";

    private final DataSource ds;

    public TenantStore(DataSource ds) {
        this.ds = ds;
    }

    /**
     * Adds a tenant with the next free id.
     *
     * @throws DeskgateException {@link Status#BAD_REQUEST} for a name that breaks {@link Names}, {@link Status#ALREADY_EXISTS}
     *                           when a tenant has that name
     */
    public Tenant create(String name) {
        Names.require("tenant name", name);
        try (Connection c = ds.getConnection();
             PreparedStatement st = c.prepareStatement("INSERT INTO tenants (name) VALUES (?) RETURNING id, name, created_at")) {
            st.setString(1, name);
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                return row(rs);
            }
        } catch (SQLException e) {
            if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
                throw new DeskgateException(Status.ALREADY_EXISTS, "tenant " + name + " already exists");
            }
            throw new DeskgateException(Status.INTERNAL_ERROR, "store query failed (SQL state " + e.getSQLState() + ")", e);
        }
    }

    /** Every tenant, by id. */
    public List<Tenant> list() {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("SELECT id, name, created_at FROM tenants ORDER BY id");
                 ResultSet rs = st.executeQuery()) {
                List<Tenant> out = new ArrayList<>();
                while (rs.next()) out.add(row(rs));
                return out;
            }
        });
    }

    public Optional<Tenant> find(String name) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("SELECT id, name, created_at FROM tenants WHERE name = ?")) {
                st.setString(1, name);
                try (ResultSet rs = st.executeQuery()) {
                    return rs.next() ? Optional.of(row(rs)) : Optional.empty();
                }
            }
        });
    }

    public Optional<Tenant> findById(int id) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("SELECT id, name, created_at FROM tenants WHERE id = ?")) {
                st.setInt(1, id);
                try (ResultSet rs = st.executeQuery()) {
                    return rs.next() ? Optional.of(row(rs)) : Optional.empty();
                }
            }
        });
    }

    /**
     * The tenant named {@code name}.
     *
     * @throws DeskgateException {@link Status#NOT_FOUND} naming it when there is none
     */
    public Tenant require(String name) {
        return find(name).orElseThrow(() -> new DeskgateException(Status.NOT_FOUND, "no tenant " + shown(name)));
    }

    /** {@code name} when it is a valid name, else a placeholder: messages never quote arbitrary input back. */
    static String shown(String name) {
        return Names.valid(name) ? name : "with that name";
    }

    private static Tenant row(ResultSet rs) throws SQLException {
        return new Tenant(rs.getInt(1), rs.getString(2), rs.getTimestamp(3).toInstant());
    }
}
