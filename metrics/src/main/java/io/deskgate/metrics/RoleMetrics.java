package io.deskgate.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One role's handle on the registry it counts into: the role's own meters are named {@code deskgate.<role>.*}
 * (Prometheus {@code deskgate_<role>_*}), and the one meter every role shares, {@code deskgate.errors}
 * ({@code deskgate_errors_total{role, kind}}), carries the role as a tag. {@code deskgate up} gives every role
 * in its JVM the same registry, so one endpoint serves them all; {@code deskgate run} gives its one role its own.
 * Tags are fixed words chosen in the code, never a user name, session id or other unbounded value. Thread-safe.
 */
public final class RoleMetrics {
    /** The shared meter counting each role's errors by kind. */
    public static final String ERRORS = "deskgate.errors";
    private static final Pattern WORD = Pattern.compile("[a-z0-9_]{1,40}");

    private final MeterRegistry registry;
    private final String role;

    public RoleMetrics(MeterRegistry registry, String role) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.role = word(role);
    }

    /** A registry the Prometheus endpoint can serve. */
    public static PrometheusMeterRegistry newRegistry() {
        return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    /** Counting into a registry nobody reads: for a role started without metrics. */
    public static RoleMetrics unread(String role) {
        return new RoleMetrics(new SimpleMeterRegistry(), role);
    }

    public MeterRegistry registry() { return registry; }

    public String role() { return role; }

    /** The meter name {@code deskgate.<role>.<name>}. */
    public String name(String name) { return "deskgate." + role + "." + name; }

    /** The counter {@code deskgate.<role>.<name>} with {@code tags} (key, value, ...), each value a fixed word. */
    public Counter counter(String name, String description, String... tags) {
        String[] t = tags.clone();
        for (int i = 1; i < t.length; i += 2) t[i] = word(t[i]);
        return Counter.builder(name(name)).description(description).tags(t).register(registry);
    }

    /** Counts one error of {@code kind} (a fixed word: {@code io}, {@code rejected_call}, ...). */
    public void error(String kind) {
        Counter.builder(ERRORS).description("errors by role and kind").tags("role", role, "kind", word(kind))
                .register(registry).increment();
    }

    /** {@code value} lower-cased, checked to be a short fixed word (letters, digits, {@code _}). */
    static String word(String value) {
        String v = value.toLowerCase(java.util.Locale.ROOT);
        if (!WORD.matcher(v).matches()) throw new IllegalArgumentException("not a bounded tag value: " + value);
        return v;
    }
}
