package io.deskgate.frontdoor;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What the frontdoor depends on and whether each is up: a component is up while its last successful probe
 * is younger than {@code maxAge} and no probe has failed since. A probe that hangs therefore reads as down
 * once {@code maxAge} has passed. The fixed components are given at construction; the registry's instances
 * come and go ({@link #track}, {@link #untrack}). Pure: time is an argument. Thread-safe.
 */
final class Readiness {
    static final String STORE = "store";
    static final String BROKER = "broker";
    /** Up while the registry lists at least one live engine. */
    static final String ENGINES = "engines";
    /** Up while the registry lists at least one live gateway. */
    static final String GATEWAYS = "gateways";

    private final List<String> components = new CopyOnWriteArrayList<>();
    private final Duration maxAge;
    /** Component -> time of its last successful probe, or {@link Instant#MIN} after a failure or before any. */
    private final Map<String, Instant> lastOk = new ConcurrentHashMap<>();

    Readiness(List<String> components, Duration maxAge) {
        if (components.isEmpty()) throw new IllegalArgumentException("no components");
        if (maxAge.isNegative() || maxAge.isZero()) throw new IllegalArgumentException("maxAge must be positive");
        this.maxAge = maxAge;
        for (String c : components) track(c);
    }

    static String engine(String id) { return "engine:" + id; }

    static String gateway(String id) { return "gateway:" + id; }

    /** Adds a component (down until its first good probe); no-op when known. */
    synchronized void track(String component) {
        if (lastOk.putIfAbsent(component, Instant.MIN) == null) components.add(component);
    }

    /** Forgets a component (an instance that left the registry). */
    synchronized void untrack(String component) {
        components.remove(component);
        lastOk.remove(component);
    }

    void ok(String component, Instant at) {
        lastOk.replace(component, at);
    }

    void failed(String component) {
        lastOk.replace(component, Instant.MIN);
    }

    boolean up(String component, Instant now) {
        Instant at = lastOk.get(component);
        if (at == null) throw new IllegalArgumentException("unknown component " + component);
        return isUp(at, now);
    }

    private boolean isUp(Instant at, Instant now) {
        return !at.equals(Instant.MIN) && now.isBefore(at.plus(maxAge));
    }

    /** The components that are down at {@code now}, in the order they were added. */
    List<String> down(Instant now) {
        List<String> out = new ArrayList<>();
        states(now).forEach((c, state) -> {
            if (state.equals("down")) out.add(c);
        });
        return out;
    }

    /** Component -> "up" or "down" at {@code now}, in the order they were added. */
    Map<String, String> states(Instant now) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String c : components) {
            Instant at = lastOk.get(c);
            if (at != null) out.put(c, isUp(at, now) ? "up" : "down"); // null: untracked meanwhile
        }
        return out;
    }
}
