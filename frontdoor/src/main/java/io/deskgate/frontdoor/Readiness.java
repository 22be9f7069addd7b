package io.deskgate.frontdoor;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the frontdoor depends on and whether each is up: a component is up while its last successful probe
 * is younger than {@code maxAge} and no probe has failed since. A probe that hangs therefore reads as down
 * once {@code maxAge} has passed. Pure: time is an argument. Thread-safe.
 */
final class Readiness {
    static final String STORE = "store";
    static final String BROKER = "broker";

    private final List<String> components;
    private final Duration maxAge;
    /** Component -> time of its last successful probe, or {@link Instant#MIN} after a failure or before any. */
    private final Map<String, Instant> lastOk = new ConcurrentHashMap<>();

    Readiness(List<String> components, Duration maxAge) {
        if (components.isEmpty()) throw new IllegalArgumentException("no components");
        if (maxAge.isNegative() || maxAge.isZero()) throw new IllegalArgumentException("maxAge must be positive");
        this.components = List.copyOf(components);
        this.maxAge = maxAge;
        for (String c : components) lastOk.put(c, Instant.MIN);
    }

    static String engine(String id) { return "engine:" + id; }

    static String gateway(String id) { return "gateway:" + id; }

    List<String> components() { return components; }

    void ok(String component, Instant at) {
        lastOk.replace(component, at);
    }

    void failed(String component) {
        lastOk.replace(component, Instant.MIN);
    }

    boolean up(String component, Instant now) {
        Instant at = lastOk.get(component);
        if (at == null) throw new IllegalArgumentException("unknown component " + component);
        return !at.equals(Instant.MIN) && now.isBefore(at.plus(maxAge));
    }

    /** The components that are down at {@code now}, in registration order. */
    List<String> down(Instant now) {
        List<String> out = new ArrayList<>();
        for (String c : components) if (!up(c, now)) out.add(c);
        return out;
    }

    /** Component -> "up" or "down" at {@code now}, in registration order. */
    Map<String, String> states(Instant now) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String c : components) out.put(c, up(c, now) ? "up" : "down");
        return out;
    }
}
