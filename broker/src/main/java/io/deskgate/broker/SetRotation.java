package io.deskgate.broker;

import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Which concentrator set a request asks (seed 001: "determining a first set of agent concentrators").
 *
 * <p>Policy: a healthy set whose coalesced broadcast is forming at this broker, if any (the request joins
 * it; see {@link #SetRotation(Predicate)}); otherwise rotation over the sets in id order, one step per choice,
 * so the load of FindAvailable spreads evenly over the sets; a set with a failing member is skipped, because that member's agents are
 * re-homing and its desktops are missing from the set's answers. When every set left has a failing
 * member, the one with the smallest share of failing members is asked (ties: rotation order), its healthy
 * members only. A set with no healthy member is never asked. Sets the request already tried are not
 * asked again.
 *
 * <p>Thread-safe: {@link #choose} is synchronized, so one rotation serves every request of a broker.
 */
final class SetRotation {
    private final Predicate<String> forming;
    private long turn;

    /** Rotation alone. */
    SetRotation() {
        this(setId -> false);
    }

    /**
     * Rotation that first joins a healthy set whose coalesced broadcast is forming ({@code forming}, the
     * broker's {@link BroadcastCoalescer}), without a step: the rotation then advances once per broadcast
     * rather than once per request, and requests arriving together share one broadcast. Called under this
     * rotation's lock; it must not call back into the rotation.
     */
    SetRotation(Predicate<String> forming) {
        this.forming = Objects.requireNonNull(forming, "forming");
    }

    /** The set to ask, or empty when no untried set has a healthy member. */
    synchronized Optional<ConcentratorSet> choose(List<ConcentratorSet> sets, Set<String> tried) {
        List<ConcentratorSet> open = sets.stream().filter(s -> !tried.contains(s.id()) && !s.healthyMembers().isEmpty())
                .sorted(Comparator.comparing(ConcentratorSet::id)).toList();
        if (open.isEmpty()) return Optional.empty();
        for (ConcentratorSet s : open) if (s.healthy() && forming.test(s.id())) return Optional.of(s);
        int start = (int) Math.floorMod(turn++, (long) open.size());
        for (int i = 0; i < open.size(); i++) {
            ConcentratorSet s = open.get((start + i) % open.size());
            if (s.healthy()) return Optional.of(s);
        }
        ConcentratorSet best = null;
        for (int i = 0; i < open.size(); i++) {
            ConcentratorSet s = open.get((start + i) % open.size());
            if (best == null || failingShare(s) < failingShare(best)) best = s;
        }
        return Optional.of(best);
    }

    private static double failingShare(ConcentratorSet s) {
        return (double) s.failing().size() / s.members().size();
    }
}
