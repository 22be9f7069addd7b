package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.store.User;
import io.deskgate.store.UserStore;
import io.deskgate.tokens.TokenClaims;
import io.deskgate.tokens.TokenSigner;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Authenticator.login remembers tokens that verified, and still refuses them once expired; tampered ones never pass. */
class VerifiedLoginTokensTest {
    static final Instant T0 = Instant.parse("2026-12-01T12:00:00Z");

    /** A clock the test moves. */
    static final class SteppedClock extends Clock {
        final AtomicReference<Instant> now = new AtomicReference<>(T0);
        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return now.get(); }
    }

    @Test
    void shouldAnswerARememberedTokenUntilItExpiresAndNeverATamperedOne() {
        SteppedClock clock = new SteppedClock();
        byte[] key = new byte[32];
        Authenticator auth = new Authenticator(new UserStore(null), new PasswordHasher(), new TokenSigner(key), clock,
                Duration.ofMinutes(5), 1);
        User alice = new User(1, 1, "alice", "$argon2id$x", false, T0);
        UUID session = UUID.randomUUID();
        String token = auth.loginToken(alice, session, auth.loginExpiry());

        assertThat(auth.login(token)).map(TokenClaims::sessionId).contains(session.toString());
        assertThat(auth.login(token)).as("remembered").map(TokenClaims::subject).contains("alice");
        String tampered = token.substring(0, token.length() - 2) + (token.endsWith("A") ? "BA" : "AA");
        assertThat(auth.login(tampered)).isEmpty();
        assertThat(auth.login(new TokenSigner(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}).sign(new TokenClaims(TokenClaims.LOGIN, "alice", 1, session.toString(),
                T0.plusSeconds(300))))).as("signed with another key").isEmpty();

        clock.now.set(T0.plus(Duration.ofMinutes(5)));
        assertThat(auth.login(token)).as("at its expiry, though remembered").isEmpty();
        clock.now.set(T0.plus(Duration.ofMinutes(4)));
        assertThat(auth.login(token)).as("verified afresh (forgotten when it expired)").isPresent();
    }
}
