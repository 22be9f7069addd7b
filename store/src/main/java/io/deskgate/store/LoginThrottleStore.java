package io.deskgate.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Login throttling shared by every frontdoor on this store (migration V7): per client address and per user
 * name key, each with a failure window and a doubling block ({@link Limit}), and each user's last few good
 * addresses, which are exempt from the user name's block. Every attempt is reserved before its password is
 * checked, under a row lock in one statement ({@code login_reserve}), so concurrent attempts at any number
 * of frontdoors cannot outrun a limit. One statement per call, each bounded by {@link #QUERY_TIMEOUT} once it
 * has a connection (the pool waits at most 2 s for one), so a hung store fails a login rather than holding it;
 * thread-safe.
 */
public final class LoginThrottleStore {
    /** One key kind's backoff: {@code maxFailures} in {@code window} block for {@code baseBlock}, doubling up to {@code maxBlock}. */
    public record Limit(int maxFailures, Duration window, Duration baseBlock, Duration maxBlock) {
        public Limit {
            Objects.requireNonNull(window, "window");
            Objects.requireNonNull(baseBlock, "baseBlock");
            Objects.requireNonNull(maxBlock, "maxBlock");
            if (maxFailures < 1) throw new IllegalArgumentException("maxFailures must be positive");
            if (window.toMillis() < 1 || baseBlock.toMillis() < 1 || maxBlock.compareTo(baseBlock) < 0) {
                throw new IllegalArgumentException("window and baseBlock must be at least 1 ms and maxBlock >= baseBlock");
            }
        }
    }

    /**
     * A reservation's answer: {@code waitUntil} empty when the password may be checked, else the end of the
     * block that refused it; {@code addressBlocked} when that block is the address's (whatever the user name).
     */
    public record Reservation(Optional<Instant> waitUntil, boolean addressBlocked) {
        public Reservation {
            Objects.requireNonNull(waitUntil, "waitUntil");
        }
    }

    /** The longest one statement may take once it has a connection. */
    public static final Duration QUERY_TIMEOUT = Duration.ofSeconds(2);

    private final DataSource ds;

    public LoginThrottleStore(DataSource ds) {
        this.ds = ds;
    }

    /**
     * Reserves one attempt of {@code userKey} from {@code address} at {@code now}: refused while the address
     * is blocked, or the user name is blocked and {@code address} is not one of the user's known addresses;
     * else it counts as a failure of the address (and of the user name, for an unknown address) until
     * {@link #succeeded}. A refused attempt counts nowhere.
     */
    public Reservation reserve(String userKey, String address, Instant now, Limit user, Limit byAddress) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement(
                         "SELECT wait_until, address_blocked FROM login_reserve(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                st.setQueryTimeout((int) QUERY_TIMEOUT.toSeconds());
                st.setString(1, userKey);
                st.setString(2, address);
                st.setTimestamp(3, Timestamp.from(now));
                set(st, 4, user);
                set(st, 8, byAddress);
                try (ResultSet rs = st.executeQuery()) {
                    rs.next();
                    Timestamp until = rs.getTimestamp(1);
                    return new Reservation(Optional.ofNullable(until).map(Timestamp::toInstant), rs.getBoolean(2));
                }
            }
        });
    }

    /**
     * The reserved attempt succeeded: forgets the user name's failures and blocks (not the address's), and
     * remembers {@code address} as one of the user's last {@code keepAddresses} good addresses.
     */
    public void succeeded(String userKey, String address, Instant now, int keepAddresses) {
        if (keepAddresses < 1) throw new IllegalArgumentException("keepAddresses must be positive");
        Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("SELECT login_succeeded(?, ?, ?, ?)")) {
                st.setQueryTimeout((int) QUERY_TIMEOUT.toSeconds());
                st.setString(1, userKey);
                st.setString(2, address);
                st.setTimestamp(3, Timestamp.from(now));
                st.setInt(4, keepAddresses);
                st.execute();
                return null;
            }
        });
    }

    /** Deletes the rows that no longer hold anything a fresh row would not (window passed, blocks forgiven); how many. */
    public int purgeForgotten(Instant now) {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("DELETE FROM login_throttle WHERE forget_at <= ?")) {
                st.setTimestamp(1, Timestamp.from(now));
                return st.executeUpdate();
            }
        });
    }

    /** Throttle rows held now (for tests and diagnostics). */
    public int rows() {
        return Database.run(() -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement st = c.prepareStatement("SELECT count(*) FROM login_throttle");
                 ResultSet rs = st.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        });
    }

    private static void set(PreparedStatement st, int from, Limit l) throws java.sql.SQLException {
        st.setInt(from, l.maxFailures());
        st.setLong(from + 1, l.window().toMillis());
        st.setLong(from + 2, l.baseBlock().toMillis());
        st.setLong(from + 3, l.maxBlock().toMillis());
    }
}
