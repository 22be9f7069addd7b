package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.Resize;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.TileCanvas;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Scroll and move detection through {@link FrameEncoder#encode(int[], int, int, BitSet, List)}: the messages,
 * applied in order to a canvas holding the previous frame (as the browser does, docs/protocol.md §1.1),
 * reproduce the new frame pixel-exact, in far fewer bytes than tiles alone.
 */
class MotionDetectorTest {
    static final int W = 640, H = 400;
    /** Lossless, so that a canvas can be compared pixel-exact. */
    static final EncoderConfig LOSSLESS = EncoderConfig.builder().allowLossy(false).build();

    /** Fails naming the first differing pixel and how many differ (not the arrays: they are large). */
    static void assertSamePixels(int[] got, int[] want, String what) {
        int first = -1, differ = 0;
        for (int i = 0; i < want.length; i++) {
            if (got[i] != want[i]) {
                if (first < 0) first = i;
                differ++;
            }
        }
        assertThat(differ).as("%s: %d pixels differ, the first at %d,%d", what, differ, first % W, first / W).isZero();
    }

    /** Encodes {@code before} as a whole, then {@code after} with the damage given, onto one canvas. */
    record Run(List<StreamMessage> messages, TileCanvas canvas, long bytes, long bytesWithoutDetection) {
        long copies() { return messages.stream().filter(m -> m instanceof CopyRect).count(); }
    }

    static Run run(int[] before, int[] after, int width, int height, BitSet dirty) {
        TileCanvas canvas = new TileCanvas(width, height);
        List<StreamMessage> messages;
        try (FrameEncoder encoder = new FrameEncoder(LOSSLESS)) {
            encoder.encodeAll(before, width, height).forEach(m -> canvas.paint((Tile) m));
            assertSamePixels(canvas.pixels, before, "the first frame");
            messages = encoder.encode(after, width, height, dirty, List.of());
        }
        apply(canvas, messages);
        long without;
        try (FrameEncoder plain = new FrameEncoder(LOSSLESS.toBuilder().motionDetection(false).build())) {
            plain.encodeAll(before, width, height);
            without = bytes(plain.encode(after, width, height, dirty, List.of()));
        }
        return new Run(messages, canvas, bytes(messages), without);
    }

    static void apply(TileCanvas canvas, List<StreamMessage> messages) {
        boolean tileSeen = false;
        for (StreamMessage m : messages) {
            switch (m) {
                case CopyRect c -> {
                    assertThat(tileSeen).as("every COPY_RECT comes before the frame's tiles").isFalse();
                    canvas.copy(c);
                }
                case Tile t -> {
                    tileSeen = true;
                    canvas.paint(t);
                }
                default -> throw new AssertionError("unexpected " + m);
            }
        }
    }

    static long bytes(List<StreamMessage> messages) {
        return messages.stream().mapToLong(m -> StreamCodec.encode(m).length).sum();
    }

    static BitSet all(int width, int height) {
        BitSet b = new BitSet();
        b.set(0, Damage.tilesFor(width) * Damage.tilesFor(height));
        return b;
    }

    @Test
    void shouldSendAScrollOfOneLineAsCopiesAndOnlyTheExposedStrip() {
        Run r = run(SyntheticDesktop.text(W, H, 0), SyntheticDesktop.text(W, H, SyntheticDesktop.LINE), W, H, all(W, H));
        assertSamePixels(r.canvas.pixels, SyntheticDesktop.text(W, H, SyntheticDesktop.LINE), "after the scroll");
        assertThat(r.copies()).isPositive();
        assertThat((double) r.bytes / r.bytesWithoutDetection).as("%d bytes against %d", r.bytes, r.bytesWithoutDetection)
                .isLessThan(0.3);
        // Only the strip the scroll exposed is painted: at most the bottom tile row.
        assertThat(r.messages).filteredOn(m -> m instanceof Tile).allSatisfy(m -> assertThat(((Tile) m).y()).isGreaterThanOrEqualTo(320));
    }

    @Test
    void shouldDetectScrollsByAnyNumberOfRowsBothWays() {
        for (int k : new int[] {1, 5, 37, -3, -16}) {
            int[] before = SyntheticDesktop.text(W, H, 100);
            int[] after = SyntheticDesktop.text(W, H, 100 + k);
            Run r = run(before, after, W, H, all(W, H));
            assertSamePixels(r.canvas.pixels, after, "scroll by " + k);
            assertThat(r.copies()).as("scroll by %d", k).isPositive();
            assertThat((double) r.bytes / r.bytesWithoutDetection).as("scroll by %d", k).isLessThan(0.35);
        }
    }

    @Test
    void shouldSendAMovedWindowAsACopy() {
        int[] before = SyntheticDesktop.window(W, H, 100, 80, 300, 200);
        int[] after = SyntheticDesktop.window(W, H, 137, 121, 300, 200);
        BitSet dirty = new BitSet();
        Damage damage = new Damage(W, H);
        damage.add(100, 80, 300, 200);
        damage.add(137, 121, 300, 200);
        dirty.or(damage.take());
        Run r = run(before, after, W, H, dirty);
        assertSamePixels(r.canvas.pixels, after, "after");
        long movedArea = r.messages.stream().filter(m -> m instanceof CopyRect c && c.dstX() - c.srcX() == 37 && c.dstY() - c.srcY() == 41)
                .mapToLong(m -> (long) ((CopyRect) m).w() * ((CopyRect) m).h()).sum();
        assertThat(movedArea).as("pixels copied by the window's move").isGreaterThan(300 * 200 / 2);
        assertThat(r.copies()).isPositive();
        assertThat((double) r.bytes / r.bytesWithoutDetection).as("%d bytes against %d", r.bytes, r.bytesWithoutDetection)
                .isLessThan(0.5);
    }

    @Test
    void shouldScrollOnlyTheRegionAboveAStaticStatusLine() {
        int[] before = SyntheticDesktop.text(W, H, 0);
        int[] after = SyntheticDesktop.text(W, H, SyntheticDesktop.LINE);
        // An xterm-like screen: the last 40 rows are a status line that does not scroll, but changes its clock.
        for (int[] frame : new int[][] {before, after}) {
            SyntheticDesktop.drawText(frame, W, 0, H - 40, W, 40, 5000, 0xffff00, 0x0000aa);
        }
        after[(H - 20) * W + 600] = 0xff0000;
        Run r = run(before, after, W, H, all(W, H));
        assertSamePixels(r.canvas.pixels, after, "after");
        assertThat(r.copies()).isPositive();
        assertThat(r.messages).filteredOn(m -> m instanceof CopyRect)
                .allSatisfy(m -> assertThat(((CopyRect) m).dstY() + ((CopyRect) m).h()).isLessThanOrEqualTo(H - 40));
        assertThat((double) r.bytes / r.bytesWithoutDetection).isLessThan(0.3);
    }

    @Test
    void shouldBreakACycleOfCopiesSoThatNoneReadsWhatAnotherWrote() {
        // The top and the bottom half swap places: each half's copy would overwrite the other's source.
        int[] before = SyntheticDesktop.text(W, H, 0);
        int[] after = new int[W * H];
        System.arraycopy(before, 0, after, W * (H / 2), W * (H / 2));
        System.arraycopy(before, W * (H / 2), after, 0, W * (H / 2));
        Run r = run(before, after, W, H, all(W, H));
        assertSamePixels(r.canvas.pixels, after, "after the swap");
        List<CopyRect> copies = r.messages.stream().filter(m -> m instanceof CopyRect).map(m -> (CopyRect) m).toList();
        assertThat(copies).isNotEmpty();
        for (int i = 0; i < copies.size(); i++) {
            for (int j = i + 1; j < copies.size(); j++) {
                CopyRect a = copies.get(i), b = copies.get(j);
                boolean overlap = a.dstX() < b.srcX() + b.w() && b.srcX() < a.dstX() + a.w()
                        && a.dstY() < b.srcY() + b.h() && b.srcY() < a.dstY() + a.h();
                assertThat(overlap).as("%s writes what the later %s reads", a, b).isFalse();
            }
        }
    }

    @Test
    void shouldSendNothingForDamageThatChangedNoPixel() {
        int[] frame = SyntheticDesktop.text(W, H, 0);
        Run r = run(frame, frame.clone(), W, H, all(W, H));
        assertThat(r.messages).isEmpty();
        assertSamePixels(r.canvas.pixels, frame, "after");
    }

    @Test
    void shouldFallBackToTilesForNoiseAtAboutTheSameBytes() {
        int[] before = SyntheticDesktop.noise(W, H, 1);
        int[] after = SyntheticDesktop.noise(W, H, 2);
        Run r = run(before, after, W, H, all(W, H));
        assertThat(r.copies()).isZero();
        assertThat(r.bytes).isEqualTo(r.bytesWithoutDetection);
    }

    @Test
    void shouldReproduceEveryFrameOfALongScrollExactly() {
        TileCanvas canvas = new TileCanvas(W, H);
        try (FrameEncoder encoder = new FrameEncoder(LOSSLESS)) {
            encoder.encodeAll(SyntheticDesktop.text(W, H, 0), W, H).forEach(m -> canvas.paint((Tile) m));
            for (int frame = 1; frame <= 20; frame++) {
                int[] next = SyntheticDesktop.text(W, H, frame * 7);
                apply(canvas, encoder.encode(next, W, H, all(W, H), List.of()));
                assertSamePixels(canvas.pixels, next, "frame " + frame);
            }
        }
    }

    @Test
    void shouldFollowTheCopiesAndResizesTheCallerSentItself() {
        int[] before = SyntheticDesktop.text(W, H, 0);
        TileCanvas canvas = new TileCanvas(W, H);
        try (FrameEncoder encoder = new FrameEncoder(LOSSLESS)) {
            encoder.encodeAll(before, W, H).forEach(m -> canvas.paint((Tile) m));
            // The desktop itself moved the top half down by 64 rows (an RFB CopyRect the caller forwarded).
            CopyRect forwarded = new CopyRect(0, 0, W, 128, 0, 64);
            canvas.copy(forwarded);
            int[] moved = canvas.pixels.clone();
            int[] next = SyntheticDesktop.text(W, H, 0);
            System.arraycopy(moved, 0, next, 0, W * 192);
            for (int y = 192; y < H; y++) System.arraycopy(before, (y - 9) * W, next, y * W, W); // and scrolled the rest
            BitSet dirty = new BitSet();
            Damage damage = new Damage(W, H);
            damage.add(0, 192, W, H - 192);
            dirty.or(damage.take());
            apply(canvas, encoder.encode(next, W, H, dirty, List.of(forwarded)));
            assertSamePixels(canvas.pixels, next, "after the forwarded copy");

            // A RESIZE to the same size cleared the client's canvas: nothing may be copied from it.
            TileCanvas cleared = new TileCanvas(W, H);
            List<StreamMessage> after = encoder.encode(before, W, H, all(W, H), List.of(new Resize(W, H)));
            assertThat(after).noneMatch(m -> m instanceof CopyRect);
            apply(cleared, after);
            assertSamePixels(cleared.pixels, before, "after the resize");
        }
    }

    @Test
    void shouldNotDetectMotionThroughTheEncodeThatCannotKnowTheCallersMessages() {
        int[] before = SyntheticDesktop.text(W, H, 0);
        try (FrameEncoder encoder = new FrameEncoder(LOSSLESS)) {
            encoder.encodeAll(before, W, H);
            assertThat(encoder.encode(SyntheticDesktop.text(W, H, 16), W, H, all(W, H))).noneMatch(m -> m instanceof CopyRect);
            // and the model stays dropped: the next five-argument call has nothing to copy from
            assertThat(encoder.encode(SyntheticDesktop.text(W, H, 32), W, H, all(W, H), List.of())).noneMatch(m -> m instanceof CopyRect);
        }
    }
    @Test
    void shouldFindTheSameMotionWithTheCanvasRowHashesKeptAsWithEveryRowHashedAgain() {
        int tiles = Damage.tilesFor(W) * Damage.tilesFor(H);
        int[] canvas = SyntheticDesktop.text(W, H, 0);
        BitSet known = all(W, H);
        MotionDetector kept = new MotionDetector();
        for (int frame = 1; frame <= 24; frame++) {
            int[] next = SyntheticDesktop.text(W, H, frame * 5);
            BitSet dirty = frame % 3 == 0 ? new BitSet() : all(W, H);
            if (frame % 3 == 0) dirty.set(0, tiles / 2); // only the top half damaged: the bottom keeps older hashes
            MotionDetector fresh = new MotionDetector(); // hashes every row
            fresh.detect(canvas, next, W, H, dirty, known);
            kept.detect(canvas, next, W, H, dirty, known);
            assertThat(kept.copies()).as("frame %d", frame).isEqualTo(fresh.copies());
            for (int t = 0; t < tiles; t++) assertThat(kept.resolvedRows(t)).as("frame %d tile %d", frame, t).isEqualTo(fresh.resolvedRows(t));
            // The canvas takes the frame in its dirty tiles, as FrameEncoder's does ...
            int columns = Damage.tilesFor(W);
            for (int t = dirty.nextSetBit(0); t >= 0; t = dirty.nextSetBit(t + 1)) {
                int x = (t % columns) * Damage.TILE_SIZE, y = (t / columns) * Damage.TILE_SIZE;
                for (int r = y; r < Math.min(H, y + Damage.TILE_SIZE); r++) {
                    System.arraycopy(next, r * W + x, canvas, r * W + x, Math.min(Damage.TILE_SIZE, W - x));
                }
            }
            kept.canvasHolds(dirty, W, H);
            // ... and now and then a copy lands in it (told), whose rows the detector must hash again.
            if (frame % 4 == 1) {
                for (int r = 0; r < 40; r++) System.arraycopy(canvas, (200 + r) * W + 100, canvas, (10 + r) * W + 30, 300);
                kept.canvasChanged(30, 10, 300, 40);
            }
        }
    }
}
