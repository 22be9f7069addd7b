package io.deskgate.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RestartBackoffTest {

    @Test
    void shouldDoubleFromTheFirstDelayUpToTheMaximumAndStopAfterTheLastAttempt() {
        RestartBackoff b = new RestartBackoff(6, Duration.ofMillis(500), Duration.ofSeconds(3));
        assertThat(b.delayBefore(1)).contains(Duration.ofMillis(500));
        assertThat(b.delayBefore(2)).contains(Duration.ofSeconds(1));
        assertThat(b.delayBefore(3)).contains(Duration.ofSeconds(2));
        assertThat(b.delayBefore(4)).contains(Duration.ofSeconds(3));
        assertThat(b.delayBefore(6)).contains(Duration.ofSeconds(3));
        assertThat(b.delayBefore(7)).isEmpty();
        assertThat(b.delayBefore(0)).isEmpty();
    }

    @Test
    void shouldRejectNoAttemptsAndAMaximumBelowTheFirstDelay() {
        assertThatThrownBy(() -> new RestartBackoff(0, Duration.ZERO, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RestartBackoff(1, Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
