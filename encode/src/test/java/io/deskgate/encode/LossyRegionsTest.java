package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.Tile;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link LossyRegions}: whole lossy tiles as few bounded rectangles, and the encoder sending each as one JPEG. */
class LossyRegionsTest {
    @Test
    void shouldCoverEveryTileOnceWithBoundedRectangles() {
        int columns = 20, rows = 13;
        BitSet tiles = new BitSet();
        Random random = new Random(7);
        for (int t = 0; t < columns * rows; t++) if (random.nextInt(4) != 0) tiles.set(t);
        for (int max : new int[] {1, 4, 64}) {
            List<int[]> rects = LossyRegions.rectangles(tiles, columns, rows, max);
            BitSet covered = new BitSet();
            for (int[] r : rects) {
                assertThat((r[2] - r[0]) * (r[3] - r[1])).isBetween(1, max);
                for (int y = r[1]; y < r[3]; y++) {
                    for (int x = r[0]; x < r[2]; x++) {
                        assertThat(covered.get(y * columns + x)).as("covered twice").isFalse();
                        covered.set(y * columns + x);
                    }
                }
            }
            assertThat(covered).isEqualTo(tiles);
        }
    }

    @Test
    void shouldMakeOneRectangleOfABlockOfTiles() {
        BitSet tiles = new BitSet();
        for (int y = 2; y < 6; y++) for (int x = 3; x < 9; x++) tiles.set(y * 16 + x);
        assertThat(LossyRegions.rectangles(tiles, 16, 10, 64)).singleElement().isEqualTo(new int[] {3, 2, 9, 6});
        assertThat(LossyRegions.rectangles(tiles, 16, 10, 12)).hasSize(2);
    }

    @Test
    void shouldSendAChangingPictureAsFewJpegsWithFewerBytesThanOneATile() {
        int width = 512, height = 384;
        int[] px = new int[width * height];
        EncoderConfig grouped = EncoderConfig.defaults();
        try (FrameEncoder encoder = new FrameEncoder(grouped); TileEncoder single = new TileEncoder(grouped)) {
            BitSet all = new BitSet();
            all.set(0, 8 * 6);
            List<StreamMessage> frame = List.of();
            for (int f = 0; f < 3; f++) {
                Random random = new Random(f);
                for (int y = 0; y < height; y++) {
                    for (int x = 0; x < width; x++) {
                        px[y * width + x] = Math.min(255, (x + 5 * f) / 2 + random.nextInt(20)) << 16 | Math.min(255, y / 2 + random.nextInt(20)) << 8 | (x + y) & 0xff;
                    }
                }
                frame = f == 0 ? encoder.encodeAll(px, width, height, 0) : encoder.encode(px, width, height, all, List.of(), f * 40_000_000L);
            }
            List<Tile> jpegs = frame.stream().map(Tile.class::cast).filter(t -> t.format() == Tile.FORMAT_JPEG).toList();
            assertThat(jpegs.stream().mapToLong(t -> (long) t.w() * t.h()).sum()).as("the whole picture went lossy").isEqualTo((long) width * height);
            assertThat(jpegs).as("48 tiles in rectangles of at most 64 tiles").hasSize(1);
            int perTile = 0;
            for (int t = 0; t < 48; t++) perTile += single.jpeg(px, width, (t % 8) * 64, (t / 8) * 64, 64, 64).data().length;
            assertThat(jpegs.getFirst().data().length).as("one set of headers and tables, not 48").isLessThan(perTile - 47 * 400);
        }
    }
}
