package io.deskgate.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RegistrationTest {
    private static Registration of(String id, Map<String, String> addresses, int capacity) {
        return new Registration(Role.GATEWAY, id, UUID.randomUUID(), addresses, capacity, "0.1.0", Map.of());
    }

    @Test
    void shouldRejectMalformedIdsAddressesAndCapacity() {
        assertThatThrownBy(() -> of("", Map.of(), 1)).hasMessageContaining("registry id");
        assertThatThrownBy(() -> of("a b", Map.of(), 1)).hasMessageContaining("registry id");
        assertThatThrownBy(() -> of("x".repeat(129), Map.of(), 1)).hasMessageContaining("registry id");
        assertThatThrownBy(() -> of("g", Map.of(), 0)).hasMessage("capacity must be at least 1: 0");
        assertThatThrownBy(() -> of("g", Map.of("WS", "x"), 1)).hasMessage("addresses keys are lower-case names: WS");
        assertThatThrownBy(() -> of("g", Map.of("ws", " "), 1)).hasMessageContaining("addresses value of ws");
        Map<String, String> many = new HashMap<>();
        for (int i = 0; i < 33; i++) many.put("k" + i, "v");
        assertThatThrownBy(() -> of("g", many, 1)).hasMessage("at most 32 addresses");
    }

    @Test
    void shouldCopyItsMaps() {
        Map<String, String> addresses = new HashMap<>(Map.of("ws", "ws://127.0.0.1:1/s"));
        Registration r = of("gateway-1:eu", addresses, 1);
        addresses.put("udp", "127.0.0.1:2");
        assertThat(r.addresses()).containsOnlyKeys("ws");
        assertThat(Role.valueOf("GATEWAY").sqlName()).isEqualTo("gateway");
    }
}
