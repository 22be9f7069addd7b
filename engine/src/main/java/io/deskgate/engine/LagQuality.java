package io.deskgate.engine;

import io.deskgate.encode.EncoderConfig;

/**
 * Chooses one instance's JPEG quality and how many frames may be in flight from the lag that frame acknowledgements
 * measure ({@link FlowControl} hands it every one, docs/protocol.md §1.2). When the average lag rises above
 * {@link EncoderConfig#lagHighNs()}, quality steps down by {@value #STEP_PERCENT}/100 (not below
 * {@link EncoderConfig#minJpegQuality()}) and the stream is congested: one frame in flight, so damage coalesces into
 * fewer, larger frames (a lower frame rate). When it falls below {@link EncoderConfig#lagLowNs()}, quality steps back
 * up (not above {@link EncoderConfig#jpegQuality()}) and the congestion ends. Between two steps at least
 * {@value #SAMPLES_PER_STEP} lags are heard, as many as the moving average (weight 1/8) needs to follow a change, so
 * one step's effect is seen before the next.
 *
 * <p>Pure and single-threaded: lags in, a quality out. Not thread-safe: the instance's core thread.
 */
final class LagQuality implements LagObserver {
    static final int STEP_PERCENT = 10;
    static final int SAMPLES_PER_STEP = 8;

    private final float maxQuality;
    private final int maxPercent;
    private final int minPercent;
    private final long highMicros;
    private final long lowMicros;
    private int percent;
    private boolean congested;
    private int samples;

    LagQuality(EncoderConfig config) {
        this.maxQuality = config.jpegQuality();
        this.maxPercent = Math.round(maxQuality * 100);
        this.minPercent = Math.min(maxPercent, Math.round(config.minJpegQuality() * 100));
        this.highMicros = config.lagHighNs() / 1000;
        this.lowMicros = config.lagLowNs() / 1000;
        this.percent = maxPercent;
    }

    @Override public void onLag(long lagMicros, long averageLagMicros) {
        if (++samples < SAMPLES_PER_STEP) return;
        if (averageLagMicros > highMicros) {
            samples = 0;
            congested = true;
            percent = Math.max(minPercent, percent - STEP_PERCENT);
        } else if (averageLagMicros < lowMicros) {
            samples = 0;
            congested = false;
            percent = Math.min(maxPercent, percent + STEP_PERCENT);
        }
    }

    /** The JPEG quality of the next frame, {@link EncoderConfig#minJpegQuality()} to {@link EncoderConfig#jpegQuality()}. */
    float jpegQuality() {
        return percent == maxPercent ? maxQuality : Math.max(0.05f, percent / 100f);
    }

    /** Whether the lag is high: one frame in flight at most, until it is low again. */
    boolean congested() { return congested; }
}
