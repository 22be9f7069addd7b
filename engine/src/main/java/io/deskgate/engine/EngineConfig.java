package io.deskgate.engine;

import io.deskgate.wire.ControlAuth;
import io.deskgate.wire.StreamSessionConfig;

/**
 * The generic client engine of one execution host.
 *
 * @param engineId      this engine's name in the registry; default "engine"
 * @param bindHost      where the gRPC control service listens; default 127.0.0.1
 * @param grpcPort      its port, 0 for any free port; default 0
 * @param stream        tuning of every instance's UDP leg; default {@link StreamSessionConfig#defaults()}
 * @param maxInstances  transcoding instances this engine runs at most; default 64
 * @param viewerGraceNs how long an instance outlives its last viewer after the gateway's VIEWER_LEFT
 *                      (docs/protocol.md §1.2) before it closes and lets the desktop go; default 60 s
 * @param controlSecret the control plane's shared secret ({@link ControlAuth}), at least 32 bytes: every call
 *                      to the engine must carry its token. No default: empty means not set, and
 *                      {@link Engine#start} refuses to start without one. The accessor returns a copy
 */
public record EngineConfig(String engineId, String bindHost, int grpcPort, StreamSessionConfig stream, int maxInstances,
                           long viewerGraceNs, byte[] controlSecret) {
    public static final long DEFAULT_VIEWER_GRACE_NS = InstanceCore.DEFAULT_VIEWER_GRACE_NS;

    public EngineConfig {
        if (engineId == null || engineId.isBlank()) throw new IllegalArgumentException("engineId is empty");
        if (bindHost == null || bindHost.isBlank()) throw new IllegalArgumentException("bindHost is empty");
        if (grpcPort < 0 || grpcPort > 0xffff) throw new IllegalArgumentException("grpcPort out of range: " + grpcPort);
        if (stream == null) throw new IllegalArgumentException("stream config is missing");
        if (maxInstances < 1) throw new IllegalArgumentException("maxInstances must be at least 1: " + maxInstances);
        if (viewerGraceNs <= 0) throw new IllegalArgumentException("viewerGraceNs must be positive: " + viewerGraceNs);
        controlSecret = ControlAuth.checkedSecret(controlSecret);
    }

    /** Without a control secret yet: set one with {@link #withControlSecret} before {@link Engine#start}. */
    public EngineConfig(String engineId, String bindHost, int grpcPort, StreamSessionConfig stream, int maxInstances,
                        long viewerGraceNs) {
        this(engineId, bindHost, grpcPort, stream, maxInstances, viewerGraceNs, new byte[0]);
    }

    /** With the default viewer grace ({@value #DEFAULT_VIEWER_GRACE_NS} ns) and no control secret yet. */
    public EngineConfig(String engineId, String bindHost, int grpcPort, StreamSessionConfig stream, int maxInstances) {
        this(engineId, bindHost, grpcPort, stream, maxInstances, DEFAULT_VIEWER_GRACE_NS);
    }

    /** Every default, and no control secret yet. */
    public static EngineConfig defaults() {
        return new EngineConfig("engine", "127.0.0.1", 0, StreamSessionConfig.defaults(), 64, DEFAULT_VIEWER_GRACE_NS);
    }

    public EngineConfig withMaxInstances(int instances) {
        return new EngineConfig(engineId, bindHost, grpcPort, stream, instances, viewerGraceNs, controlSecret);
    }

    public EngineConfig withGrpcPort(int port) {
        return new EngineConfig(engineId, bindHost, port, stream, maxInstances, viewerGraceNs, controlSecret);
    }

    public EngineConfig withViewerGraceNs(long graceNs) {
        return new EngineConfig(engineId, bindHost, grpcPort, stream, maxInstances, graceNs, controlSecret);
    }

    public EngineConfig withControlSecret(byte[] secret) {
        return new EngineConfig(engineId, bindHost, grpcPort, stream, maxInstances, viewerGraceNs, secret);
    }

    @Override
    public byte[] controlSecret() {
        return controlSecret.clone();
    }
}
