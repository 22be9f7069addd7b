package io.deskgate.frontdoor;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The frontdoor's settings, validated when built.
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
 */
public record FrontdoorConfig(String bindHost, int port, Optional<Path> tlsPem, Path dataDir, Duration loginTtl,
                              Duration streamTokenTtl, int metricsPort) {
    public static final String DEFAULT_BIND_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8443;
    public static final Duration DEFAULT_LOGIN_TTL = Duration.ofHours(8);
    public static final Duration DEFAULT_STREAM_TOKEN_TTL = Duration.ofSeconds(60);
    public static final int METRICS_OFF = -1;

    public FrontdoorConfig {
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(tlsPem, "tlsPem");
        Objects.requireNonNull(dataDir, "dataDir");
        if (bindHost.isBlank()) throw new IllegalArgumentException("frontdoor bindHost must not be empty");
        if (port < 0 || port > 65_535) throw new IllegalArgumentException("frontdoor port " + port + " is out of range 0-65535");
        if (loginTtl.isNegative() || loginTtl.isZero()) throw new IllegalArgumentException("frontdoor loginTtl must be positive");
        if (streamTokenTtl.isNegative() || streamTokenTtl.isZero()) {
            throw new IllegalArgumentException("frontdoor streamTokenTtl must be positive");
        }
        if (metricsPort < METRICS_OFF || metricsPort > 65_535) {
            throw new IllegalArgumentException("frontdoor metricsPort " + metricsPort + " is out of range 0-65535 (or -1: off)");
        }
    }

    /** Every default, with the self-signed certificate kept under {@code dataDir}. */
    public static FrontdoorConfig defaults(Path dataDir) {
        return new FrontdoorConfig(DEFAULT_BIND_HOST, DEFAULT_PORT, Optional.empty(), dataDir, DEFAULT_LOGIN_TTL,
                DEFAULT_STREAM_TOKEN_TTL, METRICS_OFF);
    }

    public FrontdoorConfig withBindHost(String host) {
        return new FrontdoorConfig(host, port, tlsPem, dataDir, loginTtl, streamTokenTtl, metricsPort);
    }

    public FrontdoorConfig withPort(int p) {
        return new FrontdoorConfig(bindHost, p, tlsPem, dataDir, loginTtl, streamTokenTtl, metricsPort);
    }

    public FrontdoorConfig withTlsPem(Path pem) {
        return new FrontdoorConfig(bindHost, port, Optional.of(pem), dataDir, loginTtl, streamTokenTtl, metricsPort);
    }

    public FrontdoorConfig withLoginTtl(Duration ttl) {
        return new FrontdoorConfig(bindHost, port, tlsPem, dataDir, ttl, streamTokenTtl, metricsPort);
    }

    public FrontdoorConfig withStreamTokenTtl(Duration ttl) {
        return new FrontdoorConfig(bindHost, port, tlsPem, dataDir, loginTtl, ttl, metricsPort);
    }

    /** Serves {@code /metrics} on 127.0.0.1 port {@code p} (0: a free port; {@value #METRICS_OFF}: off). */
    public FrontdoorConfig withMetricsPort(int p) {
        return new FrontdoorConfig(bindHost, port, tlsPem, dataDir, loginTtl, streamTokenTtl, p);
    }
}
