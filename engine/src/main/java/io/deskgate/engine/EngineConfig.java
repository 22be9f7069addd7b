package io.deskgate.engine;

import io.deskgate.control.ControlAuth;
import io.deskgate.stream.StreamSessionConfig;

/**
 * The generic client engine of one execution host.
 *
 * @param engineId      this engine's name in the registry; default "engine"
 * @param bindHost      where the gRPC control service listens; default 127.0.0.1
 * @param grpcPort      its port, 0 for any free port; default 0
 * @param stream        tuning of every instance's UDP leg; default {@link StreamSessionConfig#defaults()}
 * @param maxInstances  transcoding instances this engine runs at most; default 64
 * @param limits        every instance's flow control and timers: the viewer grace after the gateway's
 *                      VIEWER_LEFT (docs/protocol.md §1.2), the attach grace and the lost-gateway time;
 *                      default {@link InstanceLimits#defaults()}
 * @param controlSecret the control plane's shared secret ({@link ControlAuth}), at least 32 bytes: every call
 *                      to the engine must carry its token. No default: empty means not set, and
 *                      {@link Engine#start} refuses to start without one. The accessor returns a copy
 */
public record EngineConfig(String engineId, String bindHost, int grpcPort, StreamSessionConfig stream, int maxInstances,
                           InstanceLimits limits, byte[] controlSecret) {
    public EngineConfig {
        if (engineId == null || engineId.isBlank()) throw new IllegalArgumentException("engineId is empty");
        if (bindHost == null || bindHost.isBlank()) throw new IllegalArgumentException("bindHost is empty");
        if (grpcPort < 0 || grpcPort > 0xffff) throw new IllegalArgumentException("grpcPort out of range: " + grpcPort);
        if (stream == null) throw new IllegalArgumentException("stream config is missing");
        if (maxInstances < 1) throw new IllegalArgumentException("maxInstances must be at least 1: " + maxInstances);
        if (limits == null) throw new IllegalArgumentException("instance limits are missing");
        controlSecret = ControlAuth.checkedSecret(controlSecret);
    }

    /** Every default, and no control secret yet: set one with {@link #withControlSecret} before {@link Engine#start}. */
    public static EngineConfig defaults() {
        return new EngineConfig("engine", "127.0.0.1", 0, StreamSessionConfig.defaults(), 64, InstanceLimits.defaults(), new byte[0]);
    }

    public EngineConfig withMaxInstances(int instances) {
        return new EngineConfig(engineId, bindHost, grpcPort, stream, instances, limits, controlSecret);
    }

    public EngineConfig withGrpcPort(int port) {
        return new EngineConfig(engineId, bindHost, port, stream, maxInstances, limits, controlSecret);
    }

    public EngineConfig withStream(StreamSessionConfig streamConfig) {
        return new EngineConfig(engineId, bindHost, grpcPort, streamConfig, maxInstances, limits, controlSecret);
    }

    public EngineConfig withLimits(InstanceLimits instanceLimits) {
        return new EngineConfig(engineId, bindHost, grpcPort, stream, maxInstances, instanceLimits, controlSecret);
    }

    public EngineConfig withControlSecret(byte[] secret) {
        return new EngineConfig(engineId, bindHost, grpcPort, stream, maxInstances, limits, secret);
    }

    @Override
    public byte[] controlSecret() {
        return controlSecret.clone();
    }
}
