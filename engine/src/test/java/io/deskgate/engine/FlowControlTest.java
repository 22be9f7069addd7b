package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link FlowControl} on its own (docs/protocol.md §1.2): the lag it measures and hands on. */
class FlowControlTest {
    static final long MS = 1_000_000L;
    final List<Long> lags = new ArrayList<>();
    final FlowControl flow = new FlowControl(InstanceLimits.defaults(), (lag, average) -> lags.add(lag));

    @Test
    void shouldHandEveryMeasuredLagToWhoeverChoosesQuality() {
        flow.start(0);
        long first = flow.frameSent(10 * MS);
        long second = flow.frameSent(20 * MS);
        assertThat(flow.mayRequest()).as("two in flight").isFalse();
        assertThat(flow.onAck(first, 10_000, 50 * MS)).isTrue();
        assertThat(flow.onAck(first, 10_000, 60 * MS)).as("a duplicate").isFalse();
        assertThat(flow.onAck(second, 20_000, 100 * MS)).isTrue();
        assertThat(lags).containsExactly(40_000L, 80_000L);
        assertThat(flow.averageLagMicros()).isEqualTo(40_000 + (80_000 - 40_000) / 8);
        assertThat(flow.mayRequest()).isTrue();
    }

    @Test
    void shouldHandNoLagForAnEchoFromTheFutureOrANegativeOne() {
        flow.start(0);
        flow.frameSent(MS);
        assertThat(flow.onAck(0, 5_000, 2 * MS)).isTrue();
        long second = flow.frameSent(3 * MS);
        assertThat(flow.onAck(second, -1, 4 * MS)).isTrue();
        assertThat(lags).isEmpty();
        assertThat(flow.lagMicros()).isEqualTo(-1);
    }
}
