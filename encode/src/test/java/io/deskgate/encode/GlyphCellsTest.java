package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.TileCanvas;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * GLYPHS tiles from {@link FrameEncoder} on a synthetic terminal (docs/architecture.md, "Glyph cells"): a 76x55 xterm
 * of a 6x13 font on a 1280x800 desktop printing random base64 with jump scroll (as W2: each frame a few to many new
 * lines), encoded with and without glyph cells. Every frame is pixel-exact on a client canvas; with glyph cells the
 * stream is a fraction of what the tiles alone cost.
 */
class GlyphCellsTest {
    static final int WIDTH = 1280, HEIGHT = 800, CW = 6, CH = 13, COLUMNS = 76, ROWS = 55, X0 = 4, Y0 = 27;

    /** A font of 64 glyphs: 5x10 random ink in rows 1..10 of a 6x13 cell (a blank column and blank rows between). */
    static boolean[][] font(Random random) {
        boolean[][] font = new boolean[64][CW * CH];
        for (boolean[] g : font) for (int y = 1; y <= 10; y++) for (int x = 0; x < 5; x++) g[y * CW + x] = random.nextInt(3) == 0;
        return font;
    }

    static void draw(int[] px, boolean[][] font, int[][] screen) {
        java.util.Arrays.fill(px, 0xffffff);
        for (int x = 0; x < WIDTH; x++) px[x] = 0x708090; // a title bar of another colour
        for (int r = 0; r < ROWS; r++) {
            for (int c = 0; c < COLUMNS; c++) {
                boolean[] g = font[screen[r][c]];
                for (int y = 0; y < CH; y++) {
                    for (int x = 0; x < CW; x++) if (g[y * CW + x]) px[(Y0 + r * CH + y) * WIDTH + X0 + c * CW + x] = 0x000000;
                }
            }
        }
    }

    /** The stream's bytes over 40 jump-scrolled frames; every frame checked pixel-exact on a client canvas. */
    static long stream(boolean glyphCells) {
        Random random = new Random(7);
        boolean[][] font = font(random);
        int[][] screen = new int[ROWS][COLUMNS];
        for (int[] line : screen) for (int c = 0; c < COLUMNS; c++) line[c] = random.nextInt(64);
        int[] px = new int[WIDTH * HEIGHT];
        TileCanvas canvas = new TileCanvas(WIDTH, HEIGHT);
        long bytes = 0;
        EncoderConfig config = EncoderConfig.defaults().toBuilder().parallelThresholdTiles(0).build();
        try (FrameEncoder encoder = new FrameEncoder(config)) {
            encoder.glyphCells(glyphCells);
            draw(px, font, screen);
            List<StreamMessage> first = encoder.encodeAll(px, WIDTH, HEIGHT, 0);
            for (int f = 1; f <= 40; f++) {
                for (StreamMessage m : f == 1 ? first : List.<StreamMessage>of()) bytes += apply(canvas, m);
                int shift = 1 + random.nextInt(f % 3 == 0 ? ROWS : 12); // jump scroll: a few lines, or a screenful
                for (int r = 0; r < ROWS; r++) {
                    if (r + shift < ROWS) screen[r] = screen[r + shift];
                    else {
                        screen[r] = new int[COLUMNS];
                        for (int c = 0; c < COLUMNS; c++) screen[r][c] = random.nextInt(64);
                    }
                }
                draw(px, font, screen);
                BitSet dirty = new BitSet();
                dirty.set(0, Damage.tilesFor(WIDTH) * Damage.tilesFor(HEIGHT));
                for (StreamMessage m : encoder.encode(px, WIDTH, HEIGHT, dirty, List.of(), f * 20_000_000L)) bytes += apply(canvas, m);
                assertThat(canvas.pixels).as("frame %d pixel-exact", f).isEqualTo(px);
            }
        }
        return bytes;
    }

    static int apply(TileCanvas canvas, StreamMessage m) {
        byte[] wire = StreamCodec.encode(m);
        if (m instanceof Tile t) canvas.paint((Tile) StreamCodec.decode(wire));
        if (m instanceof CopyRect c) canvas.copy(c);
        return wire.length;
    }

    @Test
    void shouldSendAJumpScrollingTerminalPixelExactInAFractionOfTheBytes() {
        long without = stream(false), with = stream(true);
        assertThat(without).as("tiles alone").isGreaterThan(250_000);
        assertThat(with).as("glyph cells (tiles alone: %d)", without).isLessThan(without / 3);
    }

    @Test
    void shouldFindTheGridOfTheTerminal() {
        Random random = new Random(3);
        boolean[][] font = font(random);
        int[][] screen = new int[ROWS][COLUMNS];
        for (int[] line : screen) for (int c = 0; c < COLUMNS; c++) line[c] = random.nextInt(64);
        int[] px = new int[WIDTH * HEIGHT];
        draw(px, font, screen);
        GlyphPass pass = new GlyphPass();
        try (TileEncoder tiles = new TileEncoder(EncoderConfig.defaults(), 0)) {
            BitSet all = new BitSet();
            all.set(0, Damage.tilesFor(WIDTH) * Damage.tilesFor(HEIGHT));
            BitSet plain = (BitSet) all.clone();
            List<int[]> pieces = new ArrayList<>();
            List<Tile> sent = pass.run(tiles, px, WIDTH, HEIGHT, all, plain, pieces);
            GlyphPass.Grid g = pass.grid().orElseThrow();
            assertThat(List.of(g.cw(), g.ch())).isEqualTo(List.of(CW, CH));
            // Cells start at a gap: the blank column before each character, a blank row of each line.
            assertThat(Math.floorMod(g.ox() - (X0 - 1), CW)).as("cells on the characters' columns").isZero();
            assertThat(Math.floorMod(g.oy() - Y0, CH)).as("cells on the lines").isIn(0, 11, 12);
            long cells = sent.stream().mapToLong(t -> (long) (t.w() / CW) * (t.h() / CH)).sum();
            assertThat(cells).as("every character in a GLYPHS tile").isGreaterThanOrEqualTo((long) COLUMNS * (ROWS - 1));
        }
    }
}
