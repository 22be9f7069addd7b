package io.deskgate.encode;

import io.deskgate.encode.TileEncoder.Kind;
import io.deskgate.stream.StreamMessage;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Turns the dirty tiles of a framebuffer (a {@link Damage} grid) into TILE stream messages. Each dirty
 * tile is classified (one colour, lossless, photographic); horizontally adjacent dirty tiles of one row
 * and one kind are merged into one wider tile (up to {@link EncoderConfig#maxRunTiles()} tiles; FILL
 * tiles of the same colour without limit), which saves per-message overhead and lets deflate and JPEG
 * see more context. Tiles on the right and bottom edges are cut to the framebuffer.
 *
 * <p>Not thread-safe: one encoder per transcoding instance, used by the thread that owns its
 * framebuffer. {@link #close()} frees native deflate memory.
 */
public final class FrameEncoder implements AutoCloseable {
    private static final int TILE = Damage.TILE_SIZE;

    private final TileEncoder tiles;
    private final int maxRunTiles;
    private Kind[] rowKinds = new Kind[0];
    private int[] rowColours = new int[0];

    public FrameEncoder(EncoderConfig config) {
        this.tiles = new TileEncoder(config);
        this.maxRunTiles = config.maxRunTiles();
    }

    public EncoderConfig config() { return tiles.config(); }

    /** Encodes the whole {@code width x height} picture. */
    public List<StreamMessage> encodeAll(int[] pixels, int width, int height) {
        BitSet all = new BitSet();
        all.set(0, Damage.tilesFor(width) * Damage.tilesFor(height));
        return encode(pixels, width, height, all);
    }

    /**
     * Encodes the dirty tiles of a {@code width x height} picture of {@code 0x00RRGGBB} pixels, row-major.
     * Tile indices outside the grid are ignored. Messages come in row order, left to right.
     */
    public List<StreamMessage> encode(int[] pixels, int width, int height, BitSet dirtyTiles) {
        if ((long) width * height > pixels.length) {
            throw new IllegalArgumentException(width + "x" + height + " does not fit " + pixels.length + " pixels");
        }
        int columns = Damage.tilesFor(width);
        int rows = Damage.tilesFor(height);
        List<StreamMessage> out = new ArrayList<>();
        if (columns == 0 || rows == 0) return out;
        if (rowKinds.length < columns) {
            rowKinds = new Kind[columns];
            rowColours = new int[columns];
        }
        for (int row = 0; row < rows; row++) {
            int first = dirtyTiles.nextSetBit(row * columns);
            if (first < 0) break;
            if (first >= (row + 1) * columns) {
                row = first / columns - 1; // skip clean rows
                continue;
            }
            encodeRow(pixels, width, height, row, columns, dirtyTiles, out);
        }
        return out;
    }

    private void encodeRow(int[] pixels, int width, int height, int row, int columns, BitSet dirty, List<StreamMessage> out) {
        int y = row * TILE;
        int h = Math.min(TILE, height - y);
        int base = row * columns;
        for (int c = 0; c < columns; c++) {
            if (!dirty.get(base + c)) {
                rowKinds[c] = null;
                continue;
            }
            int x = c * TILE;
            rowKinds[c] = tiles.classify(pixels, width, x, y, Math.min(TILE, width - x), h);
            rowColours[c] = pixels[y * width + x] & 0xffffff;
        }
        int c = 0;
        while (c < columns) {
            Kind kind = rowKinds[c];
            if (kind == null) {
                c++;
                continue;
            }
            int end = c + 1;
            while (end < columns && rowKinds[end] == kind
                    && (kind == Kind.FILL ? rowColours[end] == rowColours[c] : end - c < maxRunTiles)) {
                end++;
            }
            int x = c * TILE;
            int w = Math.min(end * TILE, width) - x;
            out.add(tiles.encode(kind, pixels, width, x, y, w, h));
            c = end;
        }
    }

    @Override public void close() {
        tiles.close();
    }
}
