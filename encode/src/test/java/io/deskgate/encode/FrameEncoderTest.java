package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.ZstreamTile;
import io.deskgate.stream.TileCanvas;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Encodes synthetic framebuffers and decodes the tiles back (docs/protocol.md §1.1). */
class FrameEncoderTest {
    static final int BACKGROUND = 0x202020;

    /** 200x150: background, a two-colour "text" tile at column 1 row 0, a photographic tile at column 0 row 1. */
    static int[] desktop(int width, int height) {
        int[] px = new int[width * height];
        java.util.Arrays.fill(px, BACKGROUND);
        Random random = new Random(42);
        for (int y = 0; y < 64; y++) {
            for (int x = 64; x < 128; x++) px[y * width + x] = (x * 7 + y * 3) % 5 == 0 ? 0xffffff : 0x000000;
        }
        for (int y = 64; y < 128; y++) {
            for (int x = 0; x < 64; x++) {
                int r = Math.min(255, x * 3 + random.nextInt(16));
                int g = Math.min(255, (y - 64) * 3 + random.nextInt(16));
                int b = (x + y) & 0xff;
                px[y * width + x] = r << 16 | g << 8 | b;
            }
        }
        return px;
    }

    @Test
    void shouldDecodeEveryPixelBackExactlyOnceWithEdgeTilesCutToTheFramebuffer() {
        int width = 200, height = 150;
        int[] px = desktop(width, height);
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.defaults())) {
            List<StreamMessage> tiles = encoder.encodeAll(px, width, height);
            TileCanvas canvas = new TileCanvas(width, height);
            for (StreamMessage m : tiles) canvas.paint((Tile) m);
            assertThat(canvas.coverage).containsOnly(1);
            long jpegError = 0;
            int jpegPixels = 0;
            for (StreamMessage m : tiles) {
                Tile t = (Tile) m;
                for (int y = t.y(); y < t.y() + t.h(); y++) {
                    for (int x = t.x(); x < t.x() + t.w(); x++) {
                        int want = px[y * width + x], got = canvas.pixels[y * width + x];
                        if (t.format() == Tile.FORMAT_JPEG) {
                            jpegError += Math.abs((want >> 16 & 0xff) - (got >> 16 & 0xff)) + Math.abs((want >> 8 & 0xff) - (got >> 8 & 0xff))
                                    + Math.abs((want & 0xff) - (got & 0xff));
                            jpegPixels++;
                        } else {
                            assertThat(got).as("pixel %d,%d of %s", x, y, t).isEqualTo(want);
                        }
                    }
                }
            }
            assertThat(jpegPixels).isEqualTo(64 * 64);
            assertThat(jpegError / (3.0 * jpegPixels)).as("mean JPEG error per channel").isLessThan(8.0);
            assertThat(tiles).allSatisfy(m -> {
                Tile t = (Tile) m;
                assertThat(t.x() + t.w()).isLessThanOrEqualTo(width);
                assertThat(t.y() + t.h()).isLessThanOrEqualTo(height);
            });
            assertThat(tiles).filteredOn(m -> ((Tile) m).y() == 128).allSatisfy(m -> assertThat(((Tile) m).h()).isEqualTo(22));
        }
    }

    @Test
    void shouldPickFillForOneColourPaletteForTextAndJpegForPhotographicTiles() {
        int width = 200, height = 150;
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.defaults())) {
            List<StreamMessage> tiles = encoder.encodeAll(desktop(width, height), width, height);
            assertThat(tiles).contains(
                    TileEncoder.fill(BACKGROUND, 0, 0, 64, 64),
                    TileEncoder.fill(BACKGROUND, 128, 0, 72, 64), // columns 2 and 3 merged, the last cut to 8 px
                    TileEncoder.fill(BACKGROUND, 64, 64, 136, 64),
                    TileEncoder.fill(BACKGROUND, 0, 128, 200, 22));
            assertThat(at(tiles, 64, 0).format()).isEqualTo(Tile.FORMAT_ZSTREAM);
            assertThat(at(tiles, 64, 0).data()[ZstreamTile.MODE_OFFSET]).as("indexed: a palette of 2 or more colours").isPositive();
            assertThat(at(tiles, 0, 64).format()).isEqualTo(Tile.FORMAT_JPEG);
            assertThat(tiles).hasSize(6);
        }
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.builder().paletteMaxColours(0).build())) {
            List<StreamMessage> tiles = encoder.encodeAll(desktop(width, height), width, height);
            assertThat(at(tiles, 64, 0).format()).as("palette tiles off").isEqualTo(Tile.FORMAT_ZSTREAM);
            assertThat(at(tiles, 64, 0).data()[ZstreamTile.MODE_OFFSET]).as("RGB").isEqualTo((byte) ZstreamTile.MODE_RGB);
        }
    }

    @Test
    void shouldEncodeOnlyDirtyTilesAndIgnoreIndicesOutsideTheGrid() {
        int width = 200, height = 150;
        BitSet dirty = new BitSet();
        dirty.set(1);
        dirty.set(11); // column 3, row 2: the bottom-right corner, 8x22
        dirty.set(500);
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.defaults())) {
            List<StreamMessage> tiles = encoder.encode(desktop(width, height), width, height, dirty);
            assertThat(tiles).hasSize(2);
            assertThat(at(tiles, 64, 0)).extracting(Tile::w, Tile::h).containsExactly(64, 64);
            assertThat(tiles.get(1)).isEqualTo(TileEncoder.fill(BACKGROUND, 192, 128, 8, 22));
            assertThat(encoder.encode(desktop(width, height), width, height, new BitSet())).isEmpty();
        }
    }

    @Test
    void shouldMergeAdjacentLosslessTilesUpToTheRunLimit() {
        int width = 640, height = 64;
        int[] px = new int[width * height];
        for (int i = 0; i < px.length; i++) px[i] = (i % width * 7 + i / width * 3) % 5 == 0 ? 0xffffff : 0;
        try (FrameEncoder merging = new FrameEncoder(EncoderConfig.builder().maxRunTiles(4).build());
             FrameEncoder single = new FrameEncoder(EncoderConfig.builder().maxRunTiles(1).build())) {
            assertThat(merging.encodeAll(px, width, height)).extracting(m -> ((Tile) m).w()).containsExactly(256, 256, 128);
            assertThat(single.encodeAll(px, width, height)).hasSize(10).allSatisfy(m -> assertThat(((Tile) m).w()).isEqualTo(64));
            TileCanvas canvas = new TileCanvas(width, height);
            merging.encodeAll(px, width, height).forEach(m -> canvas.paint((Tile) m));
            assertThat(canvas.pixels).isEqualTo(px);
        }
    }

    @Test
    void shouldStayLosslessWhenLossyIsNotAllowed() {
        int width = 200, height = 150;
        int[] px = desktop(width, height);
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.builder().allowLossy(false).build())) {
            List<StreamMessage> tiles = encoder.encodeAll(px, width, height);
            assertThat(tiles).noneMatch(m -> ((Tile) m).format() == Tile.FORMAT_JPEG);
            TileCanvas canvas = new TileCanvas(width, height);
            tiles.forEach(m -> canvas.paint((Tile) m));
            assertThat(canvas.pixels).isEqualTo(px);
        }
    }

    @Test
    void shouldEncodeIndependentZlibStreamsWithOneReusedDeflater() {
        Random random = new Random(7);
        int width = 64 * 8, height = 64 * 4;
        int[] px = new int[width * height];
        for (int i = 0; i < px.length; i++) px[i] = random.nextInt(4) * 0x3f3f3f;
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.builder().maxRunTiles(1).allowLossy(false).build())) {
            for (int round = 0; round < 3; round++) {
                List<StreamMessage> tiles = encoder.encodeAll(px, width, height);
                assertThat(tiles).hasSize(32);
                TileCanvas canvas = new TileCanvas(width, height);
                tiles.forEach(m -> canvas.paint((Tile) m)); // each stream inflates on its own
                assertThat(canvas.pixels).isEqualTo(px);
            }
        }
    }

    @Test
    void shouldRoundTripTilesThroughTheStreamCodec() {
        int width = 200, height = 150;
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.defaults())) {
            for (StreamMessage m : encoder.encodeAll(desktop(width, height), width, height)) {
                assertThat(StreamCodec.decode(StreamCodec.encode(m))).isEqualTo(m);
            }
        }
    }

    @Test
    void shouldEncodeAnEmptyFramebufferAsNoTiles() {
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.defaults())) {
            assertThat(encoder.encodeAll(new int[0], 0, 0)).isEmpty();
        }
    }

    @Test
    void shouldRejectAPixelArraySmallerThanTheSize() {
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.defaults())) {
            assertThatThrownBy(() -> encoder.encodeAll(new int[10], 4, 4)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    static Tile at(List<StreamMessage> tiles, int x, int y) {
        return tiles.stream().map(Tile.class::cast).filter(t -> t.x() == x && t.y() == y).findFirst()
                .orElseThrow(() -> new AssertionError("no tile at " + x + "," + y + " in " + tiles));
    }
}
