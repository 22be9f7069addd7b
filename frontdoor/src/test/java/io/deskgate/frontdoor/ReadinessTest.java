package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Readiness on a fake clock: fixed components, registry instances that come and go, probes that age. */
class ReadinessTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void shouldTrackInstancesThatComeAndGoAndAgeEveryProbe() {
        Readiness r = new Readiness(List.of(Readiness.STORE, Readiness.ENGINES), Duration.ofSeconds(4));
        r.ok(Readiness.STORE, T0);
        r.ok(Readiness.ENGINES, T0);
        String engine = Readiness.engine("e1");
        r.track(engine);
        assertThat(r.down(T0)).as("a new instance is down until its first good probe").containsExactly(engine);
        r.ok(engine, T0);
        r.track(engine); // known: no reset
        assertThat(r.down(T0.plusSeconds(1))).isEmpty();
        assertThat(r.states(T0.plusSeconds(1))).containsExactly(java.util.Map.entry(Readiness.STORE, "up"),
                java.util.Map.entry(Readiness.ENGINES, "up"), java.util.Map.entry(engine, "up"));

        r.untrack(engine);
        assertThat(r.states(T0.plusSeconds(1))).doesNotContainKey(engine);
        assertThatThrownBy(() -> r.up(engine, T0)).hasMessage("unknown component engine:e1");
        assertThat(r.down(T0.plusSeconds(4))).as("a probe 4 s old is stale").containsExactly(Readiness.STORE, Readiness.ENGINES);
        r.failed(Readiness.STORE);
        assertThat(r.down(T0.plusSeconds(1))).containsExactly(Readiness.STORE);
    }
}
