package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.TileCanvas;
import io.deskgate.stream.ZstreamTile;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Parallel frame encoding (FrameEncoder on an EncoderPool) sends exactly what the sequential encoder sends:
 * the same messages, byte for byte, in the same order, on every kind of content and damage.
 */
class FrameEncoderParallelTest {
    /** More threads than this machine's cores, so rows really interleave. */
    static EncoderPool pool;

    @BeforeAll static void startPool() { pool = new EncoderPool(4); }

    @AfterAll static void stopPool() { pool.close(); }

    static EncoderConfig sequential(EncoderConfig c) { return c.toBuilder().parallelThresholdTiles(0).build(); }

    static EncoderConfig parallel(EncoderConfig c) { return c.toBuilder().parallelThresholdTiles(1).build(); }

    /** Photo-like: smooth gradients with grain, more than 256 colours in every tile (JPEG). */
    static int[] photo(int width, int height, long seed) {
        Random random = new Random(seed);
        int[] px = new int[width * height];
        double phase = random.nextDouble() * 6;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int r = clamp(128 + 100 * Math.sin(x / 37.0 + phase) + random.nextInt(24));
                int g = clamp(128 + 100 * Math.cos(y / 23.0 - phase) + random.nextInt(24));
                int b = clamp((x + y) / 8.0 + random.nextInt(24));
                px[y * width + x] = r << 16 | g << 8 | b;
            }
        }
        return px;
    }

    private static int clamp(double v) { return (int) Math.max(0, Math.min(255, v)); }

    /** A desktop of a photo wallpaper, a text window, flat panels and a strip of noise. */
    static int[] mixed(int width, int height, long seed) {
        int[] px = photo(width, height, seed);
        int ww = width / 2, wh = height / 2;
        SyntheticDesktop.drawText(px, width, width / 4, height / 5, ww, wh, (int) seed * 16, 0x101010, 0xf0f0f0);
        for (int y = 0; y < height / 8; y++) Arrays.fill(px, y * width, y * width + width, 0x3a6ea5);
        Random random = new Random(seed);
        for (int y = height - height / 10; y < height; y++) {
            for (int x = 0; x < width / 3; x++) px[y * width + x] = random.nextInt() & 0xffffff;
        }
        return px;
    }

    static BitSet all(int width, int height) {
        BitSet b = new BitSet();
        b.set(0, Damage.tilesFor(width) * Damage.tilesFor(height));
        return b;
    }

    static BitSet randomDamage(int width, int height, Random random) {
        int n = Damage.tilesFor(width) * Damage.tilesFor(height);
        BitSet b = new BitSet();
        double p = random.nextDouble();
        for (int t = 0; t < n; t++) if (random.nextDouble() < p) b.set(t);
        return b;
    }

    /**
     * The same messages in the same order, byte for byte, except ZSTREAM tiles: each lane has a stream of its own, so a
     * tile another lane encoded differs in its lane and its deflate bytes; it must have the same rectangle and mode.
     */
    static void assertSameMessages(List<StreamMessage> parallel, List<StreamMessage> sequential, String what) {
        assertThat(parallel).as(what + ": message count").hasSameSizeAs(sequential);
        for (int i = 0; i < sequential.size(); i++) {
            if (parallel.get(i) instanceof Tile p && sequential.get(i) instanceof Tile s && s.format() == Tile.FORMAT_ZSTREAM) {
                assertThat(List.of(p.x(), p.y(), p.w(), p.h(), p.format(), (int) p.data()[ZstreamTile.MODE_OFFSET]))
                        .as(what + ": message " + i + " " + s).isEqualTo(List.of(s.x(), s.y(), s.w(), s.h(), s.format(), (int) s.data()[ZstreamTile.MODE_OFFSET]));
                continue;
            }
            assertThat(StreamCodec.encode(parallel.get(i))).as(what + ": message " + i + " " + sequential.get(i))
                    .isEqualTo(StreamCodec.encode(sequential.get(i)));
        }
    }

    /** Paints a frame's messages on a client's canvas (whose ZSTREAM lanes carry on across frames). */
    static void paint(TileCanvas canvas, List<StreamMessage> messages) {
        for (StreamMessage m : messages) {
            if (m instanceof Tile t) canvas.paint(t);
            else if (m instanceof StreamMessage.CopyRect c) canvas.copy(c);
        }
    }

    void shouldMatchOnContent(String name, IntFunction<int[]> content, int width, int height, EncoderConfig config) {
        Random random = new Random(name.hashCode());
        TileCanvas seqCanvas = new TileCanvas(width, height), parCanvas = new TileCanvas(width, height);
        try (FrameEncoder seq = new FrameEncoder(sequential(config), pool); FrameEncoder par = new FrameEncoder(parallel(config), pool)) {
            for (int frame = 0; frame < 8; frame++) {
                int[] px = content.apply(frame);
                BitSet dirty = frame % 2 == 0 ? all(width, height) : randomDamage(width, height, random);
                List<StreamMessage> want = seq.encode(px, width, height, dirty, List.of());
                List<StreamMessage> got = par.encode(px, width, height, dirty, List.of());
                assertThat(want).as("the frames are not empty").isNotEmpty();
                assertSameMessages(got, want, name + " " + width + "x" + height + " frame " + frame);
                paint(seqCanvas, want);
                paint(parCanvas, got);
                assertThat(parCanvas.pixels).as("%s frame %d: the parallel lanes' client sees the sequential one's pixels", name, frame)
                        .isEqualTo(seqCanvas.pixels);
            }
        }
    }

    @Test
    void shouldSendTheSequentialEncodersBytesInItsOrderOnNoiseTextPhotoAndMixedContent() {
        EncoderConfig noMotion = EncoderConfig.builder().motionDetection(false).build();
        long tasksBefore = pool.tasksSubmitted();
        for (int[] size : new int[][] {{1280, 800}, {333, 211}, {1000, 70}}) {
            int w = size[0], h = size[1];
            shouldMatchOnContent("noise", f -> SyntheticDesktop.noise(w, h, f), w, h, noMotion);
            shouldMatchOnContent("text", f -> SyntheticDesktop.text(w, h, f * 7), w, h, noMotion);
            shouldMatchOnContent("photo", f -> photo(w, h, f), w, h, noMotion);
            shouldMatchOnContent("mixed", f -> mixed(w, h, f), w, h, noMotion);
            shouldMatchOnContent("mixed lossless", f -> mixed(w, h, f), w, h, noMotion.toBuilder().allowLossy(false).build());
            shouldMatchOnContent("text unmerged", f -> SyntheticDesktop.text(w, h, f * 7), w, h,
                    noMotion.toBuilder().maxRunTiles(1).paletteMaxColours(0).build());
        }
        assertThat(pool.tasksSubmitted()).as("the parallel encoder used the pool").isGreaterThan(tasksBefore);
    }

    @Test
    void shouldSendTheSequentialEncodersCopiesAndTilesWithMotionDetectionOnAScrollingWindow() {
        int w = 1280, h = 800;
        try (FrameEncoder seq = new FrameEncoder(sequential(EncoderConfig.defaults()), pool);
             FrameEncoder par = new FrameEncoder(parallel(EncoderConfig.defaults()), pool)) {
            int[] first = mixed(w, h, 0);
            TileCanvas parCanvas = new TileCanvas(w, h);
            List<StreamMessage> firstPar = par.encodeAll(first, w, h);
            assertSameMessages(firstPar, seq.encodeAll(first, w, h), "first picture");
            paint(parCanvas, firstPar);
            boolean copied = false;
            for (int frame = 1; frame < 12; frame++) {
                int[] px = photo(w, h, 0); // the wallpaper stays; the window's text scrolls and the window moves
                SyntheticDesktop.drawText(px, w, 200 + frame * 8, 150 + frame * 3, 640, 400, frame * 16, 0x101010, 0xf0f0f0);
                List<StreamMessage> want = seq.encode(px, w, h, all(w, h), List.of());
                List<StreamMessage> got = par.encode(px, w, h, all(w, h), List.of());
                assertSameMessages(got, want, "scroll frame " + frame);
                paint(parCanvas, got); // every lane's tiles decode in the order sent (TileCanvas throws otherwise)
                copied |= want.stream().anyMatch(m -> m instanceof StreamMessage.CopyRect);
            }
            assertThat(copied).as("motion detection found a copy, so both paths ran").isTrue();
        }
    }

    @Test
    void shouldEncodeFramesBelowTheThresholdOnTheCallersThread() {
        int w = 1280, h = 800;
        int[] px = photo(w, h, 3);
        EncoderConfig config = EncoderConfig.builder().motionDetection(false).parallelThresholdTiles(32).build();
        try (FrameEncoder encoder = new FrameEncoder(config, pool)) {
            BitSet cursorBlink = new BitSet();
            cursorBlink.set(45);
            BitSet justBelow = new BitSet();
            for (int t = 0; t < 31; t++) justBelow.set(t * 3); // 31 tiles over several rows
            long before = pool.tasksSubmitted();
            assertThat(encoder.encode(px, w, h, cursorBlink)).hasSize(1);
            assertThat(encoder.encode(px, w, h, justBelow)).isNotEmpty();
            assertThat(pool.tasksSubmitted()).as("no hand-off below the threshold").isEqualTo(before);
            BitSet atThreshold = (BitSet) justBelow.clone();
            atThreshold.set(200);
            assertThat(encoder.encode(px, w, h, atThreshold)).isNotEmpty();
            assertThat(pool.tasksSubmitted()).as("a frame of 32 tiles goes parallel").isGreaterThan(before);
        }
        try (FrameEncoder never = new FrameEncoder(config.toBuilder().parallelThresholdTiles(0).build(), pool)) {
            long before = pool.tasksSubmitted();
            assertThat(never.encodeAll(px, w, h)).isNotEmpty();
            assertThat(pool.tasksSubmitted()).as("threshold 0: never parallel").isEqualTo(before);
        }
    }

    @Test
    void shouldEncodeEveryRowOnTheCallersThreadWhenThePoolIsClosed() {
        int w = 640, h = 480;
        EncoderPool closed = new EncoderPool(2);
        closed.close();
        EncoderConfig config = EncoderConfig.builder().motionDetection(false).build();
        try (FrameEncoder seq = new FrameEncoder(sequential(config), pool); FrameEncoder par = new FrameEncoder(parallel(config), closed)) {
            int[] px = mixed(w, h, 5);
            assertSameMessages(par.encodeAll(px, w, h), seq.encodeAll(px, w, h), "closed pool");
        }
        assertThat(closed.tasksSubmitted()).isZero();
    }

    @Test
    void shouldRefuseAFrameLargerThanItsPixelsAndEncodeTheNextOneAlike() {
        EncoderConfig config = parallel(EncoderConfig.builder().motionDetection(false).build());
        try (FrameEncoder par = new FrameEncoder(config, pool)) {
            int w = 640, h = 480;
            int[] px = photo(w, h, 1);
            List<StreamMessage> before = new ArrayList<>(par.encodeAll(px, w, h));
            assertThat(before).isNotEmpty();
            assertThatThrownBy(() -> par.encodeAll(new int[w * h - 1], w, h)).isInstanceOf(IllegalArgumentException.class);
            assertSameMessages(par.encodeAll(px, w, h), before, "after a refused frame");
        }
    }

    @Test
    void shouldRefuseANegativeParallelThreshold() {
        assertThatThrownBy(() -> EncoderConfig.builder().parallelThresholdTiles(-1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("parallel-threshold-tiles");
        assertThatThrownBy(() -> new EncoderPool(0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(EncoderConfig.defaults().parallelThresholdTiles()).isEqualTo(EncoderConfig.DEFAULT_PARALLEL_THRESHOLD_TILES);
    }
}
