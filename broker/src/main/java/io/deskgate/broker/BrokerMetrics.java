package io.deskgate.broker;

import io.deskgate.metrics.RoleMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * The broker's meters (docs/operations.md, "Metrics"): FindDesktop latency by outcome (a Prometheus histogram), placements
 * by outcome ({@code placed} and each refusal: {@code no_desktop}, {@code no_concentrator}, {@code deadline}, {@code limit},
 * {@code not_found}, {@code held_by_another}, {@code closing}, {@code invalid}, {@code error}), and desktop initiations
 * by result ({@code won}, {@code lost_race}, {@code refused}, {@code unreachable}). Thread-safe.
 */
public final class BrokerMetrics {
    private final RoleMetrics metrics;
    private final ConcurrentMap<String, Counter> placements = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Timer> latencies = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Counter> initiations = new ConcurrentHashMap<>();

    public BrokerMetrics(RoleMetrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        // Every outcome present from the start (at 0), so that a rate over it is defined before the first one happens.
        for (String o : java.util.List.of("placed", "closing", "invalid", "error")) placementCounter(o);
        for (Placement.Reason r : Placement.Reason.values()) placementCounter(r.name().toLowerCase(Locale.ROOT));
        for (Placement.InitiateResult r : Placement.InitiateResult.values()) initiationCounter(r);
    }

    private Counter placementCounter(String outcome) {
        return placements.computeIfAbsent(outcome, k -> metrics.counter("placements", "FindDesktop requests, by outcome", "outcome", k));
    }

    private Counter initiationCounter(Placement.InitiateResult result) {
        return initiations.computeIfAbsent(result.name().toLowerCase(Locale.ROOT),
                k -> metrics.counter("initiations", "InitiateSession calls on offered desktops, by result", "result", k));
    }

    /** For a broker nobody scrapes (tests, embedding). */
    public static BrokerMetrics unread() {
        return new BrokerMetrics(RoleMetrics.unread("broker"));
    }

    /** One FindDesktop ended with {@code outcome} (a fixed word) after {@code nanos}. */
    void placement(String outcome, long nanos) {
        String o = outcome.toLowerCase(Locale.ROOT);
        placementCounter(o).increment();
        latencies.computeIfAbsent(o, k -> Timer.builder(metrics.name("find.desktop")).description("FindDesktop latency, by outcome")
                .tag("outcome", k).publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(30)).register(metrics.registry())).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** One InitiateSession call on an offered desktop came back {@code result} ({@code lost_race}: another session won it). */
    void initiated(Placement.InitiateResult result) {
        initiationCounter(result).increment();
    }

    /** An error of {@code kind} (deskgate_errors_total{role="broker"}). */
    void error(String kind) { metrics.error(kind); }
}
