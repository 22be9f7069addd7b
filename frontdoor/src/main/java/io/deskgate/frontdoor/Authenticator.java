package io.deskgate.frontdoor;

import io.deskgate.common.Secrets;
import io.deskgate.store.User;
import io.deskgate.store.UserStore;
import io.deskgate.tokens.TokenClaims;
import io.deskgate.tokens.TokenSigner;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Checks credentials and login tokens. A login attempt costs one Argon2id verification whether or not
 * the user exists, so neither the answer nor its timing tells which part was wrong. At most
 * {@link #MAX_CONCURRENT_VERIFICATIONS} verifications run at once (each costs tens of MiB and a core);
 * a login that cannot start one within {@link #VERIFICATION_WAIT} is refused with {@link Throttled#busy}.
 * Thread-safe.
 */
final class Authenticator {
    static final int MAX_CONCURRENT_VERIFICATIONS = 2 * Runtime.getRuntime().availableProcessors();
    static final Duration VERIFICATION_WAIT = Duration.ofSeconds(2);

    /** How many verified login tokens {@link #login} remembers. */
    static final int MAX_VERIFIED_LOGINS = 10_000;

    private final Semaphore verifications;
    private final ConcurrentHashMap<String, TokenClaims> verifiedLogins = new ConcurrentHashMap<>();
    private final AtomicLong verificationsRun = new AtomicLong();
    private final UserStore users;
    private final PasswordHasher hasher;
    private final TokenSigner signer;
    private final Clock clock;
    private final Duration loginTtl;
    /** Verified against when the user is unknown, to spend the same time as a real verification. */
    private final String decoyHash;

    Authenticator(UserStore users, PasswordHasher hasher, TokenSigner signer, Clock clock, Duration loginTtl) {
        this(users, hasher, signer, clock, loginTtl, MAX_CONCURRENT_VERIFICATIONS);
    }

    Authenticator(UserStore users, PasswordHasher hasher, TokenSigner signer, Clock clock, Duration loginTtl,
                  int maxConcurrentVerifications) {
        this.verifications = new Semaphore(maxConcurrentVerifications, true);
        this.users = users;
        this.hasher = hasher;
        this.signer = signer;
        this.clock = clock;
        this.loginTtl = loginTtl;
        this.decoyHash = hasher.hash(Secrets.randomPassword(20));
    }

    /**
     * The user when {@code password} is theirs; empty for an unknown user or a wrong password.
     *
     * @throws Throttled when no verification slot frees up within {@link #VERIFICATION_WAIT}
     */
    Optional<User> verify(int tenant, String username, String password) {
        return verify(Optional.of(tenant), username, password);
    }

    /**
     * As {@link #verify(int, String, String)} for a tenant that may not exist (empty: the login named an unknown
     * tenant): then the decoy is verified, so an unknown tenant costs what an unknown user or a wrong password
     * costs, and answers the same.
     */
    Optional<User> verify(Optional<Integer> tenant, String username, String password) {
        try {
            if (!verifications.tryAcquire(VERIFICATION_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw Throttled.busy(VERIFICATION_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Throttled.busy(VERIFICATION_WAIT);
        }
        try {
            verificationsRun.incrementAndGet();
            Optional<User> user = tenant.isEmpty() ? Optional.empty() : users.find(tenant.get(), username);
            boolean ok = hasher.verify(password, user.map(User::passwordHash).orElse(decoyHash));
            return ok ? user : Optional.empty();
        } finally {
            verifications.release();
        }
    }

    /** Password verifications started so far (for the {@code deskgate.frontdoor.password.checks} counter). */
    long verifications() { return verificationsRun.get(); }

    /** A login token for portal session {@code portalSession} (its id travels in the token's session field). */
    String loginToken(User user, UUID portalSession, Instant expiresAt) {
        return signer.sign(new TokenClaims(TokenClaims.LOGIN, user.username(), user.tenant(), portalSession.toString(),
                expiresAt));
    }

    /** When a login token issued now expires. */
    Instant loginExpiry() { return clock.instant().plus(loginTtl); }

    /**
     * The claims of a valid, unexpired login token; empty for a missing, tampered or expired one. Whether its
     * portal session is still live is the caller's question (the store knows). A token whose signature verified
     * once is remembered (its text cannot verify differently later), so a browser's every call costs a map
     * lookup and the expiry check instead of an HMAC; at most {@link #MAX_VERIFIED_LOGINS} are remembered, and
     * the memory is emptied when full. Only tokens that verified are remembered: garbage costs no memory.
     */
    Optional<TokenClaims> login(String token) {
        Instant now = clock.instant();
        TokenClaims known = verifiedLogins.get(token);
        if (known != null) {
            if (now.isBefore(known.expiresAt())) return Optional.of(known);
            verifiedLogins.remove(token);
            return Optional.empty();
        }
        Optional<TokenClaims> claims = signer.verify(token, TokenClaims.LOGIN, now);
        if (claims.isPresent()) {
            if (verifiedLogins.size() >= MAX_VERIFIED_LOGINS) verifiedLogins.clear();
            verifiedLogins.put(token, claims.get());
        }
        return claims;
    }

    String streamToken(String username, int tenant, String sessionId, Duration ttl) {
        return signer.sign(new TokenClaims(TokenClaims.STREAM, username, tenant, sessionId, clock.instant().plus(ttl)));
    }

    Duration loginTtl() { return loginTtl; }
}
