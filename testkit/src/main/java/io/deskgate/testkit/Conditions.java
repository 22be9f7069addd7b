package io.deskgate.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waiting on a condition in a test: polled, under a generous deadline, never a bet on how fast the machine is. */
public final class Conditions {
    private static final long POLL_MS = 20;

    private Conditions() {}

    /**
     * Returns once {@code condition} holds; fails naming {@code what} when it still does not after {@code limit}.
     * The condition alone ends the wait: the poll interval is not a timing assumption.
     */
    public static void await(String what, Duration limit, BooleanSupplier condition) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) throw new AssertionError("not within " + limit + ": " + what);
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what, e);
            }
        }
    }
}
