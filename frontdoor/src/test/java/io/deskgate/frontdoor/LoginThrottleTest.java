package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.store.UserStore;
import io.deskgate.tokens.TokenSigner;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class LoginThrottleTest {
    private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");
    private final LoginThrottle.Policy policy = new LoginThrottle.Policy(5, Duration.ofMinutes(1),
            Duration.ofSeconds(30), Duration.ofMinutes(4), 3);

    @Test
    void fifthFailureWithinAMinuteBlocksForTheBaseDelay() {
        LoginThrottle t = new LoginThrottle(policy);
        for (int i = 0; i < 4; i++) t.failure("alice", T0.plusSeconds(i));
        assertThat(t.blocked("alice", T0.plusSeconds(4))).isEmpty();
        t.failure("alice", T0.plusSeconds(4));
        assertThat(t.blocked("alice", T0.plusSeconds(4))).contains(Duration.ofSeconds(30));
        assertThat(t.blocked("alice", T0.plusSeconds(33))).contains(Duration.ofSeconds(1));
        assertThat(t.blocked("alice", T0.plusSeconds(34))).isEmpty();
        assertThat(t.blocked("bob", T0.plusSeconds(4))).as("other keys are not affected").isEmpty();
    }

    @Test
    void failuresSpreadOverMoreThanTheWindowDoNotBlock() {
        LoginThrottle t = new LoginThrottle(policy);
        for (int i = 0; i < 10; i++) t.failure("alice", T0.plusSeconds(20L * i));
        assertThat(t.blocked("alice", T0.plusSeconds(200))).isEmpty();
    }

    @Test
    void eachFurtherBlockDoublesUpToTheMaximumAndASuccessClearsIt() {
        LoginThrottle t = new LoginThrottle(policy);
        Instant now = T0;
        Duration[] expected = {Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(120),
                Duration.ofSeconds(240), Duration.ofSeconds(240)};
        for (Duration d : expected) {
            for (int i = 0; i < 5; i++) t.failure("alice", now);
            assertThat(t.blocked("alice", now)).contains(d);
            now = now.plus(d);
        }
        t.success("alice");
        for (int i = 0; i < 5; i++) t.failure("alice", now);
        assertThat(t.blocked("alice", now)).contains(Duration.ofSeconds(30));
    }

    @Test
    void blocksAreForgivenAfterAQuietMaximumBlock() {
        LoginThrottle t = new LoginThrottle(policy);
        for (int i = 0; i < 5; i++) t.failure("alice", T0);
        for (int i = 0; i < 5; i++) t.failure("alice", T0.plusSeconds(30));
        assertThat(t.blocked("alice", T0.plusSeconds(30))).contains(Duration.ofSeconds(60));
        Instant later = T0.plusSeconds(90).plus(Duration.ofMinutes(4));
        for (int i = 0; i < 5; i++) t.failure("alice", later);
        assertThat(t.blocked("alice", later)).contains(Duration.ofSeconds(30));
    }

    @Test
    void tracksAtMostMaxKeysForgettingTheLeastRecentlyTouched() {
        LoginThrottle t = new LoginThrottle(policy);
        for (int i = 0; i < 5; i++) t.failure("alice", T0);
        for (int k = 0; k < 10; k++) t.failure("user" + k, T0);
        assertThat(t.tracked()).isEqualTo(3);
        assertThat(t.blocked("alice", T0)).as("evicted").isEmpty();
    }

    @Test
    void loginThatFindsNoFreeVerificationSlotIsRefusedAsBusy() {
        Authenticator auth = new Authenticator(new UserStore(null), new PasswordHasher(),
                new TokenSigner(new byte[32]), Clock.systemUTC(), Duration.ofHours(1), 0);
        long start = System.nanoTime();
        assertThatThrownBy(() -> auth.verify(1, "alice", "pw"))
                .isInstanceOfSatisfying(Throttled.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(503);
                    assertThat(e.retryAfterSeconds()).isEqualTo(Authenticator.VERIFICATION_WAIT.toSeconds());
                });
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Authenticator.VERIFICATION_WAIT);
    }
}
