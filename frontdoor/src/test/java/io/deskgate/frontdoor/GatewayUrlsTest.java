package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GatewayUrlsTest {
    @Test
    void shouldUseTheBrowsersHostForAGatewayBoundToAWildcard() {
        assertThat(GatewayUrls.forRequest("wss://0.0.0.0:8444/stream", "desk.example.org:8443"))
                .isEqualTo("wss://desk.example.org:8444/stream");
        assertThat(GatewayUrls.forRequest("wss://[::]:8444/stream", "[2001:db8::7]:8443"))
                .isEqualTo("wss://[2001:db8::7]:8444/stream");
        assertThat(GatewayUrls.forRequest("ws://0.0.0.0:8444/stream", "10.1.2.3")).isEqualTo("ws://10.1.2.3:8444/stream");
    }

    @Test
    void shouldKeepAConcreteGatewayUrl() {
        assertThat(GatewayUrls.forRequest("ws://127.0.0.1:8444/stream", "localhost:8443")).isEqualTo("ws://127.0.0.1:8444/stream");
        assertThat(GatewayUrls.forRequest("wss://0.0.0.0:8444/stream", null)).isEqualTo("wss://0.0.0.0:8444/stream");
    }

    @Test
    void shouldAllowAnyHostOnTheGatewayPortInTheCspForAWildcard() {
        assertThat(GatewayUrls.origin("wss://0.0.0.0:8444/stream")).isEqualTo("wss://*:8444");
        assertThat(GatewayUrls.origin("ws://127.0.0.1:8444/stream")).isEqualTo("ws://127.0.0.1:8444");
        assertThatThrownBy(() -> GatewayUrls.origin("http://127.0.0.1:8444/")).isInstanceOf(IllegalArgumentException.class);
    }
}
