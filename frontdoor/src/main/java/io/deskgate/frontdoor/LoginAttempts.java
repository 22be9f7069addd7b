package io.deskgate.frontdoor;

import io.deskgate.store.LoginThrottleStore;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The login policy: who may spend a password check now, decided in the store so that every frontdoor on it
 * applies one limit ({@link LoginThrottleStore}). Every attempt is reserved before the password is verified,
 * so concurrent guesses, at one frontdoor or spread over many, cannot outrun the limits.
 * <ul>
 *   <li>Per client address, strict: {@link #ADDRESS_POLICY}, whatever the user name.</li>
 *   <li>Per user name, {@link #USERNAME_POLICY}, but only for addresses the user has not logged in from
 *       successfully: the last {@link #KNOWN_ADDRESSES_PER_USER} addresses of each user's successful logins
 *       are exempt from the user name's block (still subject to their own address limit), so that a
 *       stranger's failures do not lock the real user out everywhere.</li>
 * </ul>
 * A success clears the user name's failures (not the address's). The semantics are those of the pure
 * {@link LoginThrottle}, applied by the store under a row lock. One store statement per reservation and one
 * per success; {@link #addressBlocked} asks no store at all: it answers from the address blocks this frontdoor
 * has seen the store report (an address block is never lifted early, so remembering one until its end refuses
 * nothing the store would admit; a block set by another frontdoor is learnt by the first reservation here).
 * Thread-safe; every call but {@link #addressBlocked} blocks on the store (a store failure propagates).
 */
final class LoginAttempts {
    /** 5 failures a minute block a user name (for unknown addresses): slows guessing one account's password. */
    static final LoginThrottle.Policy USERNAME_POLICY = LoginThrottle.Policy.DEFAULT;
    /** A client address may fail more often (users behind one NAT share it) before it is blocked. */
    static final LoginThrottle.Policy ADDRESS_POLICY = new LoginThrottle.Policy(20, Duration.ofMinutes(1),
            Duration.ofSeconds(30), Duration.ofMinutes(15), 10_000);
    static final int KNOWN_ADDRESSES_PER_USER = 8;
    /** Address blocks remembered locally for {@link #addressBlocked}; the least recently touched is forgotten first. */
    static final int MAX_REMEMBERED_ADDRESS_BLOCKS = 10_000;

    private final LoginThrottleStore store;
    private final LoginThrottleStore.Limit byUsername;
    private final LoginThrottleStore.Limit byAddress;
    /** Address -> the end of its block, as the store last reported it. */
    private final LinkedHashMap<String, Instant> addressBlocks;

    LoginAttempts(LoginThrottleStore store) {
        this(store, USERNAME_POLICY, ADDRESS_POLICY);
    }

    LoginAttempts(LoginThrottleStore store, LoginThrottle.Policy byUsername, LoginThrottle.Policy byAddress) {
        this.store = store;
        this.byUsername = limit(byUsername);
        this.byAddress = limit(byAddress);
        this.addressBlocks = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Instant> eldest) {
                return size() > MAX_REMEMBERED_ADDRESS_BLOCKS;
            }
        };
    }

    /**
     * Whether {@code address} is blocked at {@code now} whatever the user name, as far as this frontdoor has
     * seen: checked before a body is parsed, without a store call.
     */
    synchronized Optional<Duration> addressBlocked(String address, Instant now) {
        Instant until = addressBlocks.get(address);
        if (until == null) return Optional.empty();
        if (!now.isBefore(until)) {
            addressBlocks.remove(address);
            return Optional.empty();
        }
        return Optional.of(Duration.between(now, until));
    }

    /**
     * Reserves one attempt of {@code userKey} from {@code address}: empty when the password may be checked
     * (the attempt counts as failed until {@link #succeeded}), else how long to wait. A refused attempt
     * takes nothing from either limit.
     */
    Optional<Duration> reserve(String userKey, String address, Instant now) {
        LoginThrottleStore.Reservation r = store.reserve(userKey, address, now, byUsername, byAddress);
        if (r.waitUntil().isEmpty()) return Optional.empty();
        Instant until = r.waitUntil().get();
        if (r.addressBlocked()) {
            synchronized (this) {
                addressBlocks.put(address, until);
            }
        }
        Duration wait = Duration.between(now, until);
        return Optional.of(wait.isNegative() ? Duration.ZERO : wait);
    }

    /** The reserved attempt succeeded: forgets the user name's failures and remembers the address as the user's. */
    void succeeded(String userKey, String address, Instant now) {
        store.succeeded(userKey, address, now, KNOWN_ADDRESSES_PER_USER);
    }

    /** Forgets the store's throttle rows that hold nothing any more (run by the frontdoor's purge). */
    int purge(Instant now) {
        return store.purgeForgotten(now);
    }

    private static LoginThrottleStore.Limit limit(LoginThrottle.Policy p) {
        return new LoginThrottleStore.Limit(p.maxFailures(), p.window(), p.baseBlock(), p.maxBlock());
    }
}
