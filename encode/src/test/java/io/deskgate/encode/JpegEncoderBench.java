package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.encode.EncoderConfig.JpegLibrary;
import io.deskgate.stream.StreamMessage.Tile;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The "JPEG encoder" numbers of docs/benchmarks.md: photo-like tiles (a synthetic 1280x768 picture of smooth
 * colour waves with grain, cut into tiles) through {@link TileEncoder#jpeg} with libjpeg-turbo and with the JDK's
 * writer, at the default quality (0.8), on one thread: Mpix/s of this thread's CPU time, bytes per tile, and the
 * PSNR of the decoded tiles. 64x64 tiles, and 256x64 (four merged tiles, {@code max-run-tiles}). Runs only with
 * {@code -Ddeskgate.bench=true} and the library; writes {@code target/jpeg-encoder.txt}.
 */
@EnabledIfSystemProperty(named = "deskgate.bench", matches = "true", disabledReason = "a benchmark: run with -Ddeskgate.bench=true")
class JpegEncoderBench {
    static final int W = 1280, H = 768, PASSES = 20, WARMUP = 10;

    record Result(String name, double mpixPerS, double bytesPerTile, double psnrDb) {
        String line() {
            return String.format("%-28s %8.1f Mpix/s CPU %9.0f bytes/tile %6.2f dB", name, mpixPerS, bytesPerTile, psnrDb);
        }
    }

    static int[] picture() {
        Random random = new Random(11);
        int[] px = new int[W * H];
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                double a = Math.sin(x / 37.0) + Math.cos(y / 23.0), b = Math.sin((x + y) / 51.0), c = Math.cos((x - 2 * y) / 29.0);
                int r = clamp((int) (128 + 60 * a + random.nextInt(13) - 6));
                int g = clamp((int) (120 + 90 * b + random.nextInt(13) - 6));
                int bl = clamp((int) (110 + 80 * c + random.nextInt(13) - 6));
                px[y * W + x] = r << 16 | g << 8 | bl;
            }
        }
        return px;
    }

    private static int clamp(int v) { return Math.max(0, Math.min(255, v)); }

    static Result run(String name, JpegLibrary library, int tileW, int tileH, int[] px) throws IOException {
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        try (TileEncoder encoder = new TileEncoder(EncoderConfig.builder().jpegLibrary(library).build())) {
            assertThat(encoder.jpegLibrary()).as(name).isEqualTo(library);
            long bytes = 0, tiles = 0, cpuNs = 0, pixels = 0;
            double psnr = 0;
            for (int pass = 0; pass < WARMUP + PASSES; pass++) {
                long t0 = cpu.getCurrentThreadCpuTime();
                for (int y = 0; y + tileH <= H; y += tileH) {
                    for (int x = 0; x + tileW <= W; x += tileW) {
                        Tile t = encoder.jpeg(px, W, x, y, tileW, tileH);
                        if (pass == 0) {
                            bytes += t.data().length;
                            tiles++;
                            psnr += TurboJpegTest.psnr(px, W, x, y, tileW, tileH, TurboJpegTest.decode(t.data(), tileW, tileH));
                        }
                    }
                }
                long t1 = cpu.getCurrentThreadCpuTime();
                if (pass >= WARMUP) {
                    cpuNs += t1 - t0;
                    pixels += (long) (W / tileW) * tileW * (H / tileH) * tileH;
                }
            }
            return new Result(name, pixels / 1e6 / (cpuNs / 1e9), bytes / (double) tiles, psnr / tiles);
        }
    }

    @Test
    void photoTilesByLibjpegTurboAndByTheJdk() throws IOException {
        TurboJpegTest.library();
        int[] px = picture();
        Result turbo64 = run("64x64: libjpeg-turbo", JpegLibrary.TURBO, 64, 64, px);
        Result jdk64 = run("64x64: JDK javax.imageio", JpegLibrary.JDK, 64, 64, px);
        Result turbo256 = run("256x64: libjpeg-turbo", JpegLibrary.TURBO, 256, 64, px);
        Result jdk256 = run("256x64: JDK javax.imageio", JpegLibrary.JDK, 256, 64, px);
        StringBuilder out = new StringBuilder();
        for (Result r : new Result[] {turbo64, jdk64, turbo256, jdk256}) out.append(r.line()).append('\n');
        out.append(String.format("speed ratio turbo/jdk: 64x64 %.2f, 256x64 %.2f%n",
                turbo64.mpixPerS / jdk64.mpixPerS, turbo256.mpixPerS / jdk256.mpixPerS));
        Files.writeString(Path.of("target/jpeg-encoder.txt"), out);
        System.out.print(out);
        // the same picture quality for about the same bytes (both are IJG-style quality 80, 4:2:0)
        assertThat(turbo64.psnrDb).isGreaterThan(jdk64.psnrDb - 1.0);
        assertThat(turbo64.bytesPerTile).isLessThan(1.25 * jdk64.bytesPerTile);
        assertThat(turbo256.psnrDb).isGreaterThan(jdk256.psnrDb - 1.0);
    }
}
