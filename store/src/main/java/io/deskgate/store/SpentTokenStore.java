package io.deskgate.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import javax.sql.DataSource;

/**
 * Spent STREAM tokens shared by every gateway on this store (migration V7): a token's id (its signed nonce)
 * is inserted once, with its expiry, and the primary key refuses a second insert from any gateway, so a
 * token attaches one browser in the whole fleet. Rows are pruned once the token has expired (its signature
 * check refuses it from then on). One statement per call, each bounded by {@link #QUERY_TIMEOUT} (and the
 * pool's connection timeout); thread-safe.
 */
public final class SpentTokenStore {
    /** The longest one insert may take once it has a connection; the pool waits at most 2 s for one. */
    public static final Duration QUERY_TIMEOUT = Duration.ofSeconds(2);

    private final DataSource ds;

    public SpentTokenStore(DataSource ds) {
        this.ds = ds;
    }

    /**
     * Marks the token with id {@code tokenId}, expiring at {@code expiresAt}, as spent.
     *
     * @return true on its first use anywhere (it is spent now), false when it was spent before
     * @throws io.deskgate.common.DeskgateException when the store does not answer in time
     */
    public boolean spend(String tokenId, Instant expiresAt) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "INSERT INTO spent_stream_tokens (token_id, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING")) {
                st.setQueryTimeout((int) QUERY_TIMEOUT.toSeconds());
                st.setString(1, tokenId);
                st.setTimestamp(2, Timestamp.from(expiresAt));
                return st.executeUpdate() == 1;
            }
        });
    }

    /** Deletes the ids of tokens that expired before {@code before}; returns how many. */
    public int purgeExpired(Instant before) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("DELETE FROM spent_stream_tokens WHERE expires_at < ?")) {
                st.setQueryTimeout((int) QUERY_TIMEOUT.toSeconds());
                st.setTimestamp(1, Timestamp.from(before));
                return st.executeUpdate();
            }
        });
    }
}
