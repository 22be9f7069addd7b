package io.deskgate.broker;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One concentrator set as the broker sees it now (seed 001): its members, and those failing (their last
 * call failed or timed out, or their registry row is stale). Immutable.
 */
record ConcentratorSet(String id, List<String> members, Set<String> failing) {
    ConcentratorSet {
        Objects.requireNonNull(id, "id");
        members = List.copyOf(members);
        failing = Set.copyOf(failing);
        if (!members.containsAll(failing)) throw new IllegalArgumentException("failing members must be members of " + id);
    }

    List<String> healthyMembers() {
        return members.stream().filter(m -> !failing.contains(m)).toList();
    }

    boolean healthy() {
        return failing.isEmpty() && !members.isEmpty();
    }
}
