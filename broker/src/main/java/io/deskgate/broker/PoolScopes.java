package io.deskgate.broker;

import io.deskgate.control.Desktop;
import io.deskgate.control.PoolScope;
import java.util.List;

/**
 * Which desktops belong to a pool's {@link PoolScope}: those of the agents it names and those whose agent
 * carries one of its labels. Pure; thread-safe.
 */
final class PoolScopes {
    private PoolScopes() {}

    static boolean holds(PoolScope scope, Desktop d) {
        if (scope.getAgentsList().contains(DesktopChooser.agentOf(d.getDesktopId()))) return true;
        for (String label : d.getLabelsList()) if (scope.getLabelsList().contains(label)) return true;
        return false;
    }

    /** The desktops of {@code desktops} that {@code scope} holds, in their order. */
    static List<Desktop> inScope(PoolScope scope, List<Desktop> desktops) {
        return desktops.stream().filter(d -> holds(scope, d)).toList();
    }

    /**
     * How many desktops the user {@code (tenant, user)} holds outside {@code scope}: they count against the
     * per-user limit of a request in the scope, though they cannot serve it.
     */
    static int heldOutside(PoolScope scope, List<Desktop> desktops, int tenant, String user) {
        return (int) desktops.stream().filter(d -> DesktopChooser.ownedBy(d, tenant, user) && !holds(scope, d)).count();
    }
}
