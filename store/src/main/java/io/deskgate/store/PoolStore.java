package io.deskgate.store;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** Pools of desktops, per tenant; a pool's name is unique within its tenant. Thread-safe. */
public final class PoolStore {
    /** Most agents plus labels one pool may name. */
    public static final int MAX_MEMBERS = 256;
    private static final String COLUMNS = "id, tenant_id, name, agents, labels, assignment, reset_on_logout, created_at";
    /** {@link #COLUMNS} of a query that names {@code pools} as {@code p}. */
    static final String P_COLUMNS = "p.id, p.tenant_id, p.name, p.agents, p.labels, p.assignment, p.reset_on_logout, p.created_at";

    private final DataSource ds;

    public PoolStore(DataSource ds) {
        this.ds = ds;
    }

    /**
     * Adds a pool to {@code tenant}.
     *
     * @param agents agent ids; with {@code labels}, at least one and at most {@value #MAX_MEMBERS}, each following {@link Names}
     * @throws DeskgateException {@link Status#BAD_REQUEST} for an invalid name, agent id or label or no members at
     *                           all, {@link Status#ALREADY_EXISTS} when the tenant has a pool of that name,
     *                           {@link Status#NOT_FOUND} when there is no such tenant
     */
    public Pool create(int tenant, String name, List<String> agents, List<String> labels, Pool.Assignment assignment,
                       boolean resetOnLogout) {
        Names.require("pool name", name);
        List<String> a = members("agent id", agents);
        List<String> l = members("label", labels);
        if (a.isEmpty() && l.isEmpty()) {
            throw new DeskgateException(Status.BAD_REQUEST, "pool " + name + " must name at least one agent or label");
        }
        if (a.size() + l.size() > MAX_MEMBERS) {
            throw new DeskgateException(Status.BAD_REQUEST, "pool " + name + " names more than " + MAX_MEMBERS + " agents and labels");
        }
        try (Connection c = ds.getConnection();
             PreparedStatement st = c.prepareStatement("INSERT INTO pools (tenant_id, name, agents, labels, assignment, "
                     + "reset_on_logout) VALUES (?, ?, ?, ?, ?, ?) RETURNING " + COLUMNS)) {
            st.setInt(1, tenant);
            st.setString(2, name);
            st.setArray(3, c.createArrayOf("text", a.toArray()));
            st.setArray(4, c.createArrayOf("text", l.toArray()));
            st.setString(5, assignment.wire());
            st.setBoolean(6, resetOnLogout);
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                return row(rs);
            }
        } catch (SQLException e) {
            if (TenantStore.UNIQUE_VIOLATION.equals(e.getSQLState())) {
                throw new DeskgateException(Status.ALREADY_EXISTS, "pool " + name + " already exists in this tenant");
            }
            if ("23503".equals(e.getSQLState())) throw new DeskgateException(Status.NOT_FOUND, "no tenant " + tenant);
            throw new DeskgateException(Status.INTERNAL_ERROR, "store query failed (SQL state " + e.getSQLState() + ")", e);
        }
    }

    /** The pools of {@code tenant}, by name. */
    public List<Pool> list(int tenant) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("SELECT " + COLUMNS + " FROM pools WHERE tenant_id = ? ORDER BY name")) {
                st.setInt(1, tenant);
                return rows(st);
            }
        });
    }

    public Optional<Pool> find(int tenant, String name) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("SELECT " + COLUMNS + " FROM pools WHERE tenant_id = ? AND name = ?")) {
                st.setInt(1, tenant);
                st.setString(2, name);
                return rows(st).stream().findFirst();
            }
        });
    }

    /** Each distinct member, in the given order, checked against {@link Names}. */
    private static List<String> members(String what, List<String> names) {
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (String n : names) out.add(Names.require(what, n));
        return List.copyOf(out);
    }

    static List<Pool> rows(PreparedStatement st) throws SQLException {
        List<Pool> out = new ArrayList<>();
        try (ResultSet rs = st.executeQuery()) {
            while (rs.next()) out.add(row(rs));
        }
        return out;
    }

    /** The pool in columns 1-8 of {@code rs} ({@link #COLUMNS}' order). */
    static Pool row(ResultSet rs) throws SQLException {
        return new Pool(rs.getLong(1), rs.getInt(2), rs.getString(3), texts(rs.getArray(4)), texts(rs.getArray(5)),
                Pool.Assignment.fromWire(rs.getString(6)), rs.getBoolean(7), rs.getTimestamp(8).toInstant());
    }

    private static List<String> texts(Array a) throws SQLException {
        return List.of((String[]) a.getArray());
    }
}
