package io.deskgate.broker;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Configuration of the broker. Validated when built.
 *
 * @param bindHost         address of the gRPC server (e.g. {@code 127.0.0.1})
 * @param grpcPort         port of the gRPC server, 0 for any free port
 * @param agentTargets     the agents' gRPC endpoints as {@code host:port}, at least one
 * @param agentCallTimeout deadline of every call to an agent (default 5 s); an agent that does not
 *                         answer in time is skipped
 */
public record BrokerConfig(String bindHost, int grpcPort, List<String> agentTargets, Duration agentCallTimeout) {
    public static final Duration DEFAULT_AGENT_CALL_TIMEOUT = Duration.ofSeconds(5);

    public BrokerConfig {
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(agentCallTimeout, "agentCallTimeout");
        agentTargets = List.copyOf(Objects.requireNonNull(agentTargets, "agentTargets"));
        if (grpcPort < 0 || grpcPort > 65535) throw new IllegalArgumentException("grpcPort out of range: " + grpcPort);
        if (agentTargets.isEmpty()) throw new IllegalArgumentException("agentTargets must name at least one agent");
        for (String target : agentTargets) AgentLink.parse(target);
        if (agentCallTimeout.isNegative() || agentCallTimeout.isZero()) {
            throw new IllegalArgumentException("agentCallTimeout must be positive: " + agentCallTimeout);
        }
    }

    /** With the default agent call timeout of 5 s. */
    public BrokerConfig(String bindHost, int grpcPort, List<String> agentTargets) {
        this(bindHost, grpcPort, agentTargets, DEFAULT_AGENT_CALL_TIMEOUT);
    }
}
