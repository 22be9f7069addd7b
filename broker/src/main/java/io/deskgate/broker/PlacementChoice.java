package io.deskgate.broker;

import io.deskgate.control.DesktopState;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The order in which a request tries the merged offers (seed 001: "choosing, by the broker, an available
 * virtual machine from the list"). Pure and stateless.
 *
 * <p>First the user's own desktops (the pair tenant, user): DISCONNECTED (their work is waiting), then
 * IN_USE and ASSIGNED (a reconnect from another browser), then AVAILABLE ones dedicated to them. Then
 * the pool's policy:
 * <ul>
 *   <li>{@link AssignmentPolicy#PERSISTENT}: a user who has a desktop of the pool gets only theirs; one
 *       who has none gets a free one (which the agent then keeps dedicated to them).</li>
 *   <li>{@link AssignmentPolicy#FLOATING}: any free desktop, after the user's own.</li>
 * </ul>
 * Free desktops (AVAILABLE, dedicated to nobody) come least recently assigned first (the concentrators'
 * order, interleaved), and among equals from the agent with the most free desktops in the answers, so
 * sessions spread over hosts. The free ones are then rotated by the request's {@code spread} (a hash of
 * its session id), the whole list of them: concurrent requests through different brokers then seldom race
 * for the same desktop, and the loser of a race goes on to a different one. The whole list, not only its
 * head: a concentrator learns of an assignment only from the agent's next report, so during a logon storm
 * the heads of its answers are often desktops just taken, and requests that all tried the first few
 * (eight, before) lost more races than they won ({@code deskgate bench broker}: 4,037 refused initiations
 * for 3,316 placements). Every free desktop offered is among each concentrator's least recently assigned,
 * so the rotation costs little of that order.
 */
final class PlacementChoice {

    enum AssignmentPolicy { PERSISTENT, FLOATING }

    private static final List<DesktopState> OWN_ORDER =
            List.of(DesktopState.DISCONNECTED, DesktopState.IN_USE, DesktopState.ASSIGNED, DesktopState.AVAILABLE);

    private PlacementChoice() {}

    static List<Offer> order(List<Offer> merged, int tenant, String user, AssignmentPolicy policy, int spread) {
        List<Offer> own = merged.stream().filter(o -> !user.isEmpty() && o.tenant() == tenant && o.user().equals(user)
                        && OWN_ORDER.contains(o.state()))
                .sorted(Comparator.comparingInt((Offer o) -> OWN_ORDER.indexOf(o.state())))
                .toList();
        List<Offer> out = new ArrayList<>(own);
        if (policy == AssignmentPolicy.PERSISTENT && !own.isEmpty()) return List.copyOf(out);
        List<Offer> free = merged.stream().filter(o -> o.tenant() == tenant && o.user().isEmpty()
                && o.state() == DesktopState.AVAILABLE).toList();
        Map<String, Integer> freePerAgent = new HashMap<>();
        for (Offer o : free) freePerAgent.merge(o.agentId(), 1, Integer::sum);
        Map<Offer, Integer> position = new HashMap<>();
        for (int i = 0; i < free.size(); i++) position.put(free.get(i), i);
        // Least recently assigned first: positions come in rounds of one per concentrator; within a round,
        // the agent with the most free desktops first.
        int rounds = Math.max(1, (int) free.stream().map(Offer::concentratorId).distinct().count());
        List<Offer> sorted = new ArrayList<>(free);
        sorted.sort(Comparator.comparingInt((Offer o) -> position.get(o) / rounds)
                .thenComparingInt(o -> -freePerAgent.get(o.agentId()))
                .thenComparing(Offer::desktopId));
        if (sorted.size() > 1) java.util.Collections.rotate(sorted, -Math.floorMod(spread, sorted.size()));
        out.addAll(sorted);
        return List.copyOf(out);
    }
}
