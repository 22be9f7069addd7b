package io.deskgate.frontdoor;

import io.deskgate.common.RateLimitedLog;
import io.deskgate.frontdoor.Frontdoor.EngineEndpoint;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.Role;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engines a launch may use, in the order to try them (seed 000, least connections): the registry's
 * live engines come least loaded first, by the live instances each reports in its heartbeats; a launch
 * orders them with {@link #order}, which also counts this frontdoor's launches in flight and leaves
 * drained engines out. Pure apart from one rate-limited log line per malformed row.
 */
final class EngineSelector {
    private static final Logger log = LoggerFactory.getLogger(EngineSelector.class);
    private static final RateLimitedLog rateLimited = new RateLimitedLog(log);

    private EngineSelector() {}

    /** @param live the registry's live engines, least loaded first; those without a usable gRPC address are skipped */
    static List<EngineEndpoint> candidates(List<RegistryEntry> live) {
        return live.stream().filter(e -> e.role() == Role.ENGINE).flatMap(e -> endpoint(e).stream()).toList();
    }

    /**
     * The engines a new session may use, in the order to try them (issue 9): drained engines are left out;
     * the rest by least connections relative to capacity, where an engine's connections are the tally it
     * last published in the registry ({@link RegistryEntry#load()}) plus this frontdoor's launches to it in
     * flight ({@code inFlight}, see {@link LaunchesInFlight}). Ties (the same fraction) go to the engine with
     * more free slots (capacity minus connections), then to the lower id. Rows without a usable gRPC address
     * are left out (one rate-limited log line).
     */
    static List<EngineEndpoint> order(List<RegistryEntry> live, Set<String> drained, ToIntFunction<String> inFlight) {
        record Scored(EngineEndpoint endpoint, long used, long capacity) {}
        List<Scored> scored = new ArrayList<>();
        for (RegistryEntry e : live) {
            if (e.role() != Role.ENGINE || drained.contains(e.id())) continue;
            endpoint(e).ifPresent(ep -> scored.add(new Scored(ep, (long) e.load() + inFlight.applyAsInt(e.id()),
                    e.registration().capacity())));
        }
        // a.used / a.capacity < b.used / b.capacity, exactly: cross-multiplied (no floating point ties)
        Comparator<Scored> byFraction = (a, b) -> Long.compare(a.used() * b.capacity(), b.used() * a.capacity());
        scored.sort(byFraction
                .thenComparing(Comparator.comparingLong((Scored s) -> s.capacity() - s.used()).reversed())
                .thenComparing(s -> s.endpoint().id()));
        return scored.stream().map(Scored::endpoint).toList();
    }

    private static Optional<EngineEndpoint> endpoint(RegistryEntry e) {
        Optional<String> grpc = e.address(RegistryEntry.GRPC);
        try {
            if (grpc.isPresent()) return Optional.of(new EngineEndpoint(e.id(), HostPort.parse(grpc.get()).toString()));
        } catch (IllegalArgumentException ex) {
            // logged below
        }
        rateLimited.warn("engine row unusable", "skipping engine {} from the registry: no usable grpc address", e.id());
        return Optional.empty();
    }
}
