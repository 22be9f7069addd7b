package io.deskgate.broker;

import io.deskgate.control.DesktopState;
import java.util.Objects;

/**
 * A desktop as one agent concentrator offered it in its FindAvailable answer.
 *
 * @param concentratorId the concentrator that offered it: the owning one, through which it is initiated
 * @param user           who holds it or has it dedicated, empty if nobody
 * @param version        the agent's version of its state, the compare-and-set's expected value
 */
record Offer(String desktopId, String agentId, String concentratorId, DesktopState state, int tenant, String user,
             long version) {
    Offer {
        Objects.requireNonNull(desktopId, "desktopId");
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(concentratorId, "concentratorId");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(user, "user");
    }
}
