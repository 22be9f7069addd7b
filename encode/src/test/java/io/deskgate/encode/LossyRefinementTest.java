package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.TileCanvas;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The change history of {@link FrameEncoder} (docs/architecture.md, "Lossy or lossless"): a photographic tile goes
 * lossy only while it changes often (its edge with a title bar or frame beside it too), and a lossy tile is re-sent pixel-exact
 * once it has been still for {@code refine-after}, within a byte budget per frame. Time is a fake clock: {@code nowNs}.
 */
class LossyRefinementTest {
    static final long MS = 1_000_000L;
    static final int WIDTH = 512, HEIGHT = 384;
    static final int BACKGROUND = 0x3a6ea5;
    /** The window: a 20-row title bar at y 64, then a photo of 384x256 at (64, 84). */
    static final int WX = 64, WY = 64, WW = 384, TITLE = 20, PHOTO_H = 256;
    /** The tiles the photo touches: columns 1..6 of rows 1..5; rows 1 and 5 hold UI too. */
    static final int PHOTO_TILES = 6 * 5;

    final int[] px = new int[WIDTH * HEIGHT];
    final TileCanvas canvas = new TileCanvas(WIDTH, HEIGHT);

    LossyRefinementTest() {
        Arrays.fill(px, BACKGROUND);
        for (int r = 0; r < TITLE; r++) Arrays.fill(px, (WY + r) * WIDTH + WX, (WY + r) * WIDTH + WX + WW, 0x1c3f94 + r);
        photo(0);
    }

    /** Paints the photo of frame {@code seed} (a video changes it every frame): a gradient with sensor-like noise. */
    void photo(long seed) {
        Random random = new Random(seed);
        int shift = (int) (seed * 5);
        for (int y = 0; y < PHOTO_H; y++) {
            for (int x = 0; x < WW; x++) {
                int r = Math.min(255, (x + shift) % 256 + random.nextInt(16));
                int g = Math.min(255, y + random.nextInt(16));
                int b = (x + y + shift) & 0xff;
                px[(WY + TITLE + y) * WIDTH + WX + x] = r << 16 | g << 8 | b;
            }
        }
    }

    /** The tiles the photo touches. */
    static BitSet photoTiles() {
        Damage d = new Damage(WIDTH, HEIGHT);
        d.add(WX, WY + TITLE, WW, PHOTO_H);
        return d.take();
    }

    List<StreamMessage> draw(List<StreamMessage> frame) {
        for (StreamMessage m : frame) {
            if (m instanceof Tile t) canvas.paint(t);
            if (m instanceof CopyRect c) canvas.copy(c);
        }
        return frame;
    }

    int[] region(int x, int y, int w, int h) {
        int[] out = new int[w * h];
        for (int r = 0; r < h; r++) System.arraycopy(px, (y + r) * WIDTH + x, out, r * w, w);
        return out;
    }

    static List<Tile> jpegs(List<StreamMessage> frame) {
        return frame.stream().filter(m -> m instanceof Tile t && t.format() == Tile.FORMAT_JPEG).map(Tile.class::cast).toList();
    }

    /** Plays a video in the photo: the full picture at 0 ms, then {@code frames} frames of new photo content 40 ms apart. */
    long playVideo(FrameEncoder encoder, int frames) {
        draw(encoder.encodeAll(px, WIDTH, HEIGHT, 0));
        long now = 0;
        for (int f = 1; f <= frames; f++) {
            now += 40 * MS;
            photo(f);
            List<StreamMessage> frame = draw(encoder.encode(px, WIDTH, HEIGHT, photoTiles(), List.of(), now));
            if (f == 1) {
                assertThat(jpegs(frame)).as("the first change of a still photo is sent exact").isEmpty();
            } else {
                List<Tile> lossy = jpegs(frame);
                assertThat(lossy).as("frame %d: the changing photo goes lossy", f).isNotEmpty();
                // The rows of the title bar and of the background below are unchanged, so the tiles they share with
                // the photo are sent as the photo's rows only: every photo pixel goes lossy, and no other.
                assertThat(lossy.stream().mapToInt(t -> t.w() * t.h()).sum()).as("frame %d: the photo", f).isEqualTo(WW * PHOTO_H);
                assertThat(lossy).as("frame %d: the title bar and the background stay pixel-exact", f).allSatisfy(t -> {
                    assertThat(t.y()).isGreaterThanOrEqualTo(WY + TITLE);
                    assertThat(t.y() + t.h()).isLessThanOrEqualTo(WY + TITLE + PHOTO_H);
                });
                assertThat(canvas.region(WX, WY, WW, TITLE)).isEqualTo(region(WX, WY, WW, TITLE));
                assertThat(canvas.region(0, WY + TITLE + PHOTO_H, WIDTH, HEIGHT - WY - TITLE - PHOTO_H))
                        .isEqualTo(region(0, WY + TITLE + PHOTO_H, WIDTH, HEIGHT - WY - TITLE - PHOTO_H));
            }
        }
        return now;
    }

