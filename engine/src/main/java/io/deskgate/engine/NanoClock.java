package io.deskgate.engine;

/**
 * The engine's time source: monotonic nanoseconds, never negative (so a value serves as {@code FRAME_END}'s
 * server time). The engine and its instances read time only from here, so tests run them on a fake clock.
 * Implementations are thread-safe.
 */
@FunctionalInterface
public interface NanoClock {
    long nowNs();

    /** {@link System#nanoTime()} counted from the first call of this method in the JVM. */
    static NanoClock system() {
        return SystemClock.INSTANCE;
    }

    /** Holds the origin. */
    enum SystemClock implements NanoClock {
        INSTANCE;

        private final long originNs = System.nanoTime();

        @Override public long nowNs() {
            return System.nanoTime() - originNs;
        }
    }
}
