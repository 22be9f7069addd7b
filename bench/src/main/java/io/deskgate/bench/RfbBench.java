package io.deskgate.bench;

import io.deskgate.rfb.RfbClient;
import io.deskgate.rfb.RfbListener;
import io.deskgate.testkit.Recordings;
import java.util.Locale;

/**
 * RFB decode rate: replays the real Xvnc recording {@code recordings/xterm-zrle.rfb.gz} (ZRLE, CopyRect)
 * through a fresh {@link RfbClient} per pass, fed in 64 KiB chunks, outgoing bytes discarded. Reports
 * megapixels of decoded rectangles (Raw/ZRLE areas; CopyRects are not counted) per second of wall time,
 * warm-up passes excluded, and the FramebufferUpdates in one pass. Single-threaded.
 */
public final class RfbBench {
    static final String RECORDING = "xterm-zrle.rfb.gz";
    private static final int CHUNK_BYTES = 64 * 1024;
    private static final int WARMUP_PASSES = 10;

    private RfbBench() {}

    public static void main(String[] args) {
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        System.out.println(run(iterations));
    }

    /** Runs {@code iterations} measured passes and returns the line {@code rfb: decode_mpix_per_s=<x.y> frames=<n>}. */
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
        return String.format(Locale.ROOT, "rfb: decode_mpix_per_s=%.1f frames=%d", pixels / 1e6 / seconds, frames);
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

        @Override public void onRect(int x, int y, int w, int h) { pixels += (long) w * h; }

        @Override public void onUpdateEnd() { updates++; }
    }
}
