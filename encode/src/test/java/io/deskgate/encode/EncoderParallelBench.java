package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The parallel rows of docs/benchmarks.md "encoder (synthetic)": wall milliseconds per 1280x800 frame, every
 * tile dirty, motion detection off (so every tile is encoded), on the caller's thread ({@code
 * parallel-threshold-tiles: 0}) and on the shared {@link EncoderPool}, runs of the two interleaved so both see
 * the same load; and the same for frames of a few tile rows, to choose the threshold. Photo-like content is
 * {@link FrameEncoderParallelTest#photo} (JPEG tiles), text is {@link SyntheticDesktop#text} (PALETTE tiles).
 * Runs only with {@code -Ddeskgate.bench=true}; writes {@code target/encoder-parallel.txt}.
 */
@EnabledIfSystemProperty(named = "deskgate.bench", matches = "true", disabledReason = "a benchmark: run with -Ddeskgate.bench=true")
class EncoderParallelBench {
    static final int W = 1280, H = 800, FRAMES = 8, ROUNDS = 9;

    static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /** Wall and process CPU ms per frame of encoding {@code frames} with {@code dirty} once each. */
    static double[] msPerFrame(FrameEncoder encoder, int[][] frames, BitSet dirty) {
        long c0 = OS.getProcessCpuTime();
        long t0 = System.nanoTime();
        int passes = Math.max(1, 256 / dirty.cardinality()); // small frames: enough work for the CPU clock's ticks
        for (int i = 0; i < passes; i++) for (int[] px : frames) encoder.encode(px, W, H, dirty, List.of());
        long t1 = System.nanoTime();
        long c1 = OS.getProcessCpuTime();
        return new double[] {(t1 - t0) / 1e6 / frames.length / passes, (c1 - c0) / 1e6 / frames.length / passes};
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    static String compare(String name, IntFunction<int[]> content, BitSet dirty) {
        int[][] frames = new int[FRAMES][];
        for (int i = 0; i < FRAMES; i++) frames[i] = content.apply(i);
        EncoderConfig base = EncoderConfig.builder().motionDetection(false).build();
        try (FrameEncoder seq = new FrameEncoder(base.toBuilder().parallelThresholdTiles(0).build());
             FrameEncoder par = new FrameEncoder(base.toBuilder().parallelThresholdTiles(1).build())) {
            for (int i = 0; i < 3; i++) { // warm-up
                msPerFrame(seq, frames, dirty);
                msPerFrame(par, frames, dirty);
            }
            double[] s = new double[ROUNDS], p = new double[ROUNDS], sc = new double[ROUNDS], pc = new double[ROUNDS];
            for (int r = 0; r < ROUNDS; r++) {
                double[] a = msPerFrame(seq, frames, dirty);
                double[] b = msPerFrame(par, frames, dirty);
                s[r] = a[0];
                sc[r] = a[1];
                p[r] = b[0];
                pc[r] = b[1];
            }
            double sm = median(s), pm = median(p);
            long rows = (long) (ROUNDS + 3) * FRAMES * Math.max(1, 256 / dirty.cardinality())
                    * (dirty.previousSetBit(dirty.length()) / Damage.tilesFor(W) + 1);
            return String.format("%-20s %3d tiles  sequential %7.2f ms (CPU %7.2f)  parallel %7.2f ms (CPU %7.2f)  speed-up %.2fx  pool rows %.0f%%%n",
                    name, dirty.cardinality(), sm, median(sc), pm, median(pc), sm / pm, 100.0 * par.rowsEncodedByPool() / rows);
        }
    }

    static BitSet firstTiles(int n) {
        BitSet b = new BitSet();
        b.set(0, n);
        return b;
    }

    @Test
    void fullFramesOfPhotoAndTextSequentialAndParallel() throws Exception {
        int all = Damage.tilesFor(W) * Damage.tilesFor(H);
        long tasksBefore = EncoderPool.shared().tasksSubmitted();
        StringBuilder out = new StringBuilder();
        out.append("cores ").append(Runtime.getRuntime().availableProcessors()).append(", pool threads ")
                .append(EncoderPool.shared().threads()).append(", load average before: ")
                .append(Files.readString(Path.of("/proc/loadavg")).trim()).append('\n');
        out.append(compare("photo, full frame", f -> FrameEncoderParallelTest.photo(W, H, f), firstTiles(all)));
        out.append(compare("text, full frame", f -> SyntheticDesktop.text(W, H, f * 16), firstTiles(all)));
        for (int n : new int[] {16, 24, 32, 40, 64, 128}) {
            out.append(compare("text, first tiles", f -> SyntheticDesktop.text(W, H, f * 16), firstTiles(n)));
            out.append(compare("photo, first tiles", f -> FrameEncoderParallelTest.photo(W, H, f), firstTiles(n)));
        }
        out.append("load average after: ").append(Files.readString(Path.of("/proc/loadavg")).trim()).append('\n');
        Files.writeString(Path.of("target/encoder-parallel.txt"), out);
        System.out.print(out);
        assertThat(EncoderPool.shared().tasksSubmitted()).as("the parallel runs used the pool").isGreaterThan(tasksBefore);
    }
}
