package io.deskgate.encode;

import java.util.BitSet;

/**
 * Damage accumulated over a grid of {@value #TILE_SIZE}x{@value #TILE_SIZE} tiles of a framebuffer:
 * rectangles go in, the set of dirty tiles comes out. Tile {@code (column, row)} has index
 * {@code row * columns() + column}; the last column and row may be narrower or shorter than a tile when
 * the framebuffer's size is not a multiple of {@value #TILE_SIZE}.
 *
 * <p>Not thread-safe: owned by the one thread that feeds the framebuffer's updates.
 */
public final class Damage {
    public static final int TILE_SIZE = 64;

    private final BitSet dirty = new BitSet();
    private int width;
    private int height;
    private int columns;
    private int rows;

    public Damage(int width, int height) {
        resize(width, height);
    }

    /** Sets a new framebuffer size and forgets all damage. */
    public void resize(int width, int height) {
        if (width < 0 || height < 0) throw new IllegalArgumentException("negative size " + width + "x" + height);
        this.width = width;
        this.height = height;
        this.columns = tilesFor(width);
        this.rows = tilesFor(height);
        dirty.clear();
    }

    /** Marks the tiles that a rectangle touches; the part outside the framebuffer is ignored. */
    public void add(int x, int y, int w, int h) {
        int x0 = Math.max(0, x);
        int y0 = Math.max(0, y);
        int x1 = (int) Math.min(width, (long) x + Math.max(0, w));
        int y1 = (int) Math.min(height, (long) y + Math.max(0, h));
        if (x0 >= x1 || y0 >= y1) return;
        int c0 = x0 / TILE_SIZE;
        int c1 = (x1 - 1) / TILE_SIZE;
        for (int r = y0 / TILE_SIZE, rEnd = (y1 - 1) / TILE_SIZE; r <= rEnd; r++) {
            dirty.set(r * columns + c0, r * columns + c1 + 1);
        }
    }

    /** Marks every tile. */
    public void addAll() {
        dirty.set(0, columns * rows);
    }

    public boolean isEmpty() { return dirty.isEmpty(); }

    public boolean isDirty(int column, int row) { return dirty.get(row * columns + column); }

    /** The number of dirty tiles. */
    public int dirtyTiles() { return dirty.cardinality(); }

    /** Returns the dirty tiles and clears them. The caller owns the returned set. */
    public BitSet take() {
        BitSet taken = (BitSet) dirty.clone();
        dirty.clear();
        return taken;
    }

    public void clear() { dirty.clear(); }

    public int width() { return width; }

    public int height() { return height; }

    public int columns() { return columns; }

    public int rows() { return rows; }

    /** The number of tiles needed to cover {@code pixels} pixels along one axis. */
    public static int tilesFor(int pixels) {
        return (pixels + TILE_SIZE - 1) / TILE_SIZE;
    }
}
