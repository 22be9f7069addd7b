package io.deskgate.engine;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/** A {@link NanoClock} that moves only when a test moves it. Thread-safe: instances read it from their threads. */
final class FakeClock implements NanoClock {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    @Override public long nowNs() {
        return now.get();
    }

    long advance(long ns) {
        return now.addAndGet(ns);
    }

    /**
     * Moves the clock by {@code stepNs} at a time, each time waiting until {@code instance} has ticked at the
     * new time (or closed), until {@code done} holds; false if {@code timeout} of real time passed first.
     */
    boolean advanceUntil(TranscodingInstance instance, long stepNs, BooleanSupplier done, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            long target = advance(stepNs);
            if (!awaitTick(instance, target, deadline)) return done.getAsBoolean();
        }
        return true;
    }

    /** Waits (polling, real time) until {@code instance} ticked at {@code atNs} or later, or closed. */
    static boolean awaitTick(TranscodingInstance instance, long atNs, long deadlineNanoTime) throws InterruptedException {
        while (instance.isOpen() && instance.lastTickNs() < atNs) {
            if (System.nanoTime() - deadlineNanoTime > 0) return false;
            Thread.sleep(2); // polling interval of the condition above, not a wait for time to pass
        }
        return true;
    }
}
