package io.deskgate.concentrator;

import io.deskgate.control.DesktopState;
import java.util.Objects;

/**
 * One desktop as its agent reports it.
 *
 * @param desktopId {@code <agentId>/<n>}, n from 1 to {@link DesktopDirectory#MAX_DESKTOP_NUMBER}
 * @param state     its state; never UNSPECIFIED
 * @param tenant    the tenant of its pool, at least 1
 * @param pool      the pool it belongs to (a name within the tenant), not empty
 * @param user      the user it is held by or dedicated to (a name within {@code tenant}), empty if none
 * @param version   the agent's version of this desktop's state, raised at every change; the broker's
 *                  compare-and-set at the agent names it
 * @param sessionId the session holding it (ASSIGNED, IN_USE, DISCONNECTED), empty if none
 * @param port      its RFB port, 0 while it has none
 */
public record DesktopReport(String desktopId, DesktopState state, int tenant, String pool, String user, long version,
                            String sessionId, int port) {
    public DesktopReport {
        Objects.requireNonNull(desktopId, "desktopId");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(sessionId, "sessionId");
    }

    /** A report without a session id or port. */
    public DesktopReport(String desktopId, DesktopState state, int tenant, String pool, String user, long version) {
        this(desktopId, state, tenant, pool, user, version, "", 0);
    }
}
