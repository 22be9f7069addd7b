package io.deskgate.encode;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The threads that encode the rows of large frames for every {@link FrameEncoder} of a process, so that one
 * frame uses more than one core while the total stays bounded: a transcoding engine runs dozens of instances, and
 * a pool per instance would run dozens of threads per core. One pool per process, shared by every instance
 * ({@link #shared()}, {@link Runtime#availableProcessors()} daemon threads), unless the owner passes its own.
 *
 * <p>A frame's caller encodes rows itself too and never waits for a task to start: a task that starts after its
 * frame is done finds no row left and ends at once. So a busy pool (every instance encoding large frames at
 * once) degrades each frame to its caller's thread, never to a queue.
 *
 * <p>Thread-safe. {@link #close()} stops the threads of a pool the owner created; the shared pool lives as long as
 * the process (its threads are daemons).
 */
public final class EncoderPool implements AutoCloseable {
    private static final AtomicInteger POOLS = new AtomicInteger();

    private final ExecutorService executor;
    private final int threads;
    private final boolean shared;
    private final AtomicLong tasksSubmitted = new AtomicLong();

    /** A pool of {@code threads} daemon threads named {@code deskgate-encode-<pool>-<n>}; {@code threads} at least 1. */
    public EncoderPool(int threads) {
        this(threads, false);
    }

    private EncoderPool(int threads, boolean shared) {
        if (threads < 1) throw new IllegalArgumentException("an encoder pool needs at least 1 thread: " + threads);
        this.threads = threads;
        this.shared = shared;
        int pool = POOLS.incrementAndGet();
        AtomicInteger n = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, "deskgate-encode-" + pool + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.executor = Executors.newFixedThreadPool(threads, factory);
    }

    private static final class Shared {
        static final EncoderPool POOL = new EncoderPool(Runtime.getRuntime().availableProcessors(), true);
    }

    /** The process's pool: {@link Runtime#availableProcessors()} daemon threads, created on first use. */
    public static EncoderPool shared() {
        return Shared.POOL;
    }

    /** How many threads encode at most at once (the caller of a frame not counted). */
    public int threads() { return threads; }

    /** Tasks handed to the pool so far (a frame encoded in parallel hands it at most {@link #threads()} - 1). */
    long tasksSubmitted() { return tasksSubmitted.get(); }

    /** Runs {@code task} on a pool thread; false if the pool is closed (the caller then does the work itself). */
    boolean offer(Runnable task) {
        try {
            executor.execute(task);
            tasksSubmitted.incrementAndGet();
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /** Stops this pool's threads after their current tasks; the shared pool ignores it. */
    @Override public void close() {
        if (!shared) executor.shutdown();
    }
}
