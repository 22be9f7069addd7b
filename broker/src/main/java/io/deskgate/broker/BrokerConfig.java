package io.deskgate.broker;

import io.deskgate.control.ControlAuth;
import io.deskgate.control.ControlChannels;
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
 * @param controlSecret    the control plane's shared secret ({@link ControlAuth}), at least 32 bytes: every
 *                         call to the broker must carry its token, and the broker's calls to the agents carry
 *                         it. No default: empty means not set, and {@link Broker#start} refuses to start
 *                         without one. The accessor returns a copy
 * @param maxDesktopsPerUser how many desktops one user may hold at once (assigned, in use or
 *                         disconnected), 1 to {@value #MAX_DESKTOPS_PER_USER_LIMIT}; default
 *                         {@value #DEFAULT_MAX_DESKTOPS_PER_USER}. A user at the limit gets their own
 *                         desktop back, and a request for another is refused naming the limit
 */
public record BrokerConfig(String bindHost, int grpcPort, List<String> agentTargets, Duration agentCallTimeout,
                           byte[] controlSecret, int maxDesktopsPerUser) {
    public static final Duration DEFAULT_AGENT_CALL_TIMEOUT = Duration.ofSeconds(5);
    public static final int DEFAULT_MAX_DESKTOPS_PER_USER = 1;
    public static final int MAX_DESKTOPS_PER_USER_LIMIT = 64;

    public BrokerConfig {
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(agentCallTimeout, "agentCallTimeout");
        agentTargets = List.copyOf(Objects.requireNonNull(agentTargets, "agentTargets"));
        if (grpcPort < 0 || grpcPort > 65535) throw new IllegalArgumentException("grpcPort out of range: " + grpcPort);
        if (agentTargets.isEmpty()) throw new IllegalArgumentException("agentTargets must name at least one agent");
        for (String target : agentTargets) ControlChannels.Target.parse(target);
        if (agentCallTimeout.isNegative() || agentCallTimeout.isZero()) {
            throw new IllegalArgumentException("agentCallTimeout must be positive: " + agentCallTimeout);
        }
        controlSecret = ControlAuth.checkedSecret(controlSecret);
        if (maxDesktopsPerUser < 1 || maxDesktopsPerUser > MAX_DESKTOPS_PER_USER_LIMIT) {
            throw new IllegalArgumentException("maxDesktopsPerUser must be 1 to " + MAX_DESKTOPS_PER_USER_LIMIT + ": "
                    + maxDesktopsPerUser);
        }
    }

    /** Without a control secret yet: set one with {@link #withControlSecret} before {@link Broker#start}. */
    public BrokerConfig(String bindHost, int grpcPort, List<String> agentTargets, Duration agentCallTimeout) {
        this(bindHost, grpcPort, agentTargets, agentCallTimeout, new byte[0], DEFAULT_MAX_DESKTOPS_PER_USER);
    }

    /** With the default agent call timeout of 5 s and no control secret yet. */
    public BrokerConfig(String bindHost, int grpcPort, List<String> agentTargets) {
        this(bindHost, grpcPort, agentTargets, DEFAULT_AGENT_CALL_TIMEOUT);
    }

    @Override
    public byte[] controlSecret() {
        return controlSecret.clone();
    }

    public BrokerConfig withControlSecret(byte[] secret) {
        return new BrokerConfig(bindHost, grpcPort, agentTargets, agentCallTimeout, secret, maxDesktopsPerUser);
    }

    public BrokerConfig withMaxDesktopsPerUser(int max) {
        return new BrokerConfig(bindHost, grpcPort, agentTargets, agentCallTimeout, controlSecret, max);
    }
}
