package io.deskgate.frontdoor;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Failure backoff for logins, per key (a username, a client address): after {@link Policy#maxFailures}
 * failures within {@link Policy#window}, the key is blocked for {@link Policy#baseBlock}, doubling with
 * every further block up to {@link Policy#maxBlock} (forgiven after a quiet {@link Policy#maxBlock}). A
 * success clears the key. At most
 * {@link Policy#maxKeys} keys are tracked; the least recently touched is forgotten first.
 *
 * <p>Pure: time is an argument, nothing blocks. Not thread-safe; its owner serialises the calls.
 */
final class LoginThrottle {
    /** The backoff's parameters. */
    record Policy(int maxFailures, Duration window, Duration baseBlock, Duration maxBlock, int maxKeys) {
        static final Policy DEFAULT = new Policy(5, Duration.ofMinutes(1), Duration.ofSeconds(30),
                Duration.ofMinutes(15), 10_000);

        Policy {
            if (maxFailures < 1 || maxKeys < 1) throw new IllegalArgumentException("maxFailures and maxKeys must be positive");
            if (window.isNegative() || window.isZero() || baseBlock.isNegative() || baseBlock.isZero()
                    || maxBlock.compareTo(baseBlock) < 0) {
                throw new IllegalArgumentException("window and baseBlock must be positive and maxBlock >= baseBlock");
            }
        }
    }

    /** One key's record: failures in the current window, the block it is under, how many blocks so far. */
    private static final class Record {
        Instant windowStart;
        int failures;
        Instant blockedUntil = Instant.MIN;
        int blocks;

        Record(Instant now) {
            this.windowStart = now;
        }
    }

    private final Policy policy;
    private final LinkedHashMap<String, Record> records;

    LoginThrottle(Policy policy) {
        this.policy = policy;
        this.records = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Record> eldest) {
                return size() > policy.maxKeys();
            }
        };
    }

    /** How much longer {@code key} is blocked at {@code now}; empty when it may try. */
    Optional<Duration> blocked(String key, Instant now) {
        Record r = records.get(key);
        if (r == null || !now.isBefore(r.blockedUntil)) return Optional.empty();
        return Optional.of(Duration.between(now, r.blockedUntil));
    }

    /**
     * Takes an attempt of {@code key} before its password is checked: empty when it may try (and the
     * attempt now counts as a failure until {@link #success} clears it), else how much longer it is
     * blocked. Concurrent attempts therefore cannot outrun the limit: at most {@link Policy#maxFailures}
     * are let through per window.
     */
    Optional<Duration> reserve(String key, Instant now) {
        Optional<Duration> wait = blocked(key, now);
        if (wait.isEmpty()) failure(key, now);
        return wait;
    }

    /** Counts a failed login of {@code key}; blocks it when that makes too many in the window. */
    void failure(String key, Instant now) {
        Record r = records.computeIfAbsent(key, k -> new Record(now));
        // Blocks are forgiven once the key has behaved for the longest block.
        if (r.blocks > 0 && !now.isBefore(r.blockedUntil.plus(policy.maxBlock()))) r.blocks = 0;
        if (!now.isBefore(r.windowStart.plus(policy.window()))) {
            r.windowStart = now;
            r.failures = 0;
        }
        r.failures++;
        if (r.failures >= policy.maxFailures()) {
            r.blockedUntil = now.plus(blockFor(r.blocks));
            r.blocks++;
            r.failures = 0;
            r.windowStart = now;
        }
    }

    /** A successful login of {@code key}: forgets its failures and its blocks. */
    void success(String key) {
        records.remove(key);
    }

    /** Keys tracked now (bounded by {@link Policy#maxKeys}). */
    int tracked() {
        return records.size();
    }

    private Duration blockFor(int previousBlocks) {
        Duration d = policy.baseBlock();
        for (int i = 0; i < previousBlocks && d.compareTo(policy.maxBlock()) < 0; i++) d = d.multipliedBy(2);
        return d.compareTo(policy.maxBlock()) > 0 ? policy.maxBlock() : d;
    }
}
