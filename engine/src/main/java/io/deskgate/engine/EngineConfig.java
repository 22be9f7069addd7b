package io.deskgate.engine;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.deskgate.control.ControlAuth;
import io.deskgate.encode.EncoderConfig;
import io.deskgate.stream.StreamSessionConfig;
import java.util.Objects;

/**
 * The generic client engine of one execution host. Validated when built; the config file's {@code engine}
 * section (docs/configuration.md) sets it through {@link Builder}.
 *
 * @param engineId      this engine's name in the registry; default "engine"
 * @param bindHost      where the gRPC control service listens; default 127.0.0.1
 * @param grpcPort      its port, 0 for any free port; default 0
 * @param stream        tuning of every instance's UDP leg; default {@link StreamSessionConfig#defaults()}
 * @param maxInstances  transcoding instances this engine runs at most; default 64
 * @param limits        every instance's flow control and timers: the viewer grace after the gateway's
 *                      VIEWER_LEFT (docs/protocol.md §1.2), the attach grace and the lost-gateway time; the one
 *                      place they are configured; default {@link InstanceLimits#defaults()}
 * @param encoder       every instance's tile encoder; default {@link EncoderConfig#defaults()}
 * @param controlSecret the control plane's shared secret ({@link ControlAuth}), at least 32 bytes: every call
 *                      to the engine must carry its token. No default (never from a file): empty means not set,
 *                      and {@link Engine#start} refuses to start without one. The accessor returns a copy;
 *                      {@link #toString()} leaves it out
 * @param rfbEncodings  what every instance asks its desktop for, by the link ({@link RfbEncodingChoice}); default
 *                      {@code auto}
 */
public record EngineConfig(String engineId, String bindHost, int grpcPort, StreamSessionConfig stream, int maxInstances,
                           InstanceLimits limits, EncoderConfig encoder, byte[] controlSecret, RfbEncodingChoice rfbEncodings) {
    public static final String DEFAULT_ENGINE_ID = "engine";
    public static final int DEFAULT_MAX_INSTANCES = 64;

    public EngineConfig {
        Objects.requireNonNull(engineId, "engineId");
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(encoder, "encoder");
        if (engineId.isBlank()) throw new IllegalArgumentException("engine-id is empty");
        if (bindHost.isBlank()) throw new IllegalArgumentException("bind-host is empty");
        if (grpcPort < 0 || grpcPort > 0xffff) throw new IllegalArgumentException("grpc-port out of range 0-65535: " + grpcPort);
        if (maxInstances < 1) throw new IllegalArgumentException("max-instances must be at least 1: " + maxInstances);
        controlSecret = ControlAuth.checkedSecret(controlSecret);
        Objects.requireNonNull(rfbEncodings, "rfbEncodings");
    }

    /** The config before the RFB encodings became a key: {@code auto}. */
    public EngineConfig(String engineId, String bindHost, int grpcPort, StreamSessionConfig stream, int maxInstances,
                        InstanceLimits limits, EncoderConfig encoder, byte[] controlSecret) {
        this(engineId, bindHost, grpcPort, stream, maxInstances, limits, encoder, controlSecret, RfbEncodingChoice.AUTO);
    }

    /** Every default, and no control secret yet: set one on a {@link #builder()} before {@link Engine#start}. */
    public static EngineConfig defaults() {
        return builder().build();
    }

    /** A builder holding every default and no control secret. */
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
        return "EngineConfig[engineId=" + engineId + ", bindHost=" + bindHost + ", grpcPort=" + grpcPort + ", stream=" + stream
                + ", maxInstances=" + maxInstances + ", limits=" + limits + ", encoder=" + encoder + ", controlSecret="
                + (controlSecret.length == 0 ? "unset" : "(redacted)") + ", rfbEncodings=" + rfbEncodings + "]";
    }

    /**
     * Builds an {@link EngineConfig}, validated by {@link #build()}. The methods marked {@code @JsonProperty} are the
     * keys of the {@code engine} section; {@code stream}, {@code limits} and {@code encoder} are its sub-sections.
     */
    public static final class Builder {
        private String engineId = DEFAULT_ENGINE_ID;
        private String bindHost = "127.0.0.1";
        private int grpcPort;
        private StreamSessionConfig stream = StreamSessionConfig.defaults();
        private int maxInstances = DEFAULT_MAX_INSTANCES;
        private InstanceLimits limits = InstanceLimits.defaults();
        private EncoderConfig encoder = EncoderConfig.defaults();
        private byte[] controlSecret = new byte[0];
        private RfbEncodingChoice rfbEncodings = RfbEncodingChoice.AUTO;

        private Builder() {}

        private Builder(EngineConfig c) {
            engineId = c.engineId;
            bindHost = c.bindHost;
            grpcPort = c.grpcPort;
            stream = c.stream;
            maxInstances = c.maxInstances;
            limits = c.limits;
            encoder = c.encoder;
            controlSecret = c.controlSecret;
            rfbEncodings = c.rfbEncodings;
        }

        @JsonProperty public Builder engineId(String id) { engineId = id; return this; }

        @JsonProperty public Builder bindHost(String host) { bindHost = host; return this; }

        @JsonProperty public Builder grpcPort(int port) { grpcPort = port; return this; }

        @JsonProperty public Builder maxInstances(int instances) { maxInstances = instances; return this; }

        public Builder stream(StreamSessionConfig config) { stream = config; return this; }

        public Builder limits(InstanceLimits config) { limits = config; return this; }

        public Builder encoder(EncoderConfig config) { encoder = config; return this; }

        /** Never from a file: {@code deskgate up} keeps it in the store's secrets. */
        @JsonIgnore public Builder controlSecret(byte[] secret) { controlSecret = secret.clone(); return this; }

        @JsonProperty public Builder rfbEncodings(RfbEncodingChoice choice) { rfbEncodings = choice; return this; }

        /** @throws IllegalArgumentException naming the key of a value out of range */
        public EngineConfig build() {
            return new EngineConfig(engineId, bindHost, grpcPort, stream, maxInstances, limits, encoder, controlSecret, rfbEncodings);
        }
    }
}
