package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamMessage;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The "encoder (synthetic)" numbers of docs/benchmarks.md: a 1280x800 text-like framebuffer scrolling by one
 * 16-px line per frame, every tile damaged (as TigerVNC reports an xterm's scroll), encoded with and without
 * motion detection and palette tiles; and frames of noise, where nothing matches. Bytes per frame are the
 * stream messages' encoded size; CPU is this thread's CPU time per frame. Runs only with
 * {@code -Ddeskgate.bench=true} (it takes tens of seconds of CPU on a busy machine); writes
 * {@code target/encoder-synthetic.txt}.
 */
@EnabledIfSystemProperty(named = "deskgate.bench", matches = "true", disabledReason = "a benchmark: run with -Ddeskgate.bench=true")
class EncoderSyntheticBench {
    static final int W = 1280, H = 800, WARMUP = 60, FRAMES = 120;

    record Result(String name, double bytesPerFrame, double cpuMsPerFrame) {
        String line() { return String.format("%-34s %10.0f bytes/frame %8.2f ms CPU/frame", name, bytesPerFrame, cpuMsPerFrame); }
    }

    static Result scroll(String name, EncoderConfig config) {
        BitSet all = new BitSet();
        all.set(0, Damage.tilesFor(W) * Damage.tilesFor(H));
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        int[][] frames = new int[WARMUP + FRAMES + 1][];
        for (int i = 0; i < frames.length; i++) frames[i] = SyntheticDesktop.text(W, H, i * SyntheticDesktop.LINE);
        try (FrameEncoder encoder = new FrameEncoder(config.toBuilder().parallelThresholdTiles(0).build())) { // thread CPU: all on this thread
            encoder.encodeAll(frames[0], W, H);
            long bytes = 0, cpuNs = 0;
            for (int i = 1; i < frames.length; i++) {
                long t0 = cpu.getCurrentThreadCpuTime();
                List<StreamMessage> out = encoder.encode(frames[i], W, H, all, List.of());
                long t1 = cpu.getCurrentThreadCpuTime();
                if (i > WARMUP) {
                    cpuNs += t1 - t0;
                    for (StreamMessage m : out) bytes += StreamCodec.encode(m).length;
                }
            }
            return new Result(name, bytes / (double) FRAMES, cpuNs / 1e6 / FRAMES);
        }
    }

    static Result noise(String name, EncoderConfig config) {
        BitSet all = new BitSet();
        all.set(0, Damage.tilesFor(W) * Damage.tilesFor(H));
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        int n = 30;
        int[][] frames = new int[n + 1][];
        for (int i = 0; i < frames.length; i++) frames[i] = SyntheticDesktop.noise(W, H, i);
        try (FrameEncoder encoder = new FrameEncoder(config.toBuilder().parallelThresholdTiles(0).build())) { // thread CPU: all on this thread
            encoder.encodeAll(frames[0], W, H);
            long bytes = 0, cpuNs = 0;
            for (int i = 1; i < frames.length; i++) {
                long t0 = cpu.getCurrentThreadCpuTime();
                List<StreamMessage> out = encoder.encode(frames[i], W, H, all, List.of());
                long t1 = cpu.getCurrentThreadCpuTime();
                if (i > 10) {
                    cpuNs += t1 - t0;
                    for (StreamMessage m : out) bytes += StreamCodec.encode(m).length;
                }
            }
            return new Result(name, bytes / (double) (n - 10), cpuNs / 1e6 / (n - 10));
        }
    }

    /** Motion detection alone on noise: the cost of a frame where nothing matches. */
    static double detectorOnlyMsOnNoise() {
        BitSet all = new BitSet();
        all.set(0, Damage.tilesFor(W) * Damage.tilesFor(H));
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        MotionDetector d = new MotionDetector();
        int[] a = SyntheticDesktop.noise(W, H, 1), b = SyntheticDesktop.noise(W, H, 2);
        for (int i = 0; i < 10; i++) d.detect(a, b, W, H, all, all);
        long t0 = cpu.getCurrentThreadCpuTime();
        for (int i = 0; i < 20; i++) d.detect(a, b, W, H, all, all);
        return (cpu.getCurrentThreadCpuTime() - t0) / 1e6 / 20;
    }

    /** Motion detection alone on a one-line scroll. */
    static double detectorOnlyMsOnScroll() {
        BitSet all = new BitSet();
        all.set(0, Damage.tilesFor(W) * Damage.tilesFor(H));
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        MotionDetector d = new MotionDetector();
        int[] a = SyntheticDesktop.text(W, H, 0), b = SyntheticDesktop.text(W, H, SyntheticDesktop.LINE);
        for (int i = 0; i < 20; i++) d.detect(a, b, W, H, all, all);
        long t0 = cpu.getCurrentThreadCpuTime();
        for (int i = 0; i < 40; i++) d.detect(a, b, W, H, all, all);
        return (cpu.getCurrentThreadCpuTime() - t0) / 1e6 / 40;
    }

    @Test
    void textScrollingOneLinePerFrameAt1280x800() throws Exception {
        EncoderConfig base = EncoderConfig.builder().paletteMaxColours(0).motionDetection(false).build();
        Result before = scroll("scroll: zlib tiles (before)", base);
        Result palette = scroll("scroll: palette", base.toBuilder().paletteMaxColours(256).build());
        Result motion = scroll("scroll: motion detection", base.toBuilder().motionDetection(true).build());
        Result both = scroll("scroll: palette + motion (default)", EncoderConfig.defaults());
        Result noiseOff = noise("noise: motion detection off", EncoderConfig.builder().motionDetection(false).build());
        Result noiseOn = noise("noise: motion detection on", EncoderConfig.defaults());
        double detectMs = detectorOnlyMsOnNoise();
        double detectScrollMs = detectorOnlyMsOnScroll();
        StringBuilder out = new StringBuilder();
        for (Result r : List.of(before, palette, motion, both, noiseOff, noiseOn)) out.append(r.line()).append('\n');
        out.append(String.format("noise: MotionDetector.detect alone %.2f ms CPU/frame%n", detectMs));
        out.append(String.format("scroll: MotionDetector.detect alone %.2f ms CPU/frame%n", detectScrollMs));
        Files.writeString(Path.of("target/encoder-synthetic.txt"), out);
        System.out.print(out);
        assertThat(both.bytesPerFrame).isLessThan(0.3 * before.bytesPerFrame);
        assertThat(palette.bytesPerFrame).isLessThan(before.bytesPerFrame);
    }
}
