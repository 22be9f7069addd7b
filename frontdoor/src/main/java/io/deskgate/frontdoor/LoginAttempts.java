package io.deskgate.frontdoor;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;

/**
 * The login policy: who may spend a password check now. Every attempt is reserved before the password is
 * verified, so concurrent guesses cannot outrun the limits.
 * <ul>
 *   <li>Per client address, strict: {@link #ADDRESS_POLICY}, whatever the user name.</li>
 *   <li>Per user name, {@link #USERNAME_POLICY}, but only for addresses the user has not logged in from
 *       successfully: the last {@link #KNOWN_ADDRESSES_PER_USER} addresses of each user's successful logins
 *       are exempt from the user name's block (still subject to their own address limit), so that a
 *       stranger's failures do not lock the real user out everywhere.</li>
 * </ul>
 * A success clears the user name's failures (not the address's). Pure: time is an argument, nothing
 * blocks. Thread-safe (every method is synchronized; each call is short).
 */
final class LoginAttempts {
    /** 5 failures a minute block a user name (for unknown addresses): slows guessing one account's password. */
    static final LoginThrottle.Policy USERNAME_POLICY = LoginThrottle.Policy.DEFAULT;
    /** A client address may fail more often (users behind one NAT share it) before it is blocked. */
    static final LoginThrottle.Policy ADDRESS_POLICY = new LoginThrottle.Policy(20, Duration.ofMinutes(1),
            Duration.ofSeconds(30), Duration.ofMinutes(15), 10_000);
    static final int KNOWN_ADDRESSES_PER_USER = 8;
    static final int MAX_USERS_WITH_KNOWN_ADDRESSES = 10_000;

    private final LoginThrottle byUsername;
    private final LoginThrottle byAddress;
    /** User name key -> its recent good addresses, least recently used first. */
    private final LinkedHashMap<String, LinkedHashSet<String>> knownAddresses;

    LoginAttempts() {
        this(new LoginThrottle(USERNAME_POLICY), new LoginThrottle(ADDRESS_POLICY));
    }

    LoginAttempts(LoginThrottle byUsername, LoginThrottle byAddress) {
        this.byUsername = byUsername;
        this.byAddress = byAddress;
        this.knownAddresses = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, LinkedHashSet<String>> eldest) {
                return size() > MAX_USERS_WITH_KNOWN_ADDRESSES;
            }
        };
    }

    /** Whether {@code address} is blocked at {@code now} whatever the user name: checked before a body is parsed. */
    synchronized Optional<Duration> addressBlocked(String address, Instant now) {
        return byAddress.blocked(address, now);
    }

    /**
     * Reserves one attempt of {@code userKey} from {@code address}: empty when the password may be checked
     * (the attempt counts as failed until {@link #succeeded}), else how long to wait. A refused attempt
     * takes nothing from either limit.
     */
    synchronized Optional<Duration> reserve(String userKey, String address, Instant now) {
        Optional<Duration> wait = byAddress.blocked(address, now);
        if (wait.isPresent()) return wait;
        boolean known = isKnown(userKey, address);
        if (!known) {
            wait = byUsername.blocked(userKey, now);
            if (wait.isPresent()) return wait;
            byUsername.failure(userKey, now);
        }
        byAddress.failure(address, now);
        return Optional.empty();
    }

    /** The reserved attempt succeeded: forgets the user name's failures and remembers the address as the user's. */
    synchronized void succeeded(String userKey, String address) {
        byUsername.success(userKey);
        LinkedHashSet<String> known = knownAddresses.computeIfAbsent(userKey, k -> new LinkedHashSet<>());
        known.remove(address);
        known.add(address);
        while (known.size() > KNOWN_ADDRESSES_PER_USER) known.remove(known.iterator().next());
    }

    private boolean isKnown(String userKey, String address) {
        LinkedHashSet<String> known = knownAddresses.get(userKey);
        return known != null && known.contains(address);
    }
}
