package io.deskgate.broker;

import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Decides which desktops may serve a request (seed 001: the broker merges the lists it gathered and
 * chooses one). Pure: fed the merged list, returns the candidates in the order to try them, so the
 * edge can fall back to the next when an agent refuses because another broker got there first.
 *
 * <p>Order: the requested desktop alone if one was named; otherwise the user's own desktops first (a
 * reconnect: DISCONNECTED, then IN_USE, then ASSIGNED), then AVAILABLE desktops, those of the agent
 * with the most available desktops first (spreading load), ties by desktop id.
 *
 * <p>Per-user limit: a user who already holds {@code maxPerUser} desktops (ASSIGNED, IN_USE or
 * DISCONNECTED) gets only their own back. A user is the pair (tenant, user name): a desktop is a user's own
 * only when both match, so another tenant's user of the same name never gets it; naming another desktop is refused with
 * {@link Refusal#LIMIT_REACHED}, a message that names the limit.
 *
 * <p>Dedication (persistent pools, issue 8 item 6): an AVAILABLE desktop that names a user is dedicated to that
 * user (the agent keeps it for them across resets); it serves only them, after their held desktops. A free
 * desktop is AVAILABLE and names nobody. In a persistent pool a user who holds or is dedicated a desktop of
 * the pool gets only that one (refused {@link Refusal#NONE_AVAILABLE} while it restarts, and
 * {@link Refusal#PERSISTENT_ELSEWHERE} when naming another); a user with none gets a free one. Stateless;
 * thread-safe.
 */
final class DesktopChooser {
    /** Why no candidate exists; the edge maps it onto a gRPC status. */
    enum Refusal { NOT_FOUND, HELD_BY_ANOTHER, NONE_AVAILABLE, LIMIT_REACHED, PERSISTENT_ELSEWHERE }

    sealed interface Choice permits Candidates, Refused {}

    /** Desktops to try, best first; never empty. */
    record Candidates(List<Desktop> inOrder) implements Choice {}

    record Refused(Refusal refusal, String message) implements Choice {}

    private static final List<DesktopState> RECONNECT_ORDER =
            List.of(DesktopState.DISCONNECTED, DesktopState.IN_USE, DesktopState.ASSIGNED);

    private DesktopChooser() {}

    /**
     * @param desktops  every desktop the reachable agents reported
     * @param tenant    the tenant of the user asking
     * @param user      the user asking (a name within {@code tenant})
     * @param desktopId the desktop the user asked for, or empty for any
     * @param maxPerUser how many desktops one user may hold at once (at least 1)
     */
    static Choice choose(List<Desktop> desktops, int tenant, String user, String desktopId, int maxPerUser) {
        return choose(desktops, tenant, user, desktopId, maxPerUser, false);
    }

    /** As above, for a pool whose assignment is persistent when {@code persistent} (else floating). */
    static Choice choose(List<Desktop> desktops, int tenant, String user, String desktopId, int maxPerUser,
                         boolean persistent) {
        List<Desktop> dedicated = desktops.stream().filter(d -> dedicatedTo(d, tenant, user))
                .sorted(Comparator.comparing(Desktop::getDesktopId)).toList();
        List<Desktop> own = desktops.stream().filter(d -> ownedBy(d, tenant, user))
                .sorted(Comparator.comparingInt((Desktop d) -> RECONNECT_ORDER.indexOf(d.getState()))
                        .thenComparing(Desktop::getDesktopId))
                .toList();
        boolean atLimit = own.size() >= maxPerUser;
        if (!desktopId.isEmpty()) {
            Optional<Desktop> named = desktops.stream().filter(d -> d.getDesktopId().equals(desktopId)).findFirst();
            if (named.isEmpty()) return new Refused(Refusal.NOT_FOUND, "no desktop " + desktopId);
            Desktop d = named.get();
            if (ownedBy(d, tenant, user)) return new Candidates(List.of(d));
            if (free(d) && persistent && (!own.isEmpty() || !dedicated.isEmpty())) {
                String yours = (own.isEmpty() ? dedicated : own).getFirst().getDesktopId();
                return new Refused(Refusal.PERSISTENT_ELSEWHERE, "your desktop in this pool is " + yours
                        + ": a persistent pool gives each user one desktop");
            }
            if (free(d) || (d.getState() == DesktopState.AVAILABLE && dedicatedTo(d, tenant, user))) {
                return atLimit ? limitReached(own.size(), maxPerUser) : new Candidates(List.of(d));
            }
            if (d.getState() == DesktopState.AVAILABLE) {
                return new Refused(Refusal.HELD_BY_ANOTHER, "desktop " + desktopId + " is dedicated to another user");
            }
            return new Refused(Refusal.HELD_BY_ANOTHER, "desktop " + desktopId + " is " + d.getState());
        }
        if (atLimit) return new Candidates(own);
        List<Desktop> dedicatedAvailable = dedicated.stream().filter(d -> d.getState() == DesktopState.AVAILABLE).toList();
        if (persistent && (!own.isEmpty() || !dedicated.isEmpty())) {
            if (own.isEmpty() && dedicatedAvailable.isEmpty()) {
                return new Refused(Refusal.NONE_AVAILABLE, "your desktop in this pool (" + dedicated.getFirst().getDesktopId()
                        + ") is " + dedicated.getFirst().getState() + ": try again shortly");
            }
            List<Desktop> yours = new ArrayList<>(own);
            yours.addAll(dedicatedAvailable);
            return new Candidates(List.copyOf(yours));
        }
        Map<String, Integer> availableByAgent = new HashMap<>();
        for (Desktop d : desktops) {
            if (free(d)) availableByAgent.merge(agentOf(d.getDesktopId()), 1, Integer::sum);
        }
        List<Desktop> available = desktops.stream().filter(DesktopChooser::free)
                .sorted(Comparator.comparingInt((Desktop d) -> -availableByAgent.get(agentOf(d.getDesktopId())))
                        .thenComparing(Desktop::getDesktopId))
                .toList();
        if (own.isEmpty() && dedicatedAvailable.isEmpty() && available.isEmpty()) {
            return new Refused(Refusal.NONE_AVAILABLE, "no desktop available (" + desktops.size() + " known, none free)");
        }
        List<Desktop> all = new ArrayList<>(own);
        all.addAll(dedicatedAvailable);
        all.addAll(available);
        return new Candidates(List.copyOf(all));
    }

    private static Refused limitReached(int held, int maxPerUser) {
        return new Refused(Refusal.LIMIT_REACHED, "you already hold " + held + (held == 1 ? " desktop" : " desktops")
                + ", the most one user may hold at once (limit " + maxPerUser + "); open or end it first");
    }

    /** Whether {@code d} is held by the user {@code (tenant, user)}. */
    static boolean ownedBy(Desktop d, int tenant, String user) {
        return !user.isEmpty() && d.getTenant() == tenant && d.getUser().equals(user)
                && RECONNECT_ORDER.contains(d.getState());
    }

    /**
     * Whether {@code d} is dedicated to the user {@code (tenant, user)} and not held: a persistent pool's desktop
     * between their sessions (AVAILABLE, or STARTING / UNHEALTHY while it resets).
     */
    static boolean dedicatedTo(Desktop d, int tenant, String user) {
        return !user.isEmpty() && d.getTenant() == tenant && d.getUser().equals(user) && !RECONNECT_ORDER.contains(d.getState());
    }

    /** Whether {@code d} is free: AVAILABLE and dedicated to nobody. */
    static boolean free(Desktop d) {
        return d.getState() == DesktopState.AVAILABLE && d.getUser().isEmpty();
    }

    /** The agent id of a desktop id {@code <agentId>/<n>}: everything before the last '/'. */
    static String agentOf(String desktopId) {
        int slash = desktopId.lastIndexOf('/');
        return slash <= 0 ? "" : desktopId.substring(0, slash);
    }
}
