package io.deskgate.gateway;

import io.deskgate.metrics.RoleMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * The gateway's meters (docs/operations.md, "Metrics"): datagrams and their bytes in and out, datagrams dropped by
 * reason, WebSocket attaches by outcome, messages relayed to browsers, sessions and connections. Incremented where the
 * count happens ({@link SessionTable}, {@link StreamUpgradeHandler}, {@link Gateway}); thread-safe.
 */
public final class GatewayMetrics {
    /** Why a datagram was dropped: the {@code reason} tag. */
    enum Drop {
        /** Not a stream datagram (too short, wrong magic or version). */
        MALFORMED,
        /** A datagram travelling up, from a browser's direction, sent to the gateway. */
        WRONG_DIRECTION,
        /** For an unknown session while the table is full. */
        TABLE_FULL,
        /** For an unknown session and failing its key's authentication. */
        AUTH_FAILURE,
        /** Authentic enough to reach the session but refused by it (bad authentication, out-of-window sequence). */
        REJECTED,
        /** Authentic but a replay from an address that is not the session's engine. */
        REPLAY
    }

    /** How a browser's WebSocket attach ended: the {@code outcome} tag. */
    enum Attach { ATTACHED, INVALID_TOKEN, TOKEN_REUSED, TOKENS_FULL, TOKENS_UNAVAILABLE, TABLE_FULL, UPGRADE_FAILED }

    private final RoleMetrics metrics;
    private final Counter datagramsIn;
    private final Counter datagramsOut;
    private final Counter bytesIn;
    private final Counter bytesOut;
    private final Counter toBrowsers;
    private final Map<Drop, Counter> drops = new EnumMap<>(Drop.class);
    private final Map<Attach, Counter> attaches = new EnumMap<>(Attach.class);

    public GatewayMetrics(RoleMetrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        datagramsIn = metrics.counter("datagrams", "datagrams received from or sent to engines", "direction", "in");
        datagramsOut = metrics.counter("datagrams", "datagrams received from or sent to engines", "direction", "out");
        bytesIn = metrics.counter("datagram.bytes", "bytes of the datagrams received from or sent to engines", "direction", "in");
        bytesOut = metrics.counter("datagram.bytes", "bytes of the datagrams received from or sent to engines", "direction", "out");
        toBrowsers = metrics.counter("browser.messages", "stream messages relayed to attached browsers");
        for (Drop d : Drop.values()) drops.put(d, metrics.counter("datagrams.dropped", "datagrams dropped, by reason", "reason", d.name()));
        for (Attach a : Attach.values()) attaches.put(a, metrics.counter("attaches", "browser WebSocket attaches, by outcome", "outcome", a.name()));
    }

    /** For a gateway nobody scrapes (tests, embedding). */
    public static GatewayMetrics unread() {
        return new GatewayMetrics(RoleMetrics.unread("gateway"));
    }

    /** Registers the gauges of a started gateway. */
    void watch(Gateway g) {
        Gauge.builder(metrics.name("sessions"), g, Gateway::sessionCount).description("sessions held now").register(metrics.registry());
        Gauge.builder(metrics.name("connections"), g, Gateway::connectionCount).description("TCP connections open now")
                .register(metrics.registry());
        FunctionCounter.builder(metrics.name("connections.refused"), g, Gateway::refusedConnections)
                .description("TCP connections refused past max-connections").register(metrics.registry());
    }

    void datagramIn(int bytes) {
        datagramsIn.increment();
        bytesIn.increment(bytes);
    }

    void datagramOut(int bytes) {
        datagramsOut.increment();
        bytesOut.increment(bytes);
    }

    void toBrowser(int messages) { toBrowsers.increment(messages); }

    void dropped(Drop reason) { drops.get(reason).increment(); }

    void attach(Attach outcome) { attaches.get(outcome).increment(); }

    /** An error of {@code kind} (deskgate_errors_total{role="gateway"}). */
    void error(String kind) { metrics.error(kind); }
}
