package io.deskgate.engine;

import io.deskgate.metrics.RoleMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * The engine's meters (docs/operations.md, "Metrics"): instances live now (the tally it registers), launches by outcome
 * ({@code ok}, {@code no_capacity}, {@code unreachable}, {@code unauthorized}, {@code timeout}, {@code internal},
 * {@code interrupted}, {@code invalid}), frames, datagrams and bytes sent to gateways, and the end-to-end lag of acknowledged frames (a
 * summary). Every instance counts into the engine's one object; thread-safe.
 */
public final class EngineMetrics {
    private final RoleMetrics metrics;
    private final ConcurrentMap<String, Counter> launches = new ConcurrentHashMap<>();
    private final Counter frames;
    private final Counter datagrams;
    private final Counter bytes;
    private final Timer lag;

    public EngineMetrics(RoleMetrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        frames = metrics.counter("frames.sent", "frames sent to gateways (each ends with FRAME_END)");
        datagrams = metrics.counter("datagrams.sent", "stream datagrams sent to gateways");
        bytes = metrics.counter("bytes.sent", "bytes of the stream datagrams sent to gateways");
        lag = Timer.builder(metrics.name("lag")).description("end-to-end lag of each acknowledged frame (FRAME_END to FRAME_ACK)")
                .register(metrics.registry());
        for (String o : java.util.List.of("ok", "no_capacity", "unreachable", "unauthorized", "timeout", "internal", "interrupted",
                "invalid")) {
            launches.computeIfAbsent(o, k -> metrics.counter("launches", "transcoding instance launches, by outcome", "outcome", k));
        }
    }

    /** For an engine nobody scrapes (tests, embedding). */
    public static EngineMetrics unread() {
        return new EngineMetrics(RoleMetrics.unread("engine"));
    }

    /** Registers the gauges of a started engine. */
    void watch(Engine e) {
        Gauge.builder(metrics.name("instances"), e, Engine::connections).description("transcoding instances live now (the tally)")
                .register(metrics.registry());
    }

    /** One Launch ended with {@code outcome} (a fixed word). */
    void launched(String outcome) {
        launches.computeIfAbsent(outcome.toLowerCase(Locale.ROOT),
                k -> metrics.counter("launches", "transcoding instance launches, by outcome", "outcome", k)).increment();
    }

    void frameSent() { frames.increment(); }

    void datagramSent(int length) {
        datagrams.increment();
        bytes.increment(length);
    }

    /** Every lag the instances' flow control measures. */
    LagObserver lag() {
        return (lagMicros, averageLagMicros) -> lag.record(lagMicros, TimeUnit.MICROSECONDS);
    }

    /** An error of {@code kind} (deskgate_errors_total{role="engine"}). */
    void error(String kind) { metrics.error(kind); }
}
