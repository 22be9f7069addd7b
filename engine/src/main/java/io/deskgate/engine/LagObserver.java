package io.deskgate.engine;

/**
 * Whoever chooses the stream's quality: {@link FlowControl} hands it every lag it measures (from a frame's
 * {@code FRAME_END} to its {@code FRAME_ACK}, docs/protocol.md §1.2). Called on the instance's core thread.
 */
@FunctionalInterface
public interface LagObserver {
    /** Nobody chooses quality yet. */
    LagObserver NONE = (lagMicros, averageLagMicros) -> { };

    /**
     * @param lagMicros        the lag of the frame just acknowledged
     * @param averageLagMicros the moving average (weight 1/8) including it
     */
    void onLag(long lagMicros, long averageLagMicros);
}
