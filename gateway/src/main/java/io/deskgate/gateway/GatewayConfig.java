package io.deskgate.gateway;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.deskgate.stream.StreamSessionConfig;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/**
 * Configuration of one gateway (a point of presence's relay). Immutable; validated when built; the config
 * file's {@code gateway} section (docs/configuration.md) sets it through {@link Builder}.
 *
 * @param bindHost           address both listeners bind to (default 127.0.0.1)
 * @param udpPort            UDP port for engines' datagrams; 0 picks a free one (default 0)
 * @param wsPort             TCP port of the WebSocket listener; 0 picks a free one (default 0)
 * @param tokenKey           key that verifies browsers' STREAM tokens (at least 32 bytes); never from a file
 * @param streamMasterSecret the fleet's stream master secret, from which each session's key is derived
 *                           (at least 32 bytes); never from a file
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
    public static final String DEFAULT_BIND_HOST = "127.0.0.1";
    public static final int DEFAULT_MAX_WS_FRAME_BYTES = 64 * 1024;
    public static final long DEFAULT_ENGINE_IDLE_TIMEOUT_NS = 30_000_000_000L;
    public static final int DEFAULT_MAX_SESSIONS = 10_000;
    public static final int DEFAULT_MAX_CONNECTIONS = 20_000;
    public static final long DEFAULT_UPGRADE_TIMEOUT_NS = 10_000_000_000L;

    public GatewayConfig {
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(tokenKey, "tokenKey");
        Objects.requireNonNull(streamMasterSecret, "streamMasterSecret");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(stream, "stream");
        if (bindHost.isBlank()) throw new IllegalArgumentException("bind-host is blank");
        if (udpPort < 0 || udpPort > 65535) throw new IllegalArgumentException("udp-port out of range 0-65535: " + udpPort);
        if (wsPort < 0 || wsPort > 65535) throw new IllegalArgumentException("ws-port out of range 0-65535: " + wsPort);
        if (tokenKey.length < 32 || streamMasterSecret.length < 32) {
            throw new IllegalArgumentException("the token key and the stream master secret must be at least 32 bytes");
        }
        if (maxWsFrameBytes < 16) throw new IllegalArgumentException("max-ws-frame-bytes must be at least 16: " + maxWsFrameBytes);
        if (engineIdleTimeoutNs <= 0) throw new IllegalArgumentException("engine-idle-timeout must be positive: " + engineIdleTimeoutNs + " ns");
        if (maxSessions < 1) throw new IllegalArgumentException("max-sessions must be at least 1: " + maxSessions);
        if (maxConnections < 1) throw new IllegalArgumentException("max-connections must be at least 1: " + maxConnections);
        if (upgradeTimeoutNs < 1_000_000L) throw new IllegalArgumentException("upgrade-timeout must be at least 1 ms: " + upgradeTimeoutNs + " ns");
        tokenKey = tokenKey.clone();
        streamMasterSecret = streamMasterSecret.clone();
    }

    /** A builder holding every default and no keys yet (both are required). */
    public static Builder builder() { return new Builder(); }

    /** A builder holding this config's values. */
    public Builder toBuilder() { return new Builder(this); }

    @Override public byte[] tokenKey() { return tokenKey.clone(); }

    @Override public byte[] streamMasterSecret() { return streamMasterSecret.clone(); }

    /** Every component but the two keys. */
    @Override public String toString() {
        return "GatewayConfig[bindHost=" + bindHost + ", udpPort=" + udpPort + ", wsPort=" + wsPort + ", tls=" + tls.isPresent()
                + ", maxWsFrameBytes=" + maxWsFrameBytes + ", engineIdleTimeoutNs=" + engineIdleTimeoutNs + ", stream=" + stream
                + ", maxSessions=" + maxSessions + ", maxConnections=" + maxConnections + ", upgradeTimeoutNs=" + upgradeTimeoutNs
                + ", tokenKey=(redacted), streamMasterSecret=(redacted)]";
    }

    /**
     * Builds a {@link GatewayConfig}, validated by {@link #build()}. The methods marked {@code @JsonProperty} are the
     * keys of the {@code gateway} section (durations there, ns here); {@code stream} is its sub-section.
     */
    public static final class Builder {
        private String bindHost = DEFAULT_BIND_HOST;
        private int udpPort;
        private int wsPort;
        private byte[] tokenKey = new byte[0];
        private byte[] streamMasterSecret = new byte[0];
        private Optional<SSLContext> tls = Optional.empty();
        private int maxWsFrameBytes = DEFAULT_MAX_WS_FRAME_BYTES;
        private long engineIdleTimeoutNs = DEFAULT_ENGINE_IDLE_TIMEOUT_NS;
        private StreamSessionConfig stream = StreamSessionConfig.defaults();
        private int maxSessions = DEFAULT_MAX_SESSIONS;
        private int maxConnections = DEFAULT_MAX_CONNECTIONS;
        private long upgradeTimeoutNs = DEFAULT_UPGRADE_TIMEOUT_NS;

        private Builder() {}

        private Builder(GatewayConfig c) {
            bindHost = c.bindHost;
            udpPort = c.udpPort;
            wsPort = c.wsPort;
            tokenKey = c.tokenKey;
            streamMasterSecret = c.streamMasterSecret;
            tls = c.tls;
            maxWsFrameBytes = c.maxWsFrameBytes;
            engineIdleTimeoutNs = c.engineIdleTimeoutNs;
            stream = c.stream;
            maxSessions = c.maxSessions;
            maxConnections = c.maxConnections;
            upgradeTimeoutNs = c.upgradeTimeoutNs;
        }

        @JsonProperty public Builder bindHost(String host) { bindHost = host; return this; }

        /** A fixed UDP port (0 picks a free one). */
        @JsonProperty public Builder udpPort(int port) { udpPort = port; return this; }

        /** A fixed WebSocket port (0 picks a free one). */
        @JsonProperty public Builder wsPort(int port) { wsPort = port; return this; }

        /** Never from a file. */
        @JsonIgnore public Builder tokenKey(byte[] key) { tokenKey = key.clone(); return this; }

        /** Never from a file. */
        @JsonIgnore public Builder streamMasterSecret(byte[] secret) { streamMasterSecret = secret.clone(); return this; }

        /** wss with this context. */
        public Builder tls(SSLContext context) { return tls(Optional.of(context)); }

        /** wss with this context, or plain ws when empty. */
        public Builder tls(Optional<SSLContext> context) { tls = Objects.requireNonNull(context, "tls"); return this; }

        @JsonProperty public Builder maxWsFrameBytes(int bytes) { maxWsFrameBytes = bytes; return this; }

        public Builder engineIdleTimeoutNs(long ns) { engineIdleTimeoutNs = ns; return this; }

        @JsonProperty public Builder engineIdleTimeout(Duration d) { return engineIdleTimeoutNs(d.toNanos()); }

        public Builder stream(StreamSessionConfig config) { stream = config; return this; }

        @JsonProperty public Builder maxSessions(int n) { maxSessions = n; return this; }

        @JsonProperty public Builder maxConnections(int n) { maxConnections = n; return this; }

        public Builder upgradeTimeoutNs(long ns) { upgradeTimeoutNs = ns; return this; }

        @JsonProperty public Builder upgradeTimeout(Duration d) { return upgradeTimeoutNs(d.toNanos()); }

        /** @throws IllegalArgumentException naming the key of a value out of range */
        public GatewayConfig build() {
            return new GatewayConfig(bindHost, udpPort, wsPort, tokenKey, streamMasterSecret, tls, maxWsFrameBytes,
                    engineIdleTimeoutNs, stream, maxSessions, maxConnections, upgradeTimeoutNs);
        }
    }
}
