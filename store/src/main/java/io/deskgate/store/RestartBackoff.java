package io.deskgate.store;

import java.time.Duration;
import java.util.Optional;

/**
 * When to try again after a failed restart: {@code first}, doubling up to {@code max}, for at most
 * {@code attempts} tries in all. Pure; validated when built.
 *
 * @param attempts restarts tried before giving up (at least 1)
 * @param first    wait before the first restart
 * @param max      longest wait between two restarts
 */
public record RestartBackoff(int attempts, Duration first, Duration max) {
    /** 5 tries over about 15 s: 0.5, 1, 2, 4 and 8 s apart. */
    public static final RestartBackoff DEFAULT = new RestartBackoff(5, Duration.ofMillis(500), Duration.ofSeconds(8));

    public RestartBackoff {
        if (attempts < 1) throw new IllegalArgumentException("attempts must be at least 1, not " + attempts);
        if (first.isNegative() || max.compareTo(first) < 0) {
            throw new IllegalArgumentException("need 0 <= first <= max, not " + first + " and " + max);
        }
    }

    /** The wait before try number {@code attempt} (1-based), or empty when no try is left. */
    public Optional<Duration> delayBefore(int attempt) {
        if (attempt < 1 || attempt > attempts) return Optional.empty();
        Duration d = first;
        for (int i = 1; i < attempt && d.compareTo(max) < 0; i++) d = d.multipliedBy(2);
        return Optional.of(d.compareTo(max) > 0 ? max : d);
    }
}
