package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.frontdoor.Frontdoor.EngineEndpoint;
import io.deskgate.store.Registration;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.Role;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class SelectorsTest {
    private static final Instant NOW = Instant.parse("2025-01-01T00:00:00Z");

    @Test
    void enginesAreTriedInTheRegistrysOrderSkippingThoseWithoutAUsableAddress() {
        RegistryEntry a = entry(Role.ENGINE, "a", Map.of(RegistryEntry.GRPC, "127.0.0.1:1"));
        RegistryEntry noAddress = entry(Role.ENGINE, "b", Map.of());
        RegistryEntry badPort = entry(Role.ENGINE, "c", Map.of(RegistryEntry.GRPC, "127.0.0.1:99999"));
        RegistryEntry v6 = entry(Role.ENGINE, "d", Map.of(RegistryEntry.GRPC, "[::1]:4"));
        assertThat(EngineSelector.candidates(List.of(v6, noAddress, a, badPort)))
                .containsExactly(new EngineEndpoint("d", "[::1]:4"), new EngineEndpoint("a", "127.0.0.1:1"));
        assertThat(EngineSelector.candidates(List.of(noAddress))).isEmpty();
    }

    @Test
    void gatewaySelectorTakesTheFirstLiveGatewayWithUsableAddresses() {
        RegistryEntry noUdp = gateway("g0", Map.of(RegistryEntry.WS, "ws://127.0.0.1:8000/g0"));
        RegistryEntry badPort = gateway("g1", Map.of(RegistryEntry.WS, "ws://127.0.0.1:8000/g1", RegistryEntry.UDP, "127.0.0.1:x"));
        RegistryEntry httpUrl = gateway("g2", Map.of(RegistryEntry.WS, "http://127.0.0.1:8000/g2", RegistryEntry.UDP, "127.0.0.1:7002"));
        RegistryEntry good = gateway("g3", Map.of(RegistryEntry.WS, "ws://127.0.0.1:8000/g3", RegistryEntry.UDP, "[::1]:7003"));
        RegistryEntry later = gateway("g4", Map.of(RegistryEntry.WS, "ws://127.0.0.1:8000/g4", RegistryEntry.UDP, "127.0.0.1:7004"));
        assertThat(GatewaySelector.usable(List.of(noUdp, badPort, httpUrl, good, later))).first().satisfies(g -> {
            assertThat(g.id()).isEqualTo("g3");
            assertThat(g.udpHost()).isEqualTo("::1");
            assertThat(g.udpPort()).isEqualTo(7003);
            assertThat(g.wsUrl()).isEqualTo("ws://127.0.0.1:8000/g3");
        });
        assertThat(GatewaySelector.usable(List.of(noUdp, badPort))).isEmpty();
    }

    @Test
    void securityHeadersAllowOnlyGatewayOrigins() {
        var headers = SecurityHeaders.of(List.of(new Frontdoor.GatewayEndpoint("g", "wss://pop1.example:8443/stream?x=1",
                "10.0.0.1", 1)), true);
        assertThat(headers.get("Content-Security-Policy")).contains("connect-src 'self' wss://pop1.example:8443;");
        assertThat(headers).containsKey("Strict-Transport-Security");
    }

    @Test
    void securityHeadersPerReadingFollowTheGatewaysOfEachReading() {
        var perReading = new SecurityHeaders.PerReading(false);
        var one = List.of(new Frontdoor.GatewayEndpoint("g1", "ws://pop1.example:8000/s", "10.0.0.1", 1));
        var first = perReading.headers(one);
        assertThat(first.get("Content-Security-Policy")).contains("connect-src 'self' ws://pop1.example:8000;");
        assertThat(perReading.headers(List.copyOf(one))).as("an equal reading: the same headers").isSameAs(first);
        var two = List.of(one.get(0), new Frontdoor.GatewayEndpoint("g2", "ws://pop2.example:8000/s", "10.0.0.2", 1));
        assertThat(perReading.headers(two).get("Content-Security-Policy"))
                .contains("connect-src 'self' ws://pop1.example:8000 ws://pop2.example:8000;");
        assertThat(perReading.headers(List.of()).get("Content-Security-Policy")).contains("connect-src 'self';");
        assertThat(perReading.headers(List.of())).doesNotContainKey("Strict-Transport-Security");
    }

    private static RegistryEntry gateway(String id, Map<String, String> addresses) {
        return entry(Role.GATEWAY, id, addresses);
    }

    private static RegistryEntry entry(Role role, String id, Map<String, String> addresses) {
        return new RegistryEntry(new Registration(role, id, UUID.randomUUID(), addresses, 10, "0.1.0", Map.of()), 0,
                NOW, NOW);
    }
}
