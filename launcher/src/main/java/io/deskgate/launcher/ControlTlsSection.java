package io.deskgate.launcher;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.deskgate.control.ControlTls;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A role section's {@code control.tls} (issue 9): the three files of its mutual TLS on the control plane
 * ({@code deskgate ca issue <role> --out DIR} writes them). All three or none; with none the role keeps the
 * bearer scheme, which only loopback listeners and targets allow ({@link io.deskgate.control.ControlAddresses}).
 * Stateless.
 */
final class ControlTlsSection {
    /** The nested section's name in a role section, and its own name in that. */
    static final String CONTROL = "control";
    static final String TLS = "tls";
    /** The role sections that take {@code control.tls}: those that serve or call the control plane. */
    static final java.util.List<String> ROLES = java.util.List.of("frontdoor", "engine", "agent", "broker", "concentrator");

    private ControlTlsSection() {}

    /**
     * The rule of issue 9 for a role's control listener (and, for the broker, its fixed agent targets): not
     * loopback requires {@code <role>.control.tls}.
     *
     * @throws io.deskgate.config.ConfigException one line naming the file, the role's section and {@code bind-host}
     */
    static void checkListener(DeskgateConfigFile file, String role, String bindHost, java.util.List<String> targets) {
        boolean tls = file.controlTls(role).isPresent();
        file.build(role, () -> {
            io.deskgate.control.ControlAddresses.requireTlsOffLoopback(role + ".bind-host", bindHost, tls);
            for (String t : targets) {
                io.deskgate.control.ControlAddresses.requireTlsOffLoopback(role + ".agent-targets " + t + ":",
                        io.deskgate.control.ControlChannels.Target.parse(t).host(), tls);
            }
            return role;
        });
    }

    /**
     * The control credential of {@code role}: mutual TLS with its {@code control.tls} files (read and checked
     * now), else the fleet's bearer secret.
     *
     * @throws io.deskgate.common.DeskgateException one line naming the file that is missing, unreadable, expired,
     *                                              not under the CA or not the certificate's key
     */
    static io.deskgate.control.ControlAuth auth(DeskgateConfigFile file, String role, byte[] controlSecret) {
        return io.deskgate.control.ControlAuth.of(controlSecret,
                file.controlTls(role).map(f -> ControlTls.load(f, java.time.Instant.now())));
    }

    /** The keys of {@code <role>.control}: none but the nested {@code tls}. */
    static final class ControlBuilder {}

    /** Builds the {@code control.tls} files; the methods marked {@code @JsonProperty} are its keys. */
    static final class Builder {
        private Optional<Path> ca = Optional.empty();
        private Optional<Path> cert = Optional.empty();
        private Optional<Path> key = Optional.empty();

        @JsonProperty Builder ca(Path file) { ca = Optional.of(file); return this; }

        @JsonProperty Builder cert(Path file) { cert = Optional.of(file); return this; }

        @JsonProperty Builder key(Path file) { key = Optional.of(file); return this; }

        /**
         * @throws IllegalArgumentException unless all three files are set
         */
        ControlTls.Files build() {
            if (ca.isEmpty() || cert.isEmpty() || key.isEmpty()) {
                throw new IllegalArgumentException("control.tls needs all of ca, cert and key (deskgate ca issue <role> writes them)");
            }
            return new ControlTls.Files(ca.get(), cert.get(), key.get());
        }
    }
}
