package io.deskgate.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The agent's {@code labels} key: the store's rule for names, at most 64. Pure. */
class AgentConfigLabelsTest {
    private static AgentConfig.Builder builder() {
        return AgentConfig.builder().runtimeDir(Path.of("/tmp/unused")).controlSecret(new byte[32]);
    }

    @Test
    void shouldTakeLabelsThatAreNamesAndDefaultToNone() {
        assertThat(builder().build().labels()).isEmpty();
        assertThat(builder().labels(List.of("gpu", "rack-1.a")).build().labels()).containsExactly("gpu", "rack-1.a");
        assertThat(builder().labels(List.of("gpu")).build().toString()).contains("labels=[gpu]");
    }

    @Test
    void shouldRefuseALabelThatIsNotANameOrTooMany() {
        for (String bad : List.of("", "has space", "-leading", "a/b", "x".repeat(65))) {
            assertThatThrownBy(() -> builder().labels(List.of(bad)).build()).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("labels: each is 1 to 64 letters");
        }
        assertThatThrownBy(() -> builder().labels(Collections.nCopies(65, "gpu")).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessage("labels: at most 64");
    }
}
