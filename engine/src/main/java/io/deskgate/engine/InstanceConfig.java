package io.deskgate.engine;

import io.deskgate.encode.EncoderConfig;
import io.deskgate.stream.StreamSessionConfig;

/**
 * What every transcoding instance of an engine is tuned with. Validated when built.
 *
 * @param stream  its UDP leg
 * @param encoder its tile encoder
 * @param limits  its flow control and presence timers
 */
public record InstanceConfig(StreamSessionConfig stream, EncoderConfig encoder, InstanceLimits limits) {
    public InstanceConfig {
        if (stream == null || encoder == null || limits == null) throw new IllegalArgumentException("instance config incomplete");
    }

    public static InstanceConfig defaults() {
        return new InstanceConfig(StreamSessionConfig.defaults(), EncoderConfig.defaults(), InstanceLimits.defaults());
    }
}
