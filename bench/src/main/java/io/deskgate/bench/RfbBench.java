package io.deskgate.bench;

import io.deskgate.rfb.RfbClient;
import io.deskgate.rfb.RfbListener;
import io.deskgate.testkit.Recordings;
import java.util.Arrays;
import java.util.Locale;

/**
 * RFB decode rate: replays the real Xvnc recording {@code recordings/xterm-zrle.rfb.gz} (ZRLE, CopyRect)
 * through a fresh {@link RfbClient} per pass, fed in 64 KiB chunks, outgoing bytes discarded. Reports
 * megapixels of decoded rectangles (Raw/ZRLE areas; CopyRects are not counted) per second of wall time,
 * warm-up passes excluded, and the FramebufferUpdates in one pass. Single-threaded.
 *
 * <p>Side by side, the physical floor: the same rectangles written into a framebuffer of the same size
 * by plain {@link System#arraycopy} row copies from an already-decoded source (no parsing, no inflate).
 * No decoder can write its pixels faster than that; {@code ratio_to_copy} says how far from it we are.
 */
public final class RfbBench {
    static final String RECORDING = "xterm-zrle.rfb.gz";
    private static final int CHUNK_BYTES = 64 * 1024;
    private static final int WARMUP_PASSES = 10;
    private static volatile int sink;

    private RfbBench() {}

    /**
     * Runs {@code iterations} measured passes and returns the line
     * {@code rfb: decode_mpix_per_s=<x.y> frames=<n> copy_mpix_per_s=<y> ratio_to_copy=<r>}.
     */
    public static String run(int iterations) {
        if (iterations < 1) throw new IllegalArgumentException("iterations must be >= 1, was " + iterations);
        byte[] recording = Recordings.load(RECORDING);
        for (int i = 0; i < WARMUP_PASSES; i++) pass(recording);
        long pixels = 0;
        long frames = 0;
        long start = System.nanoTime();
        for (int i = 0; i < iterations; i++) {
            Counts c = pass(recording);
            pixels += c.pixels;
            frames = c.updates;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double decodeRate = pixels / 1e6 / seconds;
        double copyRate = copyFloor(recording, iterations);
        return String.format(Locale.ROOT, "rfb: decode_mpix_per_s=%.1f frames=%d copy_mpix_per_s=%.1f ratio_to_copy=%.3f",
                decodeRate, frames, copyRate, decodeRate / copyRate);
    }

    /** Megapixels per second of writing the recording's rectangles with row copies alone. */
    private static double copyFloor(byte[] recording, int iterations) {
        Counts shape = pass(recording);
        int[] source = new int[shape.width * shape.height];
        int[] target = new int[source.length];
        for (int i = 0; i < source.length; i++) source[i] = i * 0x9E3779B1;
        for (int i = 0; i < WARMUP_PASSES; i++) copyPass(shape, source, target);
        long pixels = 0;
        long start = System.nanoTime();
        for (int i = 0; i < iterations; i++) pixels += copyPass(shape, source, target);
        double seconds = (System.nanoTime() - start) / 1e9;
        sink = target[target.length / 2]; // keeps the copies observable to the JIT
        return pixels / 1e6 / seconds;
    }

    private static long copyPass(Counts shape, int[] source, int[] target) {
        long pixels = 0;
        int[] r = shape.rects;
        for (int i = 0; i < shape.rectCount * 4; i += 4) {
            int x = r[i], y = r[i + 1], w = r[i + 2], h = r[i + 3];
            for (int row = y; row < y + h; row++) {
                int at = row * shape.width + x;
                System.arraycopy(source, at, target, at, w);
            }
            pixels += (long) w * h;
        }
        return pixels;
    }

    private static Counts pass(byte[] recording) {
        Counts counts = new Counts();
        RfbClient client = new RfbClient("", true, counts);
        try {
            for (int off = 0; off < recording.length; off += CHUNK_BYTES) {
                client.receive(recording, off, Math.min(CHUNK_BYTES, recording.length - off));
                client.drainOutgoing();
            }
        } finally {
            client.close();
        }
        return counts;
    }

    private static final class Counts implements RfbListener {
        long pixels;
        long updates;
        int width;
        int height;
        int[] rects = new int[4 * 1024];
        int rectCount;

        @Override public void onServerInit(int w, int h, String name) { width = w; height = h; }

        @Override public void onRect(int x, int y, int w, int h) {
            pixels += (long) w * h;
            if (rectCount * 4 == rects.length) rects = Arrays.copyOf(rects, rects.length * 2);
            rects[rectCount * 4] = x;
            rects[rectCount * 4 + 1] = y;
            rects[rectCount * 4 + 2] = w;
            rects[rectCount * 4 + 3] = h;
            rectCount++;
        }

        @Override public void onUpdateEnd() { updates++; }
    }
}
