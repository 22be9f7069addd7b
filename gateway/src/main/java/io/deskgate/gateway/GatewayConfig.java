package io.deskgate.gateway;

import io.deskgate.stream.StreamSessionConfig;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/**
 * Configuration of one gateway (a point of presence's relay). Immutable; validated when built.
 *
 * @param bindHost           address both listeners bind to (default 127.0.0.1)
 * @param udpPort            UDP port for engines' datagrams; 0 picks a free one (default 0)
 * @param wsPort             TCP port of the WebSocket listener; 0 picks a free one (default 0)
 * @param tokenKey           key that verifies browsers' STREAM tokens (at least 32 bytes)
 * @param streamMasterSecret the fleet's stream master secret, from which each session's key is derived
 *                           (at least 32 bytes)
 * @param tls                a JDK {@link SSLContext} for wss, or empty for plain ws (default empty); a JDK
 *                           type so that callers need no Netty; used in server mode, no client auth
 * @param maxWsFrameBytes    largest browser frame accepted; a larger one is closed with 1009 (default 64 KiB)
 * @param engineIdleTimeoutNs a session with no authentic datagram from its engine for this long is removed
 *                           and its browser closed with SESSION_ENDED (default 30 s)
 * @param stream             the UDP leg's tuning (default {@link StreamSessionConfig#defaults()})
 * @param maxSessions        sessions held at once; datagrams and attaches for new sessions past it are
 *                           refused (default 10,000)
 * @param maxConnections     TCP connections (HTTP, upgrading or WebSocket) held at once; one past it is
 *                           closed as soon as it is accepted (default 20,000)
 * @param upgradeTimeoutNs   a connection that has not completed its TLS handshake and WebSocket upgrade
 *                           within this long (counted from its last read) is closed (default 10 s)
 */
public record GatewayConfig(String bindHost, int udpPort, int wsPort, byte[] tokenKey, byte[] streamMasterSecret,
                            Optional<SSLContext> tls, int maxWsFrameBytes, long engineIdleTimeoutNs,
                            StreamSessionConfig stream, int maxSessions, int maxConnections, long upgradeTimeoutNs) {
    public static final int DEFAULT_MAX_WS_FRAME_BYTES = 64 * 1024;
    public static final long DEFAULT_ENGINE_IDLE_TIMEOUT_NS = 30_000_000_000L;
    public static final int DEFAULT_MAX_SESSIONS = 10_000;
    public static final int DEFAULT_MAX_CONNECTIONS = 20_000;
    public static final long DEFAULT_UPGRADE_TIMEOUT_NS = 10_000_000_000L;

    public GatewayConfig {
        if (bindHost.isBlank()) throw new IllegalArgumentException("bindHost is blank");
        if (udpPort < 0 || udpPort > 65535 || wsPort < 0 || wsPort > 65535) throw new IllegalArgumentException("port out of range");
        if (tokenKey.length < 32 || streamMasterSecret.length < 32) throw new IllegalArgumentException("keys must be at least 32 bytes");
        if (maxWsFrameBytes < 16) throw new IllegalArgumentException("maxWsFrameBytes must be at least 16");
        if (engineIdleTimeoutNs <= 0) throw new IllegalArgumentException("engineIdleTimeoutNs must be positive");
        if (maxSessions < 1) throw new IllegalArgumentException("maxSessions must be at least 1");
        if (maxConnections < 1) throw new IllegalArgumentException("maxConnections must be at least 1");
        if (upgradeTimeoutNs < 1_000_000L) throw new IllegalArgumentException("upgradeTimeoutNs must be at least 1 ms");
        tokenKey = tokenKey.clone();
        streamMasterSecret = streamMasterSecret.clone();
    }

    public static GatewayConfig defaults(byte[] tokenKey, byte[] streamMaster) {
        return new GatewayConfig("127.0.0.1", 0, 0, tokenKey, streamMaster, Optional.empty(), DEFAULT_MAX_WS_FRAME_BYTES,
                DEFAULT_ENGINE_IDLE_TIMEOUT_NS, StreamSessionConfig.defaults(), DEFAULT_MAX_SESSIONS, DEFAULT_MAX_CONNECTIONS,
                DEFAULT_UPGRADE_TIMEOUT_NS);
    }

    @Override public byte[] tokenKey() { return tokenKey.clone(); }

    @Override public byte[] streamMasterSecret() { return streamMasterSecret.clone(); }

    public GatewayConfig withTls(SSLContext context) {
        return withTls(Optional.of(context));
    }

    /** wss with this context, or plain ws when empty. */
    public GatewayConfig withTls(Optional<SSLContext> context) {
        return new GatewayConfig(bindHost, udpPort, wsPort, tokenKey, streamMasterSecret, context, maxWsFrameBytes,
                engineIdleTimeoutNs, stream, maxSessions, maxConnections, upgradeTimeoutNs);
    }

    public GatewayConfig withBindHost(String host) {
        return new GatewayConfig(host, udpPort, wsPort, tokenKey, streamMasterSecret, tls, maxWsFrameBytes,
                engineIdleTimeoutNs, stream, maxSessions, maxConnections, upgradeTimeoutNs);
    }

    public GatewayConfig withEngineIdleTimeoutNs(long ns) {
        return new GatewayConfig(bindHost, udpPort, wsPort, tokenKey, streamMasterSecret, tls, maxWsFrameBytes, ns, stream,
                maxSessions, maxConnections, upgradeTimeoutNs);
    }

    public GatewayConfig withMaxSessions(int n) {
        return new GatewayConfig(bindHost, udpPort, wsPort, tokenKey, streamMasterSecret, tls, maxWsFrameBytes,
                engineIdleTimeoutNs, stream, n, maxConnections, upgradeTimeoutNs);
    }

    public GatewayConfig withMaxConnections(int n) {
        return new GatewayConfig(bindHost, udpPort, wsPort, tokenKey, streamMasterSecret, tls, maxWsFrameBytes,
                engineIdleTimeoutNs, stream, maxSessions, n, upgradeTimeoutNs);
    }

    public GatewayConfig withUpgradeTimeoutNs(long ns) {
        return new GatewayConfig(bindHost, udpPort, wsPort, tokenKey, streamMasterSecret, tls, maxWsFrameBytes,
                engineIdleTimeoutNs, stream, maxSessions, maxConnections, ns);
    }

    /** A fixed WebSocket port (0 picks a free one). */
    public GatewayConfig withWsPort(int port) {
        return new GatewayConfig(bindHost, udpPort, port, tokenKey, streamMasterSecret, tls, maxWsFrameBytes,
                engineIdleTimeoutNs, stream, maxSessions, maxConnections, upgradeTimeoutNs);
    }

    /** A fixed UDP port (0 picks a free one). */
    public GatewayConfig withUdpPort(int port) {
        return new GatewayConfig(bindHost, port, wsPort, tokenKey, streamMasterSecret, tls, maxWsFrameBytes,
                engineIdleTimeoutNs, stream, maxSessions, maxConnections, upgradeTimeoutNs);
    }

    @Override public String toString() {
        return "GatewayConfig[bindHost=" + bindHost + ", udpPort=" + udpPort + ", wsPort=" + wsPort + ", tls=" + tls.isPresent()
                + ", maxWsFrameBytes=" + maxWsFrameBytes + ", engineIdleTimeoutNs=" + engineIdleTimeoutNs + ", stream=" + stream
                + ", maxSessions=" + maxSessions + ", maxConnections=" + maxConnections + ", upgradeTimeoutNs=" + upgradeTimeoutNs
                + "]";
    }
}
