package io.deskgate.engine;

import io.deskgate.encode.EncoderConfig;
import io.deskgate.stream.StreamSessionConfig;
import java.util.Objects;

/**
 * What every transcoding instance of an engine is tuned with: the engine's {@link EngineConfig#stream()},
 * {@link EngineConfig#encoder()} and {@link EngineConfig#limits()}. Validated when built.
 *
 * @param stream  its UDP leg
 * @param encoder its tile encoder
 * @param limits  its flow control and presence timers
 * @param rfbEncodings what it asks its desktop for, by the link
 */
public record InstanceConfig(StreamSessionConfig stream, EncoderConfig encoder, InstanceLimits limits, RfbEncodingChoice rfbEncodings) {
    public InstanceConfig {
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(encoder, "encoder");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(rfbEncodings, "rfbEncodings");
    }

    /** The tuning before the RFB encodings became a key: {@code auto}. */
    public InstanceConfig(StreamSessionConfig stream, EncoderConfig encoder, InstanceLimits limits) {
        this(stream, encoder, limits, RfbEncodingChoice.AUTO);
    }

    /** The instance tuning an engine's config holds. */
    public static InstanceConfig of(EngineConfig engine) {
        return builder().stream(engine.stream()).encoder(engine.encoder()).limits(engine.limits()).rfbEncodings(engine.rfbEncodings()).build();
    }

    /** A builder holding every default. */
    public static Builder builder() { return new Builder(); }

    /** A builder holding this config's values. */
    public Builder toBuilder() { return new Builder().stream(stream).encoder(encoder).limits(limits).rfbEncodings(rfbEncodings); }

    /** Builds an {@link InstanceConfig}; no file section of its own (the engine's feeds it). */
    public static final class Builder {
        private StreamSessionConfig stream = StreamSessionConfig.defaults();
        private EncoderConfig encoder = EncoderConfig.defaults();
        private InstanceLimits limits = InstanceLimits.defaults();
        private RfbEncodingChoice rfbEncodings = RfbEncodingChoice.AUTO;

        private Builder() {}

        public Builder stream(StreamSessionConfig config) { stream = Objects.requireNonNull(config, "stream"); return this; }

        public Builder encoder(EncoderConfig config) { encoder = Objects.requireNonNull(config, "encoder"); return this; }

        public Builder limits(InstanceLimits config) { limits = Objects.requireNonNull(config, "limits"); return this; }

        public Builder rfbEncodings(RfbEncodingChoice choice) { rfbEncodings = Objects.requireNonNull(choice, "rfbEncodings"); return this; }

        public InstanceConfig build() { return new InstanceConfig(stream, encoder, limits, rfbEncodings); }
    }
}
