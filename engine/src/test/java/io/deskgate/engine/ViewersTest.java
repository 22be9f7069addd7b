package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.engine.InstanceCoreFixture.FakeDesktop;
import org.junit.jupiter.api.Test;

/**
 * {@link Viewers}' bound. Its stories (two viewers' graces, held input, the attach grace, a lost gateway)
 * are scenario files in {@code src/test/testdata/viewers} ({@link ViewersFlowScenarioTest}).
 */
class ViewersTest {
    static final long MS = 1_000_000L;
    final FakeDesktop desktop = new FakeDesktop(200, 150);
    final Viewers viewers = new Viewers(desktop, InstanceLimits.defaults());
    long now = 7_000 * MS;

    @Test
    void shouldRefuseViewersBeyondItsBound() {
        for (int v = 0; v < Viewers.MAX_VIEWERS; v++) assertThat(viewers.attach(v, now)).isTrue();
        assertThat(viewers.attach(Viewers.MAX_VIEWERS, now)).isFalse();
        assertThat(viewers.size()).isEqualTo(Viewers.MAX_VIEWERS);
    }
}
