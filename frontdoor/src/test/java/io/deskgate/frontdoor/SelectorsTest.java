package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.frontdoor.Frontdoor.EngineEndpoint;
import io.deskgate.store.RegistryEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class SelectorsTest {
    private static final EngineEndpoint A = new EngineEndpoint("a", "127.0.0.1:1");
    private static final EngineEndpoint B = new EngineEndpoint("b", "127.0.0.1:2");
    private static final EngineEndpoint C = new EngineEndpoint("c", "127.0.0.1:3");
    private static final Instant NOW = Instant.parse("2025-01-01T00:00:00Z");

    @Test
    void engineWithLeastConnectionsWinsAndUnreachableOnesAreSkipped() {
        assertThat(EngineSelector.leastConnections(List.of(
                new EngineSelector.Tally(A, OptionalInt.of(3)),
                new EngineSelector.Tally(B, OptionalInt.empty()),
                new EngineSelector.Tally(C, OptionalInt.of(1))))).contains(C);
        assertThat(EngineSelector.leastConnections(List.of(
                new EngineSelector.Tally(A, OptionalInt.of(2)), new EngineSelector.Tally(B, OptionalInt.of(2))))).contains(A);
        assertThat(EngineSelector.leastConnections(List.of(new EngineSelector.Tally(A, OptionalInt.empty())))).isEmpty();
    }

    @Test
    void gatewaySelectorSkipsStaleAndIncompleteEntriesAndTakesTheLowestId() {
        GatewaySelector selector = new GatewaySelector(Duration.ofSeconds(30));
        RegistryEntry stale = gateway("g0", NOW.minusSeconds(31), "7000");
        RegistryEntry broken = gateway("g1", NOW, "not-a-port");
        RegistryEntry later = gateway("g3", NOW, "7003");
        RegistryEntry healthy = gateway("g2", NOW.minusSeconds(5), "7002");
        assertThat(selector.pick(List.of(stale, later, broken, healthy), NOW)).hasValueSatisfying(g -> {
            assertThat(g.id()).isEqualTo("g2");
            assertThat(g.udpPort()).isEqualTo(7002);
            assertThat(g.wsUrl()).isEqualTo("ws://127.0.0.1:8000/g2");
        });
        assertThat(selector.pick(List.of(stale, broken), NOW)).isEmpty();
    }

    @Test
    void securityHeadersAllowOnlyGatewayOrigins() {
        var headers = SecurityHeaders.of(List.of(new Frontdoor.GatewayEndpoint("g", "wss://pop1.example:8443/stream?x=1",
                "10.0.0.1", 1)), true);
        assertThat(headers.get("Content-Security-Policy")).contains("connect-src 'self' wss://pop1.example:8443;");
        assertThat(headers).containsKey("Strict-Transport-Security");
    }

    private static RegistryEntry gateway(String id, Instant heartbeat, String udpPort) {
        return new RegistryEntry(RegistryEntry.GATEWAY, id, "x", Map.of(RegistryEntry.WS_URL, "ws://127.0.0.1:8000/" + id,
                RegistryEntry.UDP_HOST, "127.0.0.1", RegistryEntry.UDP_PORT, udpPort), heartbeat);
    }
}
