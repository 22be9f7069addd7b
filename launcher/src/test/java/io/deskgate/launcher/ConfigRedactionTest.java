package io.deskgate.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.agent.AgentConfig;
import io.deskgate.broker.BrokerConfig;
import io.deskgate.engine.EngineConfig;
import io.deskgate.gateway.GatewayConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A config that holds a secret never prints it: a config line in a log carries no key. */
class ConfigRedactionTest {
    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    @Test
    void shouldRedactEverySecretInToString() {
        List<Object> configs = List.of(
                AgentConfig.builder().runtimeDir(Path.of("/run/x")).controlSecret(SECRET).build(),
                BrokerConfig.builder().agentTargets(List.of("127.0.0.1:1")).controlSecret(SECRET).build(),
                EngineConfig.builder().controlSecret(SECRET).build(),
                GatewayConfig.builder().tokenKey(SECRET).streamMasterSecret(SECRET).build());
        for (Object c : configs) {
            assertThat(c.toString()).as("%s", c.getClass().getSimpleName())
                    .contains("(redacted)")
                    .doesNotContain(new String(SECRET, StandardCharsets.US_ASCII))
                    .doesNotContain(HexFormat.of().formatHex(SECRET))
                    .doesNotContain(Arrays.toString(SECRET))
                    .doesNotContain("[B@");
        }
        assertThat(EngineConfig.defaults().toString()).contains("controlSecret=unset");
    }
}
