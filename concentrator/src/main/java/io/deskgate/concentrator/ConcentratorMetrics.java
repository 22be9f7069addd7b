package io.deskgate.concentrator;

import io.deskgate.metrics.RoleMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import java.util.Locale;
import java.util.Objects;

/**
 * The concentrator's meters (docs/operations.md, "Metrics"): desktops held and agents connected (gauges), FindAvailable
 * served by kind ({@code single}, {@code batch}, {@code invalid}), answers sent after the caller's deadline had passed,
 * and the reports and connections the directory refused, by reason. Thread-safe.
 */
public final class ConcentratorMetrics {
    private final RoleMetrics metrics;
    private final Counter single;
    private final Counter batch;
    private final Counter invalid;
    private final Counter late;

    public ConcentratorMetrics(RoleMetrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        single = metrics.counter("find.available", "FindAvailable calls served, by kind", "kind", "single");
        batch = metrics.counter("find.available", "FindAvailable calls served, by kind", "kind", "batch");
        invalid = metrics.counter("find.available", "FindAvailable calls served, by kind", "kind", "invalid");
        late = metrics.counter("answers.after.deadline", "FindAvailable answers sent after the caller's deadline had passed");
    }

    /** For a concentrator nobody scrapes (tests, embedding). */
    public static ConcentratorMetrics unread() {
        return new ConcentratorMetrics(RoleMetrics.unread("concentrator"));
    }

    /** Registers the gauges of a started concentrator. */
    void watch(Concentrator c) {
        Gauge.builder(metrics.name("desktops.held"), c, Concentrator::load).description("desktops held now")
                .register(metrics.registry());
        Gauge.builder(metrics.name("agents.connected"), c, Concentrator::agents).description("agents connected now")
                .register(metrics.registry());
        for (DesktopDirectory.Rejection r : DesktopDirectory.Rejection.values()) {
            FunctionCounter.builder(metrics.name("rejections"), c, x -> x.rejected(r))
                    .description("agent connections and reports refused, by reason").tag("reason", r.name().toLowerCase(Locale.ROOT))
                    .register(metrics.registry());
        }
    }

    /** One FindAvailable answered; {@code late} when the caller's deadline had passed by then. */
    void served(boolean batched, boolean late) {
        (batched ? batch : single).increment();
        if (late) this.late.increment();
    }

    void refused() { invalid.increment(); }

    /** An error of {@code kind} (deskgate_errors_total{role="concentrator"}). */
    void error(String kind) { metrics.error(kind); }
}