    @Test
    void shouldSendAStillPhotoPixelExactAtOnce() {
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.defaults())) {
            List<StreamMessage> frame = draw(encoder.encodeAll(px, WIDTH, HEIGHT, 0));
            assertThat(jpegs(frame)).isEmpty();
            assertThat(canvas.pixels).isEqualTo(px);
            assertThat(encoder.lossyTiles()).isZero();
            assertThat(encoder.nextRefinementNs()).isEmpty();
            // By content alone (the calls without time), the same picture has JPEG tiles: what the history changes.
            assertThat(jpegs(encoder.encodeAll(px, WIDTH, HEIGHT))).isNotEmpty();
        }
    }

    @Test
    void shouldSendAChangingPhotoLossyAndRefineItPixelExactOnceStill() {
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.defaults())) {
            long last = playVideo(encoder, 5);
            assertThat(encoder.lossyTiles()).isEqualTo(PHOTO_TILES);
            assertThat(canvas.pixels).isNotEqualTo(px);
            long due = last + EncoderConfig.DEFAULT_REFINE_AFTER_NS;
            assertThat(encoder.nextRefinementNs()).hasValue(due);

            assertThat(encoder.encode(px, WIDTH, HEIGHT, new BitSet(), List.of(), due - 1)).as("not yet due").isEmpty();
            List<StreamMessage> refinement = draw(encoder.encode(px, WIDTH, HEIGHT, new BitSet(), List.of(), due));
            assertThat(refinement).as("the default budget, 256 KiB, is most of this photo").hasSizeGreaterThan(PHOTO_TILES / 2);
            refinement.addAll(draw(encoder.encode(px, WIDTH, HEIGHT, new BitSet(), List.of(), due + 16 * MS)));
            assertThat(refinement).hasSize(PHOTO_TILES).allSatisfy(m -> assertThat(((Tile) m).format()).isNotEqualTo(Tile.FORMAT_JPEG));
            assertThat(canvas.pixels).as("pixel-exact after the refinement").isEqualTo(px);
            assertThat(encoder.lossyTiles()).isZero();
            assertThat(encoder.nextRefinementNs()).isEmpty();
            assertThat(encoder.encode(px, WIDTH, HEIGHT, new BitSet(), List.of(), due + 1000 * MS)).as("nothing more to refine").isEmpty();
        }
    }

    @Test
    void shouldSpreadARefinementOverFramesWithinTheByteBudget() {
        int budget = 40_000; // about three of the photo's zlib tiles
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.builder().refineBudgetBytes(budget).build())) {
            long due = playVideo(encoder, 3) + EncoderConfig.DEFAULT_REFINE_AFTER_NS;
            int frames = 0, tiles = 0;
            for (long now = due; encoder.lossyTiles() > 0; now += 16 * MS) {
                List<StreamMessage> frame = draw(encoder.encode(px, WIDTH, HEIGHT, new BitSet(), List.of(), now));
                int bytes = frame.stream().mapToInt(m -> ((Tile) m).data().length).sum();
                int lastTile = ((Tile) frame.getLast()).data().length;
                assertThat(bytes - lastTile).as("the budget is reached only by a frame's last tile").isLessThan(budget);
                frames++;
                tiles += frame.size();
                assertThat(frames).as("the refinement ends").isLessThanOrEqualTo(PHOTO_TILES);
            }
            assertThat(tiles).isEqualTo(PHOTO_TILES);
            assertThat(frames).as("spread over frames").isGreaterThan(1);
            assertThat(canvas.pixels).isEqualTo(px);
        }
    }

    @Test
    void shouldNotRefineATileThatKeepsChanging() {
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.defaults())) {
            long now = playVideo(encoder, 30); // 1.2 s of video: no tile is ever still for refine-after
            assertThat(encoder.lossyTiles()).isEqualTo(PHOTO_TILES);
            assertThat(encoder.nextRefinementNs()).hasValue(now + EncoderConfig.DEFAULT_REFINE_AFTER_NS);
        }
    }

    @Test
    void shouldCountACopyOfALossyTileAsLossyWhereItLands() {
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.defaults())) {
            long now = playVideo(encoder, 3);
            // The caller itself sent a copy of the photo's interior tile at (64, 128) onto the background at (0, 320).
            CopyRect copy = new CopyRect(64, 128, 64, 64, 0, 320);
            canvas.copy(copy);
            for (int r = 0; r < 64; r++) System.arraycopy(px, (128 + r) * WIDTH + 64, px, (320 + r) * WIDTH, 64);
            now += 40 * MS;
            assertThat(encoder.encode(px, WIDTH, HEIGHT, new BitSet(), List.of(copy), now)).isEmpty();
            assertThat(encoder.lossyTiles()).isEqualTo(PHOTO_TILES + 1);
            long photoDue = now - 40 * MS + EncoderConfig.DEFAULT_REFINE_AFTER_NS;
            assertThat(encoder.nextRefinementNs()).as("the photo's tiles are due first").hasValue(photoDue);
            draw(encoder.encode(px, WIDTH, HEIGHT, new BitSet(), List.of(), photoDue));
            draw(encoder.encode(px, WIDTH, HEIGHT, new BitSet(), List.of(), photoDue + 16 * MS));
            assertThat(encoder.lossyTiles()).as("the copy's destination changed later").isEqualTo(1);
            long copyDue = now + EncoderConfig.DEFAULT_REFINE_AFTER_NS;
            assertThat(encoder.nextRefinementNs()).hasValue(copyDue);
            assertThat(draw(encoder.encode(px, WIDTH, HEIGHT, new BitSet(), List.of(), copyDue))).singleElement()
                    .satisfies(m -> assertThat(((Tile) m).x()).isZero()).satisfies(m -> assertThat(((Tile) m).y()).isEqualTo(320));
            assertThat(canvas.pixels).isEqualTo(px);
        }
    }

    @Test
    void shouldEncodeLossyTilesAtTheQualitySetForTheFrame() {
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.defaults())) {
            playVideo(encoder, 2);
            photo(3);
            int high = jpegs(encoder.encode(px, WIDTH, HEIGHT, photoTiles(), List.of(), 120 * MS)).stream().mapToInt(t -> t.data().length).sum();
            encoder.jpegQuality(0.3f);
            assertThat(encoder.jpegQuality()).isEqualTo(0.3f);
            photo(4);
            int low = jpegs(encoder.encode(px, WIDTH, HEIGHT, photoTiles(), List.of(), 160 * MS)).stream().mapToInt(t -> t.data().length).sum();
            assertThat(low).isPositive().isLessThan(high * 3 / 4);
        }
    }

    @Test
    void shouldSendTheTilesAPhotoSharesWithUiLossyWhileTheyChangeOftenAndRefineThem() {
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.builder().motionDetection(false).build())) {
            draw(encoder.encodeAll(px, WIDTH, HEIGHT, 0));
            for (int f = 1; f <= 4; f++) {
                photo(f);
                List<Tile> lossy = jpegs(draw(encoder.encode(px, WIDTH, HEIGHT, photoTiles(), List.of(), f * 40 * MS)));
                if (f > 1) {
                    // Sent whole, the tiles with the title bar (row 1) and the background (row 5) are MIXED: lossy too.
                    // (Whole lossy tiles are grouped into rectangles, one JPEG each: LossyRegions.)
                    assertThat(lossy).as("frame %d: the edge rows", f)
                            .anySatisfy(t -> assertThat(t.y()).isLessThanOrEqualTo(64).isGreaterThan(64 - t.h()))
                            .anySatisfy(t -> assertThat(t.y()).isLessThanOrEqualTo(320).isGreaterThan(320 - t.h()));
                }
            }
            assertThat(encoder.lossyTiles()).isEqualTo(PHOTO_TILES);
            for (long now = 160 * MS + EncoderConfig.DEFAULT_REFINE_AFTER_NS; encoder.lossyTiles() > 0; now += 16 * MS) {
                draw(encoder.encode(px, WIDTH, HEIGHT, new BitSet(), List.of(), now));
            }
            assertThat(canvas.pixels).as("pixel-exact once still").isEqualTo(px);
        }
    }

    /**
     * W3's regression (docs/benchmarks.md "transcode"): a window with a photo dragged diagonally, each frame's damage
     * the window's old and new rectangles. While it moves, the photo goes JPEG edge tiles and all (the tiles it
     * shares with the title bar and the background are MIXED; sent exact they were most of W3's 15.8 MB); the
     * background beside it stays exact; one second after it stops the canvas is pixel-exact.
     */
    @Test
    void shouldSendADraggedPhotoLossyWhileItMovesAndPixelExactOnceItSettles() {
        int[] photo = new int[WW * PHOTO_H];
        Random random = new Random(3);
        for (int y = 0; y < PHOTO_H; y++) {
            for (int x = 0; x < WW; x++) {
                photo[y * WW + x] = Math.min(255, x / 2 + random.nextInt(24)) << 16 | Math.min(255, y + random.nextInt(24)) << 8 | (x + y) / 3 & 0xff;
            }
        }
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.builder().motionDetection(false).build())) {
            int wx = 10, wy = 6;
            paintWindow(photo, wx, wy);
            draw(encoder.encodeAll(px, WIDTH, HEIGHT, 0));
            long now = 0;
            for (int f = 1; f <= 12; f++) {
                Damage damage = new Damage(WIDTH, HEIGHT);
                damage.add(wx, wy, WW, TITLE + PHOTO_H);
                wx += 7;
                wy += 5;
                paintWindow(photo, wx, wy);
                damage.add(wx, wy, WW, TITLE + PHOTO_H);
                now += 33 * MS;
                List<StreamMessage> frame = draw(encoder.encode(px, WIDTH, HEIGHT, damage.take(), List.of(), now));
                if (f < 3) continue; // a tile's first change is exact; a tile changing often is lossy
                long photoInJpeg = 0;
                for (Tile t : jpegs(frame)) {
                    int x0 = Math.max(t.x(), wx), x1 = Math.min(t.x() + t.w(), wx + WW);
                    int y0 = Math.max(t.y(), wy + TITLE), y1 = Math.min(t.y() + t.h(), wy + TITLE + PHOTO_H);
                    if (x1 > x0 && y1 > y0) photoInJpeg += (long) (x1 - x0) * (y1 - y0);
                }
                assertThat(photoInJpeg).as("frame %d: the moving photo's pixels sent as JPEG", f).isGreaterThanOrEqualTo(WW * PHOTO_H * 9L / 10);
            }
            long stopped = now;
            for (now = stopped + 16 * MS; now <= stopped + 1000 * MS; now += 16 * MS) {
                draw(encoder.encode(px, WIDTH, HEIGHT, new BitSet(), List.of(), now));
            }
            assertThat(encoder.lossyTiles()).as("nothing lossy 1 s after the drag").isZero();
            assertThat(canvas.pixels).as("pixel-exact 1 s after the drag").isEqualTo(px);
        }
    }

    /** The background, then the window at ({@code wx}, {@code wy}): its title bar over {@code photo}. */
    private void paintWindow(int[] photo, int wx, int wy) {
        Arrays.fill(px, BACKGROUND);
        for (int r = 0; r < TITLE; r++) Arrays.fill(px, (wy + r) * WIDTH + wx, (wy + r) * WIDTH + wx + WW, 0x1c3f94 + r);
        for (int y = 0; y < PHOTO_H; y++) System.arraycopy(photo, y * WW, px, (wy + TITLE + y) * WIDTH + wx, WW);
    }

    @Test
    void shouldEncodeTheSameBytesWithTheHistoryOnAPoolAsOnOneThread() {
        try (EncoderPool pool = new EncoderPool(3);
             FrameEncoder par = new FrameEncoder(EncoderConfig.builder().parallelThresholdTiles(1).build(), pool);
             FrameEncoder seq = new FrameEncoder(EncoderConfig.builder().parallelThresholdTiles(0).build(), pool)) {
            FrameEncoderParallelTest.assertSameMessages(par.encodeAll(px, WIDTH, HEIGHT, 0), seq.encodeAll(px, WIDTH, HEIGHT, 0), "first");
            for (int f = 1; f <= 4; f++) {
                photo(f);
                long now = f * 40 * MS;
                FrameEncoderParallelTest.assertSameMessages(par.encode(px, WIDTH, HEIGHT, photoTiles(), List.of(), now),
                        seq.encode(px, WIDTH, HEIGHT, photoTiles(), List.of(), now), "frame " + f);
            }
            long due = 160 * MS + EncoderConfig.DEFAULT_REFINE_AFTER_NS;
            FrameEncoderParallelTest.assertSameMessages(par.encode(px, WIDTH, HEIGHT, new BitSet(), List.of(), due),
                    seq.encode(px, WIDTH, HEIGHT, new BitSet(), List.of(), due), "refinement");
            assertThat(pool.tasksSubmitted()).as("the parallel encoder did use the pool").isPositive();
        }
    }

    @Test
    void shouldSendANewPhotoLossyAtOnceWhileTheLinkIsCongestedAndRefineIt() {
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.defaults())) {
            encoder.lossyAtOnce(true);
            List<StreamMessage> first = draw(encoder.encodeAll(px, WIDTH, HEIGHT, 0));
            assertThat(jpegs(first)).as("the still photo's tiles (its edges too) go JPEG at once").isNotEmpty()
                    .allSatisfy(t -> assertThat(t.y()).isBetween(64, 320));
            encoder.lossyAtOnce(false);
            long due = EncoderConfig.DEFAULT_REFINE_AFTER_NS;
            for (long now = due; encoder.lossyTiles() > 0; now += 16 * MS) draw(encoder.encode(px, WIDTH, HEIGHT, new BitSet(), List.of(), now));
            assertThat(canvas.pixels).isEqualTo(px);
        }
    }

    @Test
    void shouldRefuseHistoryAndLagSettingsOutOfRangeNamingTheirKeys() {
        assertThatThrownBy(() -> EncoderConfig.builder().lossyChanges(0).build()).hasMessageContaining("lossy-changes");
        assertThatThrownBy(() -> EncoderConfig.builder().refineAfterNs(0).build()).hasMessageContaining("refine-after");
        assertThatThrownBy(() -> EncoderConfig.builder().refineBudgetBytes(0).build()).hasMessageContaining("refine-budget-bytes");
        assertThatThrownBy(() -> EncoderConfig.builder().minJpegQuality(0.9f).build()).hasMessageContaining("min-jpeg-quality");
        assertThatThrownBy(() -> EncoderConfig.builder().lagLowNs(300 * MS).build()).hasMessageContaining("lag-low");
        // The default minimum follows a lower jpeg-quality, also through toBuilder().
        assertThat(EncoderConfig.defaults().toBuilder().jpegQuality(0.3f).build().minJpegQuality()).isEqualTo(0.3f);
        assertThat(EncoderConfig.defaults().minJpegQuality()).isEqualTo(EncoderConfig.DEFAULT_MIN_JPEG_QUALITY);
        assertThat(EncoderConfig.builder().refineAfter(java.time.Duration.ofMillis(250)).build().refineAfterNs()).isEqualTo(250 * MS);
    }

    @Test
    void shouldClassifyAPhotosEdgeWithUiBesideItAsMixed() {
        try (TileEncoder tiles = new TileEncoder(EncoderConfig.defaults())) {
            assertThat(tiles.classify(px, WIDTH, 64, 128, 64, 64)).as("inside the photo").isEqualTo(TileEncoder.Kind.PHOTO);
            assertThat(tiles.classify(px, WIDTH, 64, 64, 64, 64)).as("title bar over the photo").isEqualTo(TileEncoder.Kind.MIXED);
            assertThat(tiles.classify(px, WIDTH, 64, 320, 64, 64)).as("the photo's bottom edge").isEqualTo(TileEncoder.Kind.MIXED);
        }
    }
}
