package io.deskgate.store;

import java.time.Instant;
import java.util.Optional;

/**
 * A live row of {@code registry}: one running role instance as it registered, with the load of its last
 * heartbeat. Times are the database's clock. Immutable.
 */
public record RegistryEntry(Registration registration, int load, Instant startedAt, Instant heartbeatAt) {
    /** Address of a gRPC service: {@code host:port}. */
    public static final String GRPC = "grpc";
    /** Address browsers open a WebSocket to: {@code ws://} or {@code wss://} URL. */
    public static final String WS = "ws";
    /** Address of a web portal: {@code http://} or {@code https://} URL. */
    public static final String HTTP = "http";
    /** Address of a UDP leg: {@code host:port}. */
    public static final String UDP = "udp";
    /** Label naming the concentrator set a concentrator belongs to. */
    public static final String SET = "set";
    /** Label naming the operating-system process id of the instance (for {@code deskgate status}). */
    public static final String PID = "pid";

    public RegistryEntry {
        if (registration == null || startedAt == null || heartbeatAt == null) {
            throw new IllegalArgumentException("registration and times are required");
        }
        if (load < 0) throw new IllegalArgumentException("load must not be negative: " + load);
    }

    public Role role() { return registration.role(); }

    public String id() { return registration.id(); }

    public Optional<String> address(String name) { return Optional.ofNullable(registration.addresses().get(name)); }

    public Optional<String> label(String name) { return Optional.ofNullable(registration.labels().get(name)); }
}
