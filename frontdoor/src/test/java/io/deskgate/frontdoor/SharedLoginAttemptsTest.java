package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.store.Database;
import io.deskgate.store.LoginThrottleStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store's throttle (migration V7, {@link LoginThrottleStore}) decides as the pure {@link LoginThrottle}
 * does: the same random attempts, at the same fake times, get the same answers from both.
 */
class SharedLoginAttemptsTest {
    static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");
    /** A small policy, so that random sequences reach blocks, doubling, the maximum and forgiveness. */
    static final LoginThrottle.Policy POLICY = new LoginThrottle.Policy(3, Duration.ofSeconds(20), Duration.ofSeconds(5),
            Duration.ofSeconds(40), 10_000);
    static final LoginThrottle.Policy LOOSE = new LoginThrottle.Policy(1_000_000, Duration.ofSeconds(1), Duration.ofSeconds(1),
            Duration.ofSeconds(1), 10_000);

    @TempDir static Path dir;
    static Database db;

    @BeforeAll
    static void start() throws Exception {
        db = Database.embedded(dir);
    }

    @AfterAll
    static void stop() {
        if (db != null) db.close();
    }

    @Test
    void shouldAnswerAsThePureThrottleForAnAddressUnderRandomAttempts() {
        // Every attempt names a new user, whose limit is loose: only the address's limit decides.
        LoginAttempts shared = new LoginAttempts(new LoginThrottleStore(db.dataSource()), LOOSE, POLICY);
        LoginThrottle pure = new LoginThrottle(POLICY);
        Random random = new Random(7);
        Instant now = T0;
        for (int i = 0; i < 300; i++) {
            now = now.plusMillis(random.nextInt(4) == 0 ? random.nextInt(60_000) : random.nextInt(2_000));
            Optional<Duration> expected = pure.reserve("10.9.0.1", now);
            assertThat(shared.reserve("t/user-" + i, "10.9.0.1", now)).as("attempt %d at %s", i, now).isEqualTo(expected);
        }
    }

    @Test
    void shouldAnswerAsThePureThrottleForAUserNameUnderRandomAttemptsAndSuccesses() {
        // Every attempt comes from a new address, whose limit is loose: only the user name's limit decides.
        LoginAttempts shared = new LoginAttempts(new LoginThrottleStore(db.dataSource()), POLICY, LOOSE);
        LoginThrottle pure = new LoginThrottle(POLICY);
        Random random = new Random(11);
        Instant now = T0;
        for (int i = 0; i < 300; i++) {
            now = now.plusMillis(random.nextInt(4) == 0 ? random.nextInt(60_000) : random.nextInt(2_000));
            String address = "10.8." + (i / 250) + "." + (i % 250);
            Optional<Duration> expected = pure.reserve("t/zoe", now);
            assertThat(shared.reserve("t/zoe", address, now)).as("attempt %d at %s", i, now).isEqualTo(expected);
            if (expected.isEmpty() && random.nextInt(10) == 0) {
                pure.success("t/zoe");
                shared.succeeded("t/zoe", address, now);
            }
        }
    }

    @Test
    void attemptsAreReservedBeforeTheyAreCheckedSoAtMostTheLimitGetThrough() {
        LoginAttempts a = new LoginAttempts(new LoginThrottleStore(db.dataSource()), POLICY, LoginAttempts.ADDRESS_POLICY);
        int admitted = 0;
        for (int i = 0; i < 200; i++) {
            if (a.reserve("t/alice", "10.0.0.1", T0).isEmpty()) admitted++;
        }
        assertThat(admitted).as("none of them has finished its check yet").isEqualTo(POLICY.maxFailures());
        assertThat(a.addressBlocked("10.0.0.1", T0)).as("refused attempts take nothing from the address").isEmpty();
    }

    @Test
    void aUsersKnownAddressesAreExemptFromTheUserNameBlockButNotFromTheirOwn() {
        LoginAttempts a = new LoginAttempts(new LoginThrottleStore(db.dataSource()), POLICY, LoginAttempts.ADDRESS_POLICY);
        assertThat(a.reserve("t/amy", "10.0.1.1", T0)).isEmpty();
        a.succeeded("t/amy", "10.0.1.1", T0);
        for (int i = 0; i < POLICY.maxFailures(); i++) assertThat(a.reserve("t/amy", "10.6.6.7", T0)).isEmpty();
        assertThat(a.reserve("t/amy", "10.6.6.7", T0)).as("the stranger").isPresent();
        assertThat(a.reserve("t/amy", "10.0.1.2", T0)).as("an unknown address").isPresent();
        assertThat(a.reserve("t/amy", "10.0.1.1", T0)).as("alice's own address").isEmpty();
        for (int i = 1; i < LoginAttempts.ADDRESS_POLICY.maxFailures(); i++) a.reserve("t/amy", "10.0.1.1", T0);
        assertThat(a.reserve("t/amy", "10.0.1.1", T0)).as("the address limit still holds").isPresent();
    }
}
