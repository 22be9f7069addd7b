package io.deskgate.concentrator;

import static io.deskgate.control.DesktopState.ASSIGNED;
import static io.deskgate.control.DesktopState.AVAILABLE;
import static io.deskgate.control.DesktopState.DISCONNECTED;
import static io.deskgate.control.DesktopState.IN_USE;
import static io.deskgate.control.DesktopState.STARTING;
import static io.deskgate.control.DesktopState.UNHEALTHY;

import io.deskgate.control.DesktopState;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The state changes an agent may report for one of its desktops, written once (docs/architecture.md,
 * "Concentrator sets"). They are the agent's {@code DesktopLifecycle} seen from outside: each event there
 * moves a desktop by one step, and the agent reports every step, so a report that skips one is wrong.
 *
 * <pre>
 * from          to (besides staying where it is)
 * STARTING      AVAILABLE, UNHEALTHY
 * AVAILABLE     ASSIGNED, UNHEALTHY
 * ASSIGNED      IN_USE, AVAILABLE (password expired unused), DISCONNECTED, STARTING (ended), UNHEALTHY
 * IN_USE        ASSIGNED (a reconnect), DISCONNECTED, STARTING (ended), UNHEALTHY
 * DISCONNECTED  ASSIGNED (a reconnect), STARTING (ended or released), UNHEALTHY
 * UNHEALTHY     STARTING (restart)
 * </pre>
 *
 * While a desktop is held (ASSIGNED, IN_USE, DISCONNECTED) its user (tenant, user name) stays the same: a
 * held desktop changes hands only through AVAILABLE or STARTING. Its pool changes only as it starts.
 * Stateless.
 */
final class DesktopTransitions {
    private static final Map<DesktopState, Set<DesktopState>> ALLOWED = new EnumMap<>(DesktopState.class);
    private static final Set<DesktopState> HELD = EnumSet.of(ASSIGNED, IN_USE, DISCONNECTED);

    static {
        ALLOWED.put(STARTING, EnumSet.of(STARTING, AVAILABLE, UNHEALTHY));
        ALLOWED.put(AVAILABLE, EnumSet.of(AVAILABLE, ASSIGNED, UNHEALTHY));
        ALLOWED.put(ASSIGNED, EnumSet.of(ASSIGNED, IN_USE, AVAILABLE, DISCONNECTED, STARTING, UNHEALTHY));
        ALLOWED.put(IN_USE, EnumSet.of(IN_USE, ASSIGNED, DISCONNECTED, STARTING, UNHEALTHY));
        ALLOWED.put(DISCONNECTED, EnumSet.of(DISCONNECTED, ASSIGNED, STARTING, UNHEALTHY));
        ALLOWED.put(UNHEALTHY, EnumSet.of(UNHEALTHY, STARTING));
    }

    private DesktopTransitions() {}

    /** The states a report may carry at all (not UNSPECIFIED, not an unknown number). */
    static boolean reportable(DesktopState s) {
        return ALLOWED.containsKey(s);
    }

    static boolean allowed(DesktopState from, DesktopState to) {
        Set<DesktopState> to_ = ALLOWED.get(from);
        return to_ != null && to_.contains(to);
    }

    /** Whether a desktop in {@code s} holds a user's session or work. */
    static boolean held(DesktopState s) {
        return HELD.contains(s);
    }

    /**
     * Why the change is refused, or empty when it is allowed: the step itself, then the holder rule.
     */
    static String refusal(DesktopState from, int fromTenant, String fromUser, String fromPool,
                          DesktopState to, int toTenant, String toUser, String toPool) {
        if (!allowed(from, to)) return "a desktop cannot go from " + from + " to " + to;
        if (held(from) && held(to) && (fromTenant != toTenant || !fromUser.equals(toUser))) {
            return "a desktop that is " + from + " changes user only through AVAILABLE or STARTING";
        }
        if (!fromPool.equals(toPool) && to != STARTING) return "a desktop changes pool only as it starts";
        return "";
    }
}
