package io.deskgate.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The V7 tables and functions: login throttling and spent stream tokens shared by every frontdoor and gateway. */
class SharedThrottleStoresTest {
    static final LoginThrottleStore.Limit USER = new LoginThrottleStore.Limit(5, Duration.ofMinutes(1),
            Duration.ofSeconds(30), Duration.ofMinutes(15));
    static final LoginThrottleStore.Limit ADDRESS = new LoginThrottleStore.Limit(20, Duration.ofMinutes(1),
            Duration.ofSeconds(30), Duration.ofMinutes(15));
    static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

    @TempDir static Path dir;
    static Database db;
    static LoginThrottleStore throttle;

    @BeforeAll
    static void start() throws Exception {
        db = Database.embedded(dir);
        throttle = new LoginThrottleStore(db.dataSource());
    }

    @AfterAll
    static void stop() {
        if (db != null) db.close();
    }

    private static Optional<Instant> reserve(String user, String address, Instant now) {
        return throttle.reserve(user, address, now, USER, ADDRESS).waitUntil();
    }

    @Test
    void shouldBlockAUserNameAfterFiveFailuresAndCountNoRefusedAttempt() {
        for (int i = 0; i < 5; i++) assertThat(reserve("t/alice", "10.0.0.1", T0.plusSeconds(i))).isEmpty();
        Optional<Instant> wait = reserve("t/alice", "10.0.0.2", T0.plusSeconds(5));
        assertThat(wait).contains(T0.plusSeconds(4).plusSeconds(30));
        // Refused attempts took nothing from 10.0.0.2's own limit: 20 more from it are let through for other names.
        for (int i = 0; i < 20; i++) assertThat(reserve("t/user" + i, "10.0.0.2", T0.plusSeconds(6))).isEmpty();
        assertThat(throttle.reserve("t/other", "10.0.0.2", T0.plusSeconds(7), USER, ADDRESS).addressBlocked()).isTrue();
    }

    @Test
    void shouldDoubleTheBlockUpToTheMaximumAndForgiveAfterAQuietMaximum() {
        Instant now = T0;
        List<Duration> blocks = new ArrayList<>();
        for (int round = 0; round < 7; round++) {
            for (int i = 0; i < 5; i++) assertThat(reserve("t/bob", "10.1.0." + round, now)).isEmpty();
            Instant until = reserve("t/bob", "10.1.0." + round, now).orElseThrow();
            blocks.add(Duration.between(now, until));
            now = until;
        }
        assertThat(blocks).containsExactly(Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(2),
                Duration.ofMinutes(4), Duration.ofMinutes(8), Duration.ofMinutes(15), Duration.ofMinutes(15));
        Instant later = now.plus(Duration.ofMinutes(15));
        for (int i = 0; i < 5; i++) assertThat(reserve("t/bob", "10.1.1.1", later)).isEmpty();
        assertThat(reserve("t/bob", "10.1.1.1", later)).as("forgiven: the base block again").contains(later.plusSeconds(30));
    }

    @Test
    void shouldExemptTheUsersLastEightGoodAddressesFromTheUserNamesBlock() {
        for (int i = 0; i < 9; i++) {
            assertThat(reserve("t/carol", "10.2.0." + i, T0.plusSeconds(i))).isEmpty();
            throttle.succeeded("t/carol", "10.2.0." + i, T0.plusSeconds(i), 8);
        }
        for (int i = 0; i < 5; i++) assertThat(reserve("t/carol", "10.2.9.9", T0.plusSeconds(10))).isEmpty();
        assertThat(reserve("t/carol", "10.2.9.8", T0.plusSeconds(11))).as("a stranger").isPresent();
        assertThat(reserve("t/carol", "10.2.0.8", T0.plusSeconds(11))).as("her latest address").isEmpty();
        assertThat(reserve("t/carol", "10.2.0.1", T0.plusSeconds(11))).as("her eighth latest").isEmpty();
        assertThat(reserve("t/carol", "10.2.0.0", T0.plusSeconds(11))).as("forgotten: nine ago").isPresent();
    }

    @Test
    void shouldClearTheUserNamesFailuresOnSuccessButNotTheAddresss() {
        for (int i = 0; i < 4; i++) assertThat(reserve("t/dave", "10.3.0.1", T0)).isEmpty();
        throttle.succeeded("t/dave", "10.3.0.1", T0, 8);
        for (int i = 0; i < 4; i++) assertThat(reserve("t/dave", "10.3.0.2", T0)).isEmpty();
        assertThat(reserve("t/dave", "10.3.0.2", T0)).as("the 5th failure since the success").isEmpty();
        assertThat(reserve("t/dave", "10.3.0.2", T0)).isPresent();
    }

    @Test
    void shouldLetAtMostTheLimitThroughWhenTwoHundredReserveAtOnce() throws Exception {
        List<Callable<Boolean>> calls = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String address = "10.4." + (i % 50) + ".1";
            calls.add(() -> reserve("t/erin", address, T0).isEmpty());
        }
        int admitted = 0;
        try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
            for (Future<Boolean> f : pool.invokeAll(calls)) if (f.get()) admitted++;
        }
        assertThat(admitted).isEqualTo(USER.maxFailures());
    }

    @Test
    void shouldPruneOnlyRowsThatHoldNothing() {
        Instant t1 = T0.plus(Duration.ofDays(10)); // past every other test's rows, which are pruned first
        throttle.purgeForgotten(t1);
        assertThat(reserve("t/frank", "10.5.0.1", t1)).isEmpty();
        assertThat(throttle.rows()).isEqualTo(2);
        assertThat(throttle.purgeForgotten(t1.plusSeconds(30))).as("still in its window").isZero();
        assertThat(throttle.rows()).isEqualTo(2);
        assertThat(throttle.purgeForgotten(t1.plus(Duration.ofMinutes(1)))).isEqualTo(2);
        assertThat(reserve("t/frank", "10.5.0.1", t1.plus(Duration.ofMinutes(1)))).isEmpty();
    }

    @Test
    void shouldSpendAStreamTokenOnceAcrossEveryInstanceAndPruneItAfterExpiry() {
        SpentTokenStore gateway1 = new SpentTokenStore(db.dataSource());
        SpentTokenStore gateway2 = new SpentTokenStore(db.dataSource());
        Instant expiry = Instant.now().plusSeconds(60);
        assertThat(gateway1.spend("nonce-1", expiry)).isTrue();
        assertThat(gateway2.spend("nonce-1", expiry)).isFalse();
        assertThat(gateway1.spend("nonce-1", expiry)).isFalse();
        assertThat(gateway2.spend("nonce-2", expiry)).isTrue();
        assertThat(gateway1.purgeExpired(expiry)).isZero();
        assertThat(gateway1.purgeExpired(expiry.plusSeconds(1))).isGreaterThanOrEqualTo(2);
    }
}
