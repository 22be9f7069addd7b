package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.encode.EncoderConfig;
import org.junit.jupiter.api.Test;

/** {@link LagQuality}: JPEG quality and congestion from the average lag, one step per eight lags at most. */
class LagQualityTest {
    private final EncoderConfig config = EncoderConfig.builder().jpegQuality(0.8f).minJpegQuality(0.6f)
            .lagHighNs(200_000_000L).lagLowNs(80_000_000L).build();
    private final LagQuality quality = new LagQuality(config);

    private void lags(int n, long averageMicros) {
        for (int i = 0; i < n; i++) quality.onLag(averageMicros, averageMicros);
    }

    @Test
    void shouldStartAtTheConfigsQualityUncongested() {
        assertThat(quality.jpegQuality()).isEqualTo(0.8f);
        assertThat(quality.congested()).isFalse();
    }

    @Test
    void shouldStepDownOncePerEightHighLagsToTheMinimumAndBackUpWhenLow() {
        lags(7, 300_000);
        assertThat(quality.jpegQuality()).as("seven lags: not yet").isEqualTo(0.8f);
        lags(1, 300_000);
        assertThat(quality.jpegQuality()).isEqualTo(0.7f);
        assertThat(quality.congested()).isTrue();
        lags(8, 300_000);
        assertThat(quality.jpegQuality()).isEqualTo(0.6f);
        lags(16, 300_000);
        assertThat(quality.jpegQuality()).as("not below min-jpeg-quality").isEqualTo(0.6f);
        lags(8, 100_000);
        assertThat(quality.jpegQuality()).as("between lag-low and lag-high: kept").isEqualTo(0.6f);
        assertThat(quality.congested()).isTrue();
        lags(1, 50_000);
        assertThat(quality.jpegQuality()).isEqualTo(0.7f);
        assertThat(quality.congested()).isFalse();
        lags(7, 50_000);
        assertThat(quality.jpegQuality()).isEqualTo(0.7f);
        lags(1, 50_000);
        assertThat(quality.jpegQuality()).isEqualTo(0.8f);
        lags(16, 50_000);
        assertThat(quality.jpegQuality()).as("not above jpeg-quality").isEqualTo(0.8f);
    }

    @Test
    void shouldNarrowTheFlowControlWindowToWhatIsGivenWithinItsLimits() {
        FlowControl flow = new FlowControl(InstanceLimits.builder().maxFramesInFlight(3).build(), LagObserver.NONE);
        flow.start(0);
        flow.window(1);
        flow.frameSent(0);
        assertThat(flow.mayRequest()).isFalse();
        assertThat(flow.tick(InstanceLimits.DEFAULT_STALL_TIMEOUT_NS)).as("the safety net still fires").isTrue();
        assertThat(flow.framesInFlight()).isZero();
        flow.window(9);
        assertThat(flow.window()).isEqualTo(3);
        flow.window(0);
        assertThat(flow.window()).isEqualTo(1);
    }
}
