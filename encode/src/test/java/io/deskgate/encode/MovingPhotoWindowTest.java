package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;

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
 * A window showing a photo dragged across a flat desktop the way Xvnc reports it (W3): each frame a CopyRect of the
 * window, which the engine forwards as {@code COPY_RECT} before the frame, and the strips it exposed as damage. The
 * damage's 64x64 tiles hold the photo's edge too; only the exposed strips may be re-sent ({@link ChangeSpan}).
 */
class MovingPhotoWindowTest {
    static final long MS = 1_000_000L;
    static final int WIDTH = 1024, HEIGHT = 640;
    static final int BACKGROUND = 0x3a6ea5;
    static final int WW = 320, WH = 260, TITLE = 20;

    final int[] px = new int[WIDTH * HEIGHT];
    final int[] window = new int[WW * WH];
    final TileCanvas canvas = new TileCanvas(WIDTH, HEIGHT);

    MovingPhotoWindowTest() {
        Random random = new Random(3);
        for (int y = 0; y < WH; y++) {
            for (int x = 0; x < WW; x++) {
                window[y * WW + x] = y < TITLE ? 0x1c3f94 + y
                        : Math.min(255, x * 255 / WW + random.nextInt(24)) << 16 | Math.min(255, y + random.nextInt(24)) << 8 | (x + y) & 0xff;
            }
        }
    }

    /** The desktop with the window at {@code (wx, wy)}. */
    void paint(int wx, int wy) {
        Arrays.fill(px, BACKGROUND);
        for (int y = 0; y < WH; y++) System.arraycopy(window, y * WW, px, (wy + y) * WIDTH + wx, WW);
    }

    List<StreamMessage> draw(List<StreamMessage> frame) {
        for (StreamMessage m : frame) {
            if (m instanceof Tile t) canvas.paint(t);
            if (m instanceof CopyRect c) canvas.copy(c);
        }
        return frame;
    }

    static int bytes(List<StreamMessage> frame) {
        return frame.stream().mapToInt(m -> m instanceof Tile t ? t.data().length + 10 : 13).sum();
    }

    @Test
    void shouldSendOnlyTheExposedStripsOfAWindowDraggedAcrossTheDesktop() {
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.defaults())) {
            int wx = 600, wy = 200;
            paint(wx, wy);
            draw(encoder.encodeAll(px, WIDTH, HEIGHT, 0));
            assertThat(canvas.pixels).isEqualTo(px);
            long now = 0;
            int worst = 0, total = 0, photoPixels = 0;
            for (int f = 1; f <= 60; f++) {
                now += 16 * MS;
                int nx = wx - 5, ny = wy + (f % 2); // left 5 px, down 1 px every other frame
                // What Xvnc does: copy the window, then the damage is what the move exposed (right strip, top row).
                CopyRect copy = new CopyRect(wx, wy, WW, WH, nx, ny);
                paint(nx, ny);
                Damage damage = new Damage(WIDTH, HEIGHT);
                damage.add(nx + WW, wy, wx + WW - (nx + WW), WH + 1);
                if (ny > wy) damage.add(wx, wy, WW, ny - wy);
                canvas.copy(copy); // the engine sent it before the frame
                List<StreamMessage> frame = draw(encoder.encode(px, WIDTH, HEIGHT, damage.take(), List.of(copy), now));
                worst = Math.max(worst, bytes(frame));
                total += bytes(frame);
                photoPixels += frame.stream().filter(m -> m instanceof Tile t && t.format() == Tile.FORMAT_JPEG)
                        .mapToInt(m -> ((Tile) m).w() * ((Tile) m).h()).sum();
                wx = nx;
                wy = ny;
            }
            // Before ChangeSpan the whole tiles of the window's trailing edge went again every frame (5 tiles, most of
            // them the photo's edge): 60 frames cost 275,564 bytes. Now the exposed background (one colour) and, where a
            // row the window left at its top meets the strip at its side, a few columns of the photo's edge.
            System.out.println("moving photo window: " + total + " bytes in 60 frames, worst " + worst + ", photo pixels re-sent " + photoPixels);
            assertThat(total).as("bytes of 60 frames").isLessThan(40_000);
            assertThat(photoPixels).as("photo pixels re-sent in 60 frames, of %d on the screen", 60 * WW * (WH - TITLE)).isLessThan(60 * 3 * WH);
            // Still for refine-after: whatever went lossy is re-sent pixel-exact.
            for (long t = now + EncoderConfig.DEFAULT_REFINE_AFTER_NS; encoder.lossyTiles() > 0; t += 16 * MS) {
                draw(encoder.encode(px, WIDTH, HEIGHT, new BitSet(), List.of(), t));
            }
            assertThat(canvas.pixels).as("pixel-exact once still").isEqualTo(px);
        }
    }

    @Test
    void shouldSendTheChangedColumnsOfATileOnly() {
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.defaults())) {
            paint(600, 200);
            draw(encoder.encodeAll(px, WIDTH, HEIGHT, 0));
            // A 3-px wide bar redrawn inside the photo at x 700: the tile it is in is dirty, its other 61 columns not changed.
            for (int y = 240; y < 300; y++) for (int x = 700; x < 703; x++) px[y * WIDTH + x] = 0xff0000;
            Damage damage = new Damage(WIDTH, HEIGHT);
            damage.add(700, 240, 3, 60);
            List<StreamMessage> frame = draw(encoder.encode(px, WIDTH, HEIGHT, damage.take(), List.of(), 16 * MS));
            int area = 0;
            for (StreamMessage m : frame) area += ((Tile) m).w() * ((Tile) m).h();
            assertThat(area).as("only the bar's pixels").isEqualTo(3 * 60);
            assertThat(canvas.pixels).isEqualTo(px);
            // A tile marked dirty with nothing changed in it sends nothing.
            BitSet unchanged = new BitSet();
            unchanged.set(0, 4);
            assertThat(encoder.encode(px, WIDTH, HEIGHT, unchanged, List.of(), 32 * MS)).isEmpty();
        }
    }

    @Test
    void shouldKeepWholeTilesForAPictureChangedEverywhere() {
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.defaults())) {
            paint(600, 200);
            draw(encoder.encodeAll(px, WIDTH, HEIGHT, 0));
            for (int i = 0; i < WIDTH * HEIGHT; i++) px[i] = px[i] ^ 0x010101;
            BitSet all = new BitSet();
            all.set(0, Damage.tilesFor(WIDTH) * Damage.tilesFor(HEIGHT));
            List<StreamMessage> frame = draw(encoder.encode(px, WIDTH, HEIGHT, all, List.of(), 16 * MS));
            assertThat(frame).allSatisfy(m -> assertThat(((Tile) m).h()).isEqualTo(64));
            assertThat(canvas.pixels).isEqualTo(px);
        }
    }
}
