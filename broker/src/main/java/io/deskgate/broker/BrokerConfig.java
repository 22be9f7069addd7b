package io.deskgate.broker;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.ControlChannels;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Configuration of the broker. Validated when built; the config file's {@code broker} section
 * (docs/configuration.md) sets it through {@link Builder}.
 *
 * @param bindHost         address of the gRPC server (e.g. {@code 127.0.0.1})
 * @param grpcPort         port of the gRPC server, 0 for any free port
 * @param agentTargets     agents' gRPC endpoints as {@code host:port} the broker always asks, besides those its
 *                         agent source finds (the registry's live agents in {@code up} and {@code run}); default
 *                         none. {@link Broker#start(BrokerConfig)}, which has no other source, needs at least one
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
 * @param placement        how sessions are placed: {@link PlacementMode#SHARDED} (default) through the concentrator
 *                         sets the registry lists ({@link SessionBroker}), or {@link PlacementMode#DIRECT} by asking every
 *                         agent ({@link Broker}; {@code agentTargets} apply to it only, {@code maxDesktopsPerUser} to both)
 */
public record BrokerConfig(String bindHost, int grpcPort, List<String> agentTargets, Duration agentCallTimeout,
                           byte[] controlSecret, int maxDesktopsPerUser, PlacementMode placement) {
    /** How a broker places sessions: the config file's {@code placement}, {@code sharded} or {@code direct}. */
    public enum PlacementMode {
        /** Through the concentrator sets (seed 001): one set's concentrators are asked, never every agent. */
        SHARDED,
        /** Every agent asked directly: one broker per fleet of a few agents, or without concentrators. */
        DIRECT;

        /** Its name in the config file. */
        public String key() { return name().toLowerCase(java.util.Locale.ROOT); }
    }

    public static final Duration DEFAULT_AGENT_CALL_TIMEOUT = Duration.ofSeconds(5);
    public static final int DEFAULT_MAX_DESKTOPS_PER_USER = 1;
    public static final int MAX_DESKTOPS_PER_USER_LIMIT = 64;

    public BrokerConfig {
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(agentCallTimeout, "agentCallTimeout");
        agentTargets = List.copyOf(Objects.requireNonNull(agentTargets, "agentTargets"));
        if (grpcPort < 0 || grpcPort > 65535) throw new IllegalArgumentException("grpc-port out of range 0-65535: " + grpcPort);
        for (String target : agentTargets) {
            try {
                ControlChannels.Target.parse(target);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("agent-targets: " + e.getMessage(), e);
            }
        }
        if (agentCallTimeout.isNegative() || agentCallTimeout.isZero()) {
            throw new IllegalArgumentException("agent-call-timeout must be positive: " + agentCallTimeout);
        }
        controlSecret = ControlAuth.checkedSecret(controlSecret);
        if (maxDesktopsPerUser < 1 || maxDesktopsPerUser > MAX_DESKTOPS_PER_USER_LIMIT) {
            throw new IllegalArgumentException("max-desktops-per-user must be 1 to " + MAX_DESKTOPS_PER_USER_LIMIT + ": "
                    + maxDesktopsPerUser);
        }
        Objects.requireNonNull(placement, "placement");
    }

    /** A builder holding every default, no fixed agent targets and no control secret yet. */
    public static Builder builder() { return new Builder(); }

    /** A builder holding this config's values. */
    public Builder toBuilder() { return new Builder(this); }

    @Override
    public byte[] controlSecret() {
        return controlSecret.clone();
    }

    /** Every component but the control secret, which only says whether it is set. */
    @Override
    public String toString() {
        return "BrokerConfig[bindHost=" + bindHost + ", grpcPort=" + grpcPort + ", agentTargets=" + agentTargets
                + ", agentCallTimeout=" + agentCallTimeout + ", controlSecret=" + (controlSecret.length == 0 ? "unset" : "(redacted)")
                + ", maxDesktopsPerUser=" + maxDesktopsPerUser + ", placement=" + placement + "]";
    }

    /**
     * Builds a {@link BrokerConfig}, validated by {@link #build()}. The methods marked {@code @JsonProperty} are the
     * keys of the {@code broker} section (docs/configuration.md).
     */
    public static final class Builder {
        private String bindHost = "127.0.0.1";
        private int grpcPort;
        private List<String> agentTargets = List.of();
        private Duration agentCallTimeout = DEFAULT_AGENT_CALL_TIMEOUT;
        private byte[] controlSecret = new byte[0];
        private int maxDesktopsPerUser = DEFAULT_MAX_DESKTOPS_PER_USER;
        private String placement = PlacementMode.SHARDED.key();

        private Builder() {}

        private Builder(BrokerConfig c) {
            bindHost = c.bindHost;
            grpcPort = c.grpcPort;
            agentTargets = c.agentTargets;
            agentCallTimeout = c.agentCallTimeout;
            controlSecret = c.controlSecret;
            maxDesktopsPerUser = c.maxDesktopsPerUser;
            placement = c.placement.key();
        }

        @JsonProperty public Builder bindHost(String host) { bindHost = host; return this; }

        @JsonProperty public Builder grpcPort(int port) { grpcPort = port; return this; }

        @JsonProperty public Builder agentTargets(List<String> targets) { agentTargets = List.copyOf(targets); return this; }

        @JsonProperty public Builder agentCallTimeout(Duration timeout) { agentCallTimeout = timeout; return this; }

        /** Never from a file: {@code deskgate up} keeps it in the store's secrets. */
        @JsonIgnore public Builder controlSecret(byte[] secret) { controlSecret = secret.clone(); return this; }

        @JsonProperty public Builder maxDesktopsPerUser(int max) { maxDesktopsPerUser = max; return this; }

        /** {@code sharded} or {@code direct}. */
        @JsonProperty public Builder placement(String how) { placement = Objects.requireNonNull(how, "placement"); return this; }

        /** @throws IllegalArgumentException naming the key of a value out of range */
        public BrokerConfig build() {
            PlacementMode p = java.util.Arrays.stream(PlacementMode.values()).filter(v -> v.key().equals(placement)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("placement must be sharded or direct: " + placement));
            return new BrokerConfig(bindHost, grpcPort, agentTargets, agentCallTimeout, controlSecret, maxDesktopsPerUser, p);
        }
    }
}
