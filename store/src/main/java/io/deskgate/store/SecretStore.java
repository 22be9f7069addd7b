package io.deskgate.store;

import io.deskgate.common.Secrets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import javax.sql.DataSource;

/**
 * Fleet-wide secrets (token key, stream master secret), created at random on first use and shared by
 * every role through the store. Thread-safe and safe across processes: concurrent first calls agree
 * on one value. Values are never logged.
 */
public final class SecretStore {
    private final DataSource ds;

    public SecretStore(DataSource ds) {
        this.ds = ds;
    }

    /**
     * The secret called {@code name}: {@code bytes} random bytes stored on the first call, the stored
     * value on every later call (whatever {@code bytes} then says).
     */
    public byte[] getOrCreate(String name, int bytes) {
        if (bytes < 1) throw new IllegalArgumentException("secret size must be positive");
        return Database.run(() -> {
            try (Connection c = ds.getConnection()) {
                try (PreparedStatement st = c.prepareStatement(
                        "INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING")) {
                    st.setString(1, name);
                    st.setBytes(2, Secrets.randomBytes(bytes));
                    st.executeUpdate();
                }
                try (PreparedStatement st = c.prepareStatement("SELECT value FROM secrets WHERE name = ?")) {
                    st.setString(1, name);
                    try (ResultSet rs = st.executeQuery()) {
                        if (!rs.next()) throw new IllegalStateException("secret " + name + " vanished after insert");
                        return rs.getBytes(1);
                    }
                }
            }
        });
    }
}
