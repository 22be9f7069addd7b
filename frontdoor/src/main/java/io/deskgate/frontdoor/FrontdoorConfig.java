package io.deskgate.frontdoor;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The frontdoor's settings, validated when built; the config file's {@code frontdoor} section
 * (docs/configuration.md) sets them through {@link Builder}.
 *
 * @param bindHost       address to listen on; default {@code 127.0.0.1}. A loopback address serves plain
 *                       HTTP, any other address HTTPS
 * @param port           default {@value #DEFAULT_PORT}; 0 picks a free port
 * @param tlsPem         a PEM file holding the private key (PKCS#8 or PKCS#1/SEC1) and the certificate chain;
 *                       empty to use a self-signed certificate generated under {@code dataDir/tls}
 * @param dataDir        where the generated self-signed certificate is kept
 * @param loginTtl       lifetime of the login cookie; default 8 h
 * @param streamTokenTtl lifetime of a stream token handed to the browser for the gateway; default 60 s
 * @param metricsPort    port of {@code GET /metrics} on 127.0.0.1 only; 0 picks a free port, {@value #METRICS_OFF}
 *                       (the default) serves no metrics
 * @param rolesRefresh   how often the frontdoor renews its view of the registry (live brokers, engines, gateways and
 *                       drain flags) that launches choose from; default 1 s, at most {@link #MAX_ROLES_REFRESH}. A
 *                       drain or a newly registered instance reaches this frontdoor's launches within it. 0: every
 *                       launch reads the registry itself (one statement)
 */
public record FrontdoorConfig(String bindHost, int port, Optional<Path> tlsPem, Path dataDir, Duration loginTtl,
                              Duration streamTokenTtl, int metricsPort, Duration rolesRefresh) {
    public static final String DEFAULT_BIND_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8443;
    public static final Duration DEFAULT_LOGIN_TTL = Duration.ofHours(8);
    public static final Duration DEFAULT_STREAM_TOKEN_TTL = Duration.ofSeconds(60);
    public static final int METRICS_OFF = -1;
    public static final Duration DEFAULT_ROLES_REFRESH = Duration.ofSeconds(1);
    public static final Duration MAX_ROLES_REFRESH = Duration.ofSeconds(60);

    public FrontdoorConfig {
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(tlsPem, "tlsPem");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(loginTtl, "loginTtl");
        Objects.requireNonNull(streamTokenTtl, "streamTokenTtl");
        if (bindHost.isBlank()) throw new IllegalArgumentException("bind-host must not be empty");
        if (port < 0 || port > 65_535) throw new IllegalArgumentException("port " + port + " is out of range 0-65535");
        if (loginTtl.isNegative() || loginTtl.isZero()) throw new IllegalArgumentException("login-ttl must be positive: " + loginTtl);
        if (streamTokenTtl.isNegative() || streamTokenTtl.isZero()) {
            throw new IllegalArgumentException("stream-token-ttl must be positive: " + streamTokenTtl);
        }
        if (metricsPort < METRICS_OFF || metricsPort > 65_535) {
            throw new IllegalArgumentException("metrics-port " + metricsPort + " is out of range 0-65535 (or -1: off)");
        }
        Objects.requireNonNull(rolesRefresh, "rolesRefresh");
        if (rolesRefresh.isNegative() || rolesRefresh.compareTo(MAX_ROLES_REFRESH) > 0) {
            throw new IllegalArgumentException("roles-refresh must be 0 to " + MAX_ROLES_REFRESH.toSeconds() + " s: " + rolesRefresh);
        }
    }

    /** A builder holding every default and no data directory (required). */
    public static Builder builder() { return new Builder(); }

    /** A builder holding this config's values. */
    public Builder toBuilder() { return new Builder(this); }

    /**
     * Builds a {@link FrontdoorConfig}, validated by {@link #build()}. The methods marked {@code @JsonProperty} are the
     * keys of the {@code frontdoor} section (docs/configuration.md).
     */
    public static final class Builder {
        private String bindHost = DEFAULT_BIND_HOST;
        private int port = DEFAULT_PORT;
        private Optional<Path> tlsPem = Optional.empty();
        private Path dataDir;
        private Duration loginTtl = DEFAULT_LOGIN_TTL;
        private Duration streamTokenTtl = DEFAULT_STREAM_TOKEN_TTL;
        private int metricsPort = METRICS_OFF;
        private Duration rolesRefresh = DEFAULT_ROLES_REFRESH;

        private Builder() {}

        private Builder(FrontdoorConfig c) {
            bindHost = c.bindHost;
            port = c.port;
            tlsPem = c.tlsPem;
            dataDir = c.dataDir;
            loginTtl = c.loginTtl;
            streamTokenTtl = c.streamTokenTtl;
            metricsPort = c.metricsPort;
            rolesRefresh = c.rolesRefresh;
        }

        @JsonProperty public Builder bindHost(String host) { bindHost = host; return this; }

        @JsonProperty public Builder port(int p) { port = p; return this; }

        /** Serve HTTPS with this PEM file's key and certificate chain. */
        @JsonProperty public Builder tlsPem(Path pem) { return tlsPem(Optional.of(pem)); }

        /** This PEM file, or (empty) the self-signed certificate when HTTPS is served. */
        public Builder tlsPem(Optional<Path> pem) { tlsPem = Objects.requireNonNull(pem, "tlsPem"); return this; }

        /** Where the generated self-signed certificate is kept: the platform's data directory. */
        public Builder dataDir(Path dir) { dataDir = dir; return this; }

        @JsonProperty public Builder loginTtl(Duration ttl) { loginTtl = ttl; return this; }

        @JsonProperty public Builder streamTokenTtl(Duration ttl) { streamTokenTtl = ttl; return this; }

        /** Serves {@code /metrics} on 127.0.0.1 port {@code p} (0: a free port; {@value #METRICS_OFF}: off). */
        @JsonProperty public Builder metricsPort(int p) { metricsPort = p; return this; }

        /** Renews the launches' view of the registry this often (0: each launch reads the registry itself). */
        @JsonProperty public Builder rolesRefresh(Duration every) { rolesRefresh = every; return this; }

        /** @throws IllegalArgumentException naming the key of a value out of range, or when no data directory is set */
        public FrontdoorConfig build() {
            if (dataDir == null) throw new IllegalArgumentException("the frontdoor's data directory is not set");
            return new FrontdoorConfig(bindHost, port, tlsPem, dataDir, loginTtl, streamTokenTtl, metricsPort, rolesRefresh);
        }
    }
}
