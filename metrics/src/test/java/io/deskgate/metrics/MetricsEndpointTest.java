package io.deskgate.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.DeskgateException;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsEndpointTest {
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void servesTheRegistryOnLoopbackWithTheRoleTaggedErrors() throws Exception {
        PrometheusMeterRegistry registry = RoleMetrics.newRegistry();
        RoleMetrics m = new RoleMetrics(registry, "gateway");
        m.counter("datagrams.in", "datagrams received").increment(3);
        m.error("io");
        try (MetricsEndpoint e = MetricsEndpoint.start(0, registry)) {
            assertThat(e.url().getHost()).isEqualTo("127.0.0.1");
            HttpResponse<String> r = get(e.url(), null);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("deskgate_gateway_datagrams_in_total 3.0")
                    .contains("deskgate_errors_total{kind=\"io\",role=\"gateway\"} 1.0");
            assertThat(get(e.url().resolve("/other"), null).statusCode()).isEqualTo(404);
        }
    }

    @Test
    void aNonLoopbackBindWithoutATokenIsRefused() {
        assertThatThrownBy(() -> MetricsConfig.builder().port(0).bindHost("0.0.0.0").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scrape-token-file");
        assertThatThrownBy(() -> MetricsConfig.builder().port(0).bindHost("192.0.2.1").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a loopback address");
        assertThat(MetricsConfig.builder().port(0).bindHost("::1").build().enabled()).isTrue();
        assertThat(MetricsConfig.builder().bindHost("0.0.0.0").build().enabled()).isFalse();
    }

    @Test
    void aTokenProtectedEndpointServesOnlyTheRightBearer(@TempDir Path dir) throws Exception {
        Path tokenFile = Files.writeString(dir.resolve("scrape-token"), "correct-horse-battery-staple\n");
        PrometheusMeterRegistry registry = RoleMetrics.newRegistry();
        new RoleMetrics(registry, "broker").counter("placements", "placements", "outcome", "placed").increment();
        MetricsConfig c = MetricsConfig.builder().port(0).bindHost("0.0.0.0").scrapeTokenFile(tokenFile).build();
        try (MetricsEndpoint e = MetricsEndpoint.start(c, registry)) {
            URI local = URI.create("http://127.0.0.1:" + e.url().getPort() + "/metrics");
            assertThat(get(local, null).statusCode()).isEqualTo(401);
            assertThat(get(local, "Bearer correct-horse-battery-stapl").statusCode()).isEqualTo(401);
            assertThat(get(local, "Basic correct-horse-battery-staple").statusCode()).isEqualTo(401);
            HttpResponse<String> ok = get(local, "Bearer correct-horse-battery-staple");
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.body()).contains("deskgate_broker_placements_total{outcome=\"placed\"} 1.0");
        }
    }

    @Test
    void aShortTokenIsRefusedAtStart(@TempDir Path dir) throws Exception {
        Path tokenFile = Files.writeString(dir.resolve("scrape-token"), "short");
        MetricsConfig c = MetricsConfig.builder().port(0).bindHost("0.0.0.0").scrapeTokenFile(tokenFile).build();
        assertThatThrownBy(() -> MetricsEndpoint.start(c, RoleMetrics.newRegistry()))
                .isInstanceOf(DeskgateException.class).hasMessageContaining("fewer than 16");
    }

    @Test
    void tagValuesMustBeBoundedWords() {
        RoleMetrics m = RoleMetrics.unread("agent");
        assertThatThrownBy(() -> m.error("alice@example.com")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> m.counter("x", "x", "user", "Bob Smith")).isInstanceOf(IllegalArgumentException.class);
    }

    private HttpResponse<String> get(URI uri, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri);
        if (authorization != null) b.header("Authorization", authorization);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
