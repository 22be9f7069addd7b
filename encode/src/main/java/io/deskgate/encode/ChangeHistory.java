package io.deskgate.encode;

import java.util.Arrays;
import java.util.BitSet;
import java.util.OptionalLong;

/**
 * What a {@link FrameEncoder} remembers of every 64x64 tile of the client's canvas between frames: when it changed
 * (its last {@link EncoderConfig#lossyChanges()} changes) and whether the client holds it lossy. From that: whether a
 * tile changes often enough for lossy encoding to pay ({@link #changingOften}), and when a lossy tile is due to be
 * re-sent pixel-exact ({@link #refinementDue}, {@link #nextRefinementNs()}).
 *
 * <p>Pure: time is an input ({@code nowNs}, monotonic). Not thread-safe: the encoder's caller thread only.
 */
final class ChangeHistory {
    private static final long NEVER = Long.MIN_VALUE;

    private final int changes;
    private final long windowNs;
    private final long refineAfterNs;
    private int columns = -1;
    private int rows = -1;
    /** Per tile {@link #changes} slots of change times, a ring; {@link #NEVER} where none. */
    private long[] ring = new long[0];
    /** Per tile: the ring slot the next change goes to (the oldest of the tile's last changes). */
    private int[] next = new int[0];
    /** Per tile: the last change, {@link #NEVER} before the first. */
    private long[] last = new long[0];
    private final BitSet lossy = new BitSet();

    ChangeHistory(EncoderConfig config) {
        this.changes = config.lossyChanges();
        this.windowNs = config.lossyWindowNs();
        this.refineAfterNs = config.refineAfterNs();
    }

    /** A grid of {@code columns x rows} tiles; a new size forgets everything (the client's canvas was cleared). */
    void resize(int columns, int rows) {
        if (columns == this.columns && rows == this.rows) return;
        this.columns = columns;
        this.rows = rows;
        int tiles = columns * rows;
        ring = new long[tiles * changes];
        next = new int[tiles];
        last = new long[tiles];
        clear();
    }

    /** Forgets every change and every lossy tile (the client's canvas is black, or redrawn whole). */
    void clear() {
        Arrays.fill(ring, NEVER);
        Arrays.fill(next, 0);
        Arrays.fill(last, NEVER);
        lossy.clear();
    }

    int columns() { return columns; }

    int tiles() { return Math.max(0, columns) * Math.max(0, rows); }

    /** Tile {@code t} changed now. */
    void changed(int t, long nowNs) {
        ring[t * changes + next[t]] = nowNs;
        next[t] = (next[t] + 1) % changes;
        last[t] = nowNs;
    }

    /** Whether tile {@code t} changed at least {@link EncoderConfig#lossyChanges()} times within the window up to now. */
    boolean changingOften(int t, long nowNs) {
        long oldest = ring[t * changes + next[t]];
        return oldest != NEVER && nowNs - oldest < windowNs;
    }

    void lossy(int t, boolean isLossy) { lossy.set(t, isLossy); }

    boolean isLossy(int t) { return lossy.get(t); }

    /** How many tiles the client holds lossy. */
    int lossyTiles() { return lossy.cardinality(); }

    /** Whether lossy tile {@code t} has been still for {@link EncoderConfig#refineAfterNs()} (a lossless tile never is). */
    boolean refinementDue(int t, long nowNs) {
        return lossy.get(t) && (last[t] == NEVER || nowNs - last[t] >= refineAfterNs);
    }

    /** The lossy tiles, lowest index first (a copy: the caller may change the history while it walks them). */
    BitSet lossyTileSet() { return (BitSet) lossy.clone(); }

    /** When the earliest lossy tile is due to be refined (it may be past), or empty while no tile is lossy. */
    OptionalLong nextRefinementNs() {
        long due = Long.MAX_VALUE;
        boolean any = false;
        for (int t = lossy.nextSetBit(0); t >= 0; t = lossy.nextSetBit(t + 1)) {
            any = true;
            due = Math.min(due, last[t] == NEVER ? 0 : last[t] + refineAfterNs); // never changed: due at once
        }
        return any ? OptionalLong.of(due) : OptionalLong.empty();
    }
}
