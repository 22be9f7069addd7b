package io.deskgate.encode;

import io.deskgate.encode.EncoderConfig.JpegLibrary;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.WebpTile;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The "WebP encoder" numbers of docs/benchmarks.md: the photo-like tiles of {@link JpegEncoderBench} (64x64) through
 * libjpeg-turbo at quality 80 and through libwebp at several qualities, methods and tunings, on one thread: Mpix/s of
 * this thread's CPU time, bytes per tile and the PSNR of the decoded tiles, so WebP and JPEG can be compared at equal
 * PSNR. Runs only with {@code -Ddeskgate.bench=true} and both libraries; writes {@code target/webp-encoder.txt}.
 */
@EnabledIfSystemProperty(named = "deskgate.bench", matches = "true", disabledReason = "a benchmark: run with -Ddeskgate.bench=true")
class WebpEncoderBench {
    static final int PASSES = 6, WARMUP = 3, TILE = 64;

    @Test
    void compareWebpWithJpeg() throws Exception {
        WebpEncoderTest.library();
        TurboJpegTest.library();
        int[] px = JpegEncoderBench.picture();
        List<String> lines = new ArrayList<>();
        lines.add(JpegEncoderBench.run("turbo q80 64x64", JpegLibrary.TURBO, TILE, TILE, px).line());
        WebpEncoder.Tuning fast = WebpEncoder.Tuning.TILES;
        WebpEncoder.Tuning fastest = new WebpEncoder.Tuning(1, 0, 0);
        for (int method : new int[] {0, 2, 4, 6}) lines.add(webp(px, 80, method, WebpEncoder.Tuning.LIBWEBP));
        for (int q : new int[] {50, 60, 70, 80}) lines.add(webp(px, q, 0, WebpEncoder.Tuning.LIBWEBP));
        for (int q : new int[] {60, 70, 80}) lines.add(webp(px, q, 0, fast));
        for (int q : new int[] {60, 70, 80}) lines.add(webp(px, q, 0, fastest));
        Files.createDirectories(Path.of("target"));
        Files.write(Path.of("target/webp-encoder.txt"), lines);
        lines.forEach(System.out::println);
    }

    static String webp(int[] px, int quality, int method, WebpEncoder.Tuning tuning) {
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        WebpEncoder lib = WebpEncoder.shared();
        int w = JpegEncoderBench.W, h = JpegEncoderBench.H;
        long bytes = 0, tiles = 0, cpuNs = 0, pixels = 0;
        double squared = 0;
        for (int pass = 0; pass < WARMUP + PASSES; pass++) {
            for (int y = 0; y + TILE <= h; y += TILE) {
                for (int x = 0; x + TILE <= w; x += TILE) {
                    long t0 = cpu.getCurrentThreadCpuTime();
                    byte[] webp = lib.encode(px, w, x, y, TILE, TILE, quality, method, tuning);
                    long spent = cpu.getCurrentThreadCpuTime() - t0;
                    if (pass < WARMUP) continue;
                    cpuNs += spent;
                    pixels += TILE * TILE;
                    bytes += webp.length;
                    tiles++;
                    if (pass == WARMUP) {
                        int[] d = WebpTile.Decoder.shared().decode(new Tile(0, 0, TILE, TILE, Tile.FORMAT_WEBP, webp), TILE, TILE);
                        double p = TurboJpegTest.psnr(px, w, x, y, TILE, TILE, d);
                        squared += TILE * TILE * 3 * 255.0 * 255.0 / Math.pow(10, p / 10);
                    }
                }
            }
        }
        long perPass = tiles / PASSES;
        double psnr = 10 * Math.log10(255.0 * 255.0 / (squared / (perPass * TILE * TILE * 3.0)));
        return String.format("%-28s %8.1f Mpix/s CPU %9.0f bytes/tile %6.2f dB",
                "webp q" + quality + " m" + method + " " + tuning.segments() + "/" + tuning.snsStrength() + "/" + tuning.filterStrength(),
                pixels / 1e6 / (cpuNs / 1e9), (double) bytes / tiles, psnr);
    }
}
