package io.deskgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.Secrets;
import io.deskgate.metrics.MetricsEndpoint;
import io.deskgate.metrics.RoleMetrics;
import io.deskgate.tokens.TokenClaims;
import io.deskgate.tokens.TokenSigner;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A real gateway on loopback counting into a registry served by the real metrics endpoint, scraped over HTTP. */
class GatewayMetricsTest {
    static final long DEADLINE_NS = 10_000_000_000L;
    final byte[] tokenKey = Secrets.randomBytes(32);
    final byte[] master = Secrets.randomBytes(32);
    final HttpClient http = HttpClient.newHttpClient();
    PrometheusMeterRegistry registry;
    Gateway gateway;
    MetricsEndpoint endpoint;

    @BeforeEach
    void start() throws Exception {
        registry = RoleMetrics.newRegistry();
        gateway = Gateway.start(GatewayConfig.builder().tokenKey(tokenKey).streamMasterSecret(master).build(),
                new GatewayMetrics(new RoleMetrics(registry, "gateway")));
        endpoint = MetricsEndpoint.start(0, registry);
    }

    @AfterEach
    void stop() {
        endpoint.close();
        gateway.close();
    }

    @Test
    void badDatagramsAreCountedByReasonAndGoodOnesInAndOut() throws Exception {
        UUID session = UUID.randomUUID();
        try (FakeEngine engine = FakeEngine.of(gateway, master, 1, session);
             FakeEngine forger = FakeEngine.of(gateway, Secrets.randomBytes(32), 1, UUID.randomUUID())) {
            engine.sendRaw(new byte[] {1, 2, 3});
            awaitMetric("deskgate_gateway_datagrams_dropped_total{reason=\"malformed\"}", 1);
            forger.hello();
            awaitMetric("deskgate_gateway_datagrams_dropped_total{reason=\"auth_failure\"}", 1);
            engine.hello();
            awaitMetric("deskgate_gateway_sessions", 1);
            // In: the garbage, the forgery and the real one; out: at least the probe to the engine just heard.
            assertThat(metric("deskgate_gateway_datagrams_total{direction=\"in\"}")).isGreaterThanOrEqualTo(3);
            assertThat(metric("deskgate_gateway_datagrams_total{direction=\"out\"}")).isGreaterThanOrEqualTo(1);
            assertThat(metric("deskgate_gateway_datagram_bytes_total{direction=\"in\"}")).isGreaterThan(3);
            assertThat(metric("deskgate_gateway_datagrams_dropped_total{reason=\"replay\"}")).isZero();
        }
    }

    @Test
    void attachesAreCountedByOutcome() throws Exception {
        UUID session = UUID.randomUUID();
        TestBrowser refused = TestBrowser.open(gateway, "not-a-token");
        assertThat(refused.awaitClose()).isEqualTo(4401);
        awaitMetric("deskgate_gateway_attaches_total{outcome=\"invalid_token\"}", 1);
        String token = new TokenSigner(tokenKey).sign(new TokenClaims(TokenClaims.STREAM, "alice", 1, session.toString(),
                Instant.now().plusSeconds(60)));
        TestBrowser ok = TestBrowser.open(gateway, token);
        try {
            awaitMetric("deskgate_gateway_attaches_total{outcome=\"attached\"}", 1);
            TestBrowser again = TestBrowser.open(gateway, token);
            assertThat(again.awaitClose()).isEqualTo(4401);
            awaitMetric("deskgate_gateway_attaches_total{outcome=\"token_reused\"}", 1);
            assertThat(metric("deskgate_gateway_connections")).isGreaterThanOrEqualTo(1);
        } finally {
            ok.ws.abort();
        }
    }

    private void awaitMetric(String line, double atLeast) throws Exception {
        long end = System.nanoTime() + DEADLINE_NS;
        double v;
        while ((v = metric(line)) < atLeast) {
            if (System.nanoTime() - end > 0) throw new AssertionError(line + " stayed at " + v + ", wanted " + atLeast);
            Thread.onSpinWait();
        }
    }

    /** The value of the sample {@code line} (name and tags) scraped from the endpoint now; 0 when absent. */
    private double metric(String line) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(endpoint.url()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        for (String l : r.body().split("\n")) {
            if (l.startsWith(line + " ")) return Double.parseDouble(l.substring(line.length() + 1).trim());
        }
        return 0;
    }
}
