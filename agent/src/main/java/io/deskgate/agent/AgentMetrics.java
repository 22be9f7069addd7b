package io.deskgate.agent;

import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import io.deskgate.metrics.RoleMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Supplier;

/**
 * The agent's meters (docs/operations.md, "Metrics"): its desktops by state (a gauge per state, read from the agent's
 * published snapshot at each scrape) and InitiateSession calls by outcome ({@code accepted}, or the lifecycle's refusal:
 * {@code aborted} for a lost compare-and-set, {@code failed_precondition}, {@code not_found}, {@code invalid_argument};
 * {@code unavailable} while closing). Thread-safe.
 */
public final class AgentMetrics {
    private final RoleMetrics metrics;
    private final ConcurrentMap<String, Counter> initiations = new ConcurrentHashMap<>();

    public AgentMetrics(RoleMetrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        initiated("accepted", 0);
        initiated("unavailable", 0);
        for (DesktopLifecycle.Rejection r : DesktopLifecycle.Rejection.values()) initiated(r.name(), 0);
    }

    /** For an agent nobody scrapes (tests, embedding). */
    public static AgentMetrics unread() {
        return new AgentMetrics(RoleMetrics.unread("agent"));
    }

    /** Registers a gauge per desktop state over {@code desktops} (the agent's published snapshot). */
    void watch(Supplier<List<Desktop>> desktops) {
        for (DesktopState s : DesktopState.values()) {
            if (s == DesktopState.UNRECOGNIZED || s == DesktopState.DESKTOP_STATE_UNSPECIFIED) continue;
            Gauge.builder(metrics.name("desktops"), () -> desktops.get().stream().filter(d -> d.getState() == s).count())
                    .description("desktops by state").tag("state", s.name().toLowerCase(Locale.ROOT)).register(metrics.registry());
        }
    }

    /** One InitiateSession answered with {@code outcome} (a fixed word). */
    void initiated(String outcome) {
        initiated(outcome, 1);
    }

    private void initiated(String outcome, int n) {
        initiations.computeIfAbsent(outcome.toLowerCase(Locale.ROOT),
                k -> metrics.counter("initiations", "InitiateSession calls, by outcome", "outcome", k)).increment(n);
    }

    /** An error of {@code kind} (deskgate_errors_total{role="agent"}). */
    void error(String kind) { metrics.error(kind); }
}
