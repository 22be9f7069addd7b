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
 * {@link Refusal#LIMIT_REACHED}, a message that names the limit. Stateless; thread-safe.
 */
final class DesktopChooser {
    /** Why no candidate exists; the edge maps it onto a gRPC status. */
    enum Refusal { NOT_FOUND, HELD_BY_ANOTHER, NONE_AVAILABLE, LIMIT_REACHED }

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
            if (d.getState() == DesktopState.AVAILABLE) {
                return atLimit ? limitReached(own.size(), maxPerUser) : new Candidates(List.of(d));
            }
            return new Refused(Refusal.HELD_BY_ANOTHER, "desktop " + desktopId + " is " + d.getState());
        }
        if (atLimit) return new Candidates(own);
        Map<String, Integer> availableByAgent = new HashMap<>();
        for (Desktop d : desktops) {
            if (d.getState() == DesktopState.AVAILABLE) availableByAgent.merge(agentOf(d.getDesktopId()), 1, Integer::sum);
        }
        List<Desktop> available = desktops.stream().filter(d -> d.getState() == DesktopState.AVAILABLE)
                .sorted(Comparator.comparingInt((Desktop d) -> -availableByAgent.get(agentOf(d.getDesktopId())))
                        .thenComparing(Desktop::getDesktopId))
                .toList();
        if (own.isEmpty() && available.isEmpty()) {
            return new Refused(Refusal.NONE_AVAILABLE, "no desktop available (" + desktops.size() + " known, none free)");
        }
        List<Desktop> all = new ArrayList<>(own);
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

    /** The agent id of a desktop id {@code <agentId>/<n>}: everything before the last '/'. */
    static String agentOf(String desktopId) {
        int slash = desktopId.lastIndexOf('/');
        return slash <= 0 ? "" : desktopId.substring(0, slash);
    }
}
