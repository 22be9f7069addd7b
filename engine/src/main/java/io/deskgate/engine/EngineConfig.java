package io.deskgate.engine;

import io.deskgate.wire.StreamSessionConfig;

/**
 * The generic client engine of one execution host.
 *
 * @param engineId     this engine's name in the registry; default "engine"
 * @param bindHost     where the gRPC control service listens; default 127.0.0.1
 * @param grpcPort     its port, 0 for any free port; default 0
 * @param stream       tuning of every instance's UDP leg; default {@link StreamSessionConfig#defaults()}
 * @param maxInstances transcoding instances this engine runs at most; default 64
 */
public record EngineConfig(String engineId, String bindHost, int grpcPort, StreamSessionConfig stream, int maxInstances) {
    public EngineConfig {
        if (engineId == null || engineId.isBlank()) throw new IllegalArgumentException("engineId is empty");
        if (bindHost == null || bindHost.isBlank()) throw new IllegalArgumentException("bindHost is empty");
        if (grpcPort < 0 || grpcPort > 0xffff) throw new IllegalArgumentException("grpcPort out of range: " + grpcPort);
        if (stream == null) throw new IllegalArgumentException("stream config is missing");
        if (maxInstances < 1) throw new IllegalArgumentException("maxInstances must be at least 1: " + maxInstances);
    }

    public static EngineConfig defaults() {
        return new EngineConfig("engine", "127.0.0.1", 0, StreamSessionConfig.defaults(), 64);
    }

    public EngineConfig withMaxInstances(int instances) {
        return new EngineConfig(engineId, bindHost, grpcPort, stream, instances);
    }

    public EngineConfig withGrpcPort(int port) {
        return new EngineConfig(engineId, bindHost, port, stream, maxInstances);
    }
}
