package io.deskgate.control;

import java.util.Set;

/**
 * Which role may call which control service under mutual TLS (issue 9): the caller's role is the one its
 * certificate names ({@link io.deskgate.tls.ClusterCa#role}), checked by {@link ControlAuth}'s server
 * interceptor after the handshake has verified the certificate. The table is who calls whom in the
 * product: the broker and the concentrators call the agents; an agent streams its reports to a
 * concentrator and the broker asks the concentrators for desktops; the frontdoor calls the broker and the
 * engines. A service not in the table (one added later) admits every role of the cluster. Pure; stateless.
 */
public final class ControlPeers {
    private static final String PACKAGE = "deskgate.v1.";

    private ControlPeers() {}

    /** The roles that may call {@code fullMethodName} ({@code deskgate.v1.Service/Method}). */
    public static Set<String> callers(String fullMethodName) {
        if (fullMethodName.equals(PACKAGE + "Concentrator/Report")) return Set.of("agent");
        int slash = fullMethodName.indexOf('/');
        String service = slash < 0 ? fullMethodName : fullMethodName.substring(0, slash);
        return switch (service) {
            case PACKAGE + "Agent" -> Set.of("broker", "concentrator");
            case PACKAGE + "Concentrator" -> Set.of("broker");
            case PACKAGE + "Broker", PACKAGE + "Engine" -> Set.of("frontdoor");
            default -> io.deskgate.tls.ClusterCa.ROLES;
        };
    }

    /** Whether a caller whose certificate names {@code role} may call {@code fullMethodName}. */
    public static boolean allowed(String role, String fullMethodName) {
        return callers(fullMethodName).contains(role);
    }
}
