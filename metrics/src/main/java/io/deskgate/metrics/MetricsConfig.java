package io.deskgate.metrics;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a role serves {@code GET /metrics} (docs/configuration.md, the {@code metrics} section of each role):
 * off by default. A loopback bind needs nothing more; any other bind needs a scrape token file, whose token a
 * scraper sends as {@code Authorization: Bearer <token>}. Validated when built; {@link Builder} holds the defaults.
 *
 * @param port            port of the endpoint; 0 for any free port, {@value #OFF} for none (default)
 * @param bindHost        address it listens on (default {@code 127.0.0.1})
 * @param scrapeTokenFile a file holding the scrape token (at least {@value MetricsEndpoint#MIN_TOKEN_LENGTH}
 *                        characters); required when {@code bindHost} is not a loopback address
 */
public record MetricsConfig(int port, String bindHost, Optional<Path> scrapeTokenFile) {
    /** The port that turns the endpoint off. */
    public static final int OFF = -1;
    /** No endpoint. */
    public static final MetricsConfig DISABLED = builder().build();

    public MetricsConfig {
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(scrapeTokenFile, "scrapeTokenFile");
        if (port < OFF || port > 65_535) throw new IllegalArgumentException("port " + port + " is out of range 0-65535 (or -1: off)");
        if (bindHost.isBlank()) throw new IllegalArgumentException("bind-host must not be blank");
        if (port != OFF && scrapeTokenFile.isEmpty() && !isLoopback(bindHost)) {
            throw new IllegalArgumentException("bind-host " + bindHost + " is not a loopback address: metrics off loopback need"
                    + " a scrape-token-file");
        }
    }

    /** The endpoint on 127.0.0.1 at {@code port} (0: any free port). */
    public static MetricsConfig loopback(int port) {
        return builder().port(port).build();
    }

    /** Whether an endpoint is served at all. */
    public boolean enabled() { return port != OFF; }

    /** Whether {@code host} is a loopback address literal or {@code localhost}; a name is never resolved. */
    static boolean isLoopback(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (h.equals("localhost")) return true;
        if (!h.matches("[0-9.]+") && !h.contains(":")) return false;
        try {
            return InetAddress.getByName(h).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    public static Builder builder() { return new Builder(); }

    /** Builds a {@link MetricsConfig}; the methods marked {@code @JsonProperty} are the config file's keys. */
    public static final class Builder {
        private int port = OFF;
        private String bindHost = "127.0.0.1";
        private Optional<Path> scrapeTokenFile = Optional.empty();

        private Builder() {}

        @JsonProperty public Builder port(int v) { port = v; return this; }

        @JsonProperty public Builder bindHost(String v) { bindHost = v; return this; }

        @JsonProperty public Builder scrapeTokenFile(Path v) { scrapeTokenFile = Optional.of(v); return this; }

        /** @throws IllegalArgumentException naming the key of a value out of range */
        public MetricsConfig build() { return new MetricsConfig(port, bindHost, scrapeTokenFile); }
    }
}
