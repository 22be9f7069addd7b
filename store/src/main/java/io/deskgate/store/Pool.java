package io.deskgate.store;

import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A row of {@code pools}: a named set of desktops of one tenant, the desktops of the agents it names or of
 * agents carrying one of its labels.
 *
 * @param agents        agent ids whose desktops the pool holds
 * @param labels        agent labels: an agent carrying any of them contributes its desktops too
 * @param assignment    how a desktop stays with a user
 * @param resetOnLogout whether a desktop is reset when its user's session ends
 */
public record Pool(long id, int tenant, String name, List<String> agents, List<String> labels, Assignment assignment,
                   boolean resetOnLogout, Instant createdAt) {
    /** How desktops are assigned to users. */
    public enum Assignment {
        /** A user keeps one desktop across sessions. */
        PERSISTENT,
        /** Any free desktop of the pool serves a session. */
        FLOATING;

        /** The value stored in {@code pools.assignment} and used by the API: the name in lower case. */
        public String wire() { return name().toLowerCase(Locale.ROOT); }

        /** @throws IllegalArgumentException for anything but {@code persistent} or {@code floating} */
        public static Assignment fromWire(String s) {
            for (Assignment a : values()) if (a.wire().equals(s)) return a;
            throw new IllegalArgumentException("assignment must be 'persistent' or 'floating'");
        }
    }

    public Pool {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(assignment, "assignment");
        Objects.requireNonNull(createdAt, "createdAt");
        agents = List.copyOf(agents);
        labels = List.copyOf(labels);
    }

    /** The default tenant's pool that {@code deskgate up} creates. */
    public static final String DEFAULT_NAME = "default";
}
