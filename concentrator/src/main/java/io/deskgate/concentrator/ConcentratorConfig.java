package io.deskgate.concentrator;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.deskgate.control.ControlAuth;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Configuration of one agent concentrator. Validated when built; {@link Builder} holds every default
 * (docs/configuration.md, section {@code concentrator}).
 *
 * @param id               the concentrator's id, unique in the deployment (default {@code concentrator-1})
 * @param set              the concentrator set it belongs to (default {@code set-1})
 * @param bindHost         address of the gRPC server (default {@code 127.0.0.1})
 * @param grpcPort         port of the gRPC server, 0 for any free port (default 0)
 * @param agentTimeout     an agent silent this long is forgotten with its desktops (default 15 s); agents
 *                         heartbeat at a fraction of it
 * @param tickInterval     how often silent agents are looked for (default 1 s, at most the agent timeout)
 * @param agentCallTimeout deadline of a call forwarded to an agent, when the caller's is later (default 5 s)
 * @param maxAgents        the most agents connected at once (default 4096); another is refused
 * @param maxDesktops      the most desktops held at once (default 200,000); a report that could pass it is refused
 * @param maxFindLimit     the most desktops one FindAvailable answer holds (default 64)
 * @param controlSecret    the control plane's shared secret ({@link ControlAuth}); no default, never from a file.
 *                         The accessor returns a copy
 */
public record ConcentratorConfig(String id, String set, String bindHost, int grpcPort, Duration agentTimeout,
                                 Duration tickInterval, Duration agentCallTimeout, int maxAgents, int maxDesktops,
                                 int maxFindLimit, byte[] controlSecret) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    public ConcentratorConfig {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(set, "set");
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(agentTimeout, "agentTimeout");
        Objects.requireNonNull(tickInterval, "tickInterval");
        Objects.requireNonNull(agentCallTimeout, "agentCallTimeout");
        if (!NAME.matcher(id).matches()) throw new IllegalArgumentException("id must be 1 to 64 of A-Z a-z 0-9 . _ : -: " + id);
        if (!NAME.matcher(set).matches()) throw new IllegalArgumentException("set must be 1 to 64 of A-Z a-z 0-9 . _ : -: " + set);
        if (bindHost.isBlank()) throw new IllegalArgumentException("bind-host must not be blank");
        if (grpcPort < 0 || grpcPort > 65535) throw new IllegalArgumentException("grpc-port out of range 0-65535: " + grpcPort);
        positive("agent-timeout", agentTimeout);
        positive("tick-interval", tickInterval);
        positive("agent-call-timeout", agentCallTimeout);
        if (tickInterval.compareTo(agentTimeout) > 0) {
            throw new IllegalArgumentException("tick-interval must be at most agent-timeout: " + tickInterval);
        }
        if (maxAgents < 1) throw new IllegalArgumentException("max-agents must be positive: " + maxAgents);
        if (maxDesktops < 1) throw new IllegalArgumentException("max-desktops must be positive: " + maxDesktops);
        if (maxFindLimit < 1 || maxFindLimit > 1024) throw new IllegalArgumentException("max-find-limit must be 1 to 1024: " + maxFindLimit);
        controlSecret = ControlAuth.checkedSecret(controlSecret);
    }

    private static void positive(String key, Duration d) {
        if (d.isNegative() || d.isZero()) throw new IllegalArgumentException(key + " must be positive: " + d);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    @Override
    public byte[] controlSecret() {
        return controlSecret.clone();
    }

    /** The directory's limits. */
    DesktopDirectory.Limits limits() {
        return new DesktopDirectory.Limits(agentTimeout.toNanos(), DesktopDirectory.MAX_DESKTOP_NUMBER, maxFindLimit);
    }

    /** Every component but the control secret, which only says whether it is set. */
    @Override
    public String toString() {
        return "ConcentratorConfig[id=" + id + ", set=" + set + ", bindHost=" + bindHost + ", grpcPort=" + grpcPort
                + ", agentTimeout=" + agentTimeout + ", tickInterval=" + tickInterval + ", agentCallTimeout="
                + agentCallTimeout + ", maxAgents=" + maxAgents + ", maxDesktops=" + maxDesktops + ", maxFindLimit="
                + maxFindLimit + ", controlSecret=" + (controlSecret.length == 0 ? "unset" : "(redacted)") + "]";
    }

    /** Builds a {@link ConcentratorConfig}; the methods marked {@code @JsonProperty} are the config file's keys. */
    public static final class Builder {
        private String id = "concentrator-1";
        private String set = "set-1";
        private String bindHost = "127.0.0.1";
        private int grpcPort;
        private Duration agentTimeout = Duration.ofSeconds(15);
        private Duration tickInterval = Duration.ofSeconds(1);
        private Duration agentCallTimeout = Duration.ofSeconds(5);
        private int maxAgents = 4096;
        private int maxDesktops = 200_000;
        private int maxFindLimit = 64;
        private byte[] controlSecret = new byte[0];

        private Builder() {}

        private Builder(ConcentratorConfig c) {
            id = c.id;
            set = c.set;
            bindHost = c.bindHost;
            grpcPort = c.grpcPort;
            agentTimeout = c.agentTimeout;
            tickInterval = c.tickInterval;
            agentCallTimeout = c.agentCallTimeout;
            maxAgents = c.maxAgents;
            maxDesktops = c.maxDesktops;
            maxFindLimit = c.maxFindLimit;
            controlSecret = c.controlSecret;
        }

        @JsonProperty public Builder id(String v) { id = v; return this; }

        @JsonProperty public Builder set(String v) { set = v; return this; }

        @JsonProperty public Builder bindHost(String v) { bindHost = v; return this; }

        @JsonProperty public Builder grpcPort(int v) { grpcPort = v; return this; }

        @JsonProperty public Builder agentTimeout(Duration v) { agentTimeout = v; return this; }

        @JsonProperty public Builder tickInterval(Duration v) { tickInterval = v; return this; }

        @JsonProperty public Builder agentCallTimeout(Duration v) { agentCallTimeout = v; return this; }

        @JsonProperty public Builder maxAgents(int v) { maxAgents = v; return this; }

        @JsonProperty public Builder maxDesktops(int v) { maxDesktops = v; return this; }

        @JsonProperty public Builder maxFindLimit(int v) { maxFindLimit = v; return this; }

        /** Never from a file: {@code deskgate up} keeps it in the store's secrets. */
        @JsonIgnore public Builder controlSecret(byte[] secret) { controlSecret = secret.clone(); return this; }

        /** @throws IllegalArgumentException naming the key of a value out of range */
        public ConcentratorConfig build() {
            return new ConcentratorConfig(id, set, bindHost, grpcPort, agentTimeout, tickInterval, agentCallTimeout,
                    maxAgents, maxDesktops, maxFindLimit, controlSecret);
        }
    }
}
