package io.deskgate.concentrator;

import io.deskgate.control.DesktopState;
import java.util.List;

/**
 * A desktop in the answer to a FindAvailable: what the broker needs to choose it and to ask for it
 * with a compare-and-set ({@code version}), and what its listing shows (session, host, port, size, labels).
 *
 * @param user      the user it is held by or dedicated to, empty if none
 * @param sessionId the session holding it, empty if none
 * @param host      where its agent's desktops listen (the agent's hello), empty if the agent did not say
 * @param labels    its agent's labels
 */
public record DesktopView(String desktopId, String agentId, DesktopState state, int tenant, String pool, String user,
                          long version, String sessionId, int port, String host, int width, int height,
                          List<String> labels) {
    /** Only what placement needs. */
    public DesktopView(String desktopId, String agentId, DesktopState state, int tenant, String pool, String user,
                       long version) {
        this(desktopId, agentId, state, tenant, pool, user, version, "", 0, "", 0, 0, List.of());
    }
}
