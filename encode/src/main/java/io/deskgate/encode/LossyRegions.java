package io.deskgate.encode;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Groups the tiles of a frame that go lossy into a few rectangles, each sent as one JPEG. Every JPEG carries its own
 * headers, quantisation and Huffman tables (about 620 bytes from libjpeg-turbo), which a 64x64 tile of a photo pays
 * again and again: W4's 960x540 picture went out as about 50 JPEG tiles a frame, some 30 kB of tables
 * (docs/benchmarks.md, "transcode"). Pure: a tile set in, rectangles out.
 */
final class LossyRegions {
    /** A rectangle holds at most this many 64x64 tiles (512x512 pixels): bounded in size, yet few headers a frame. */
    static final int MAX_TILES = 64;

    private LossyRegions() {}

    /**
     * The tiles of {@code tiles} (a grid {@code columns} wide, {@code rows} high) as rectangles
     * {@code {column0, row0, column1, row1}} (ends exclusive), each of at most {@code maxTiles} tiles: per row, runs of
     * adjacent tiles; a run exactly below a rectangle's bottom run (same columns) extends it while it stays within the
     * bound. Every tile is in exactly one rectangle; rectangles come in the order they were started (top to bottom).
     */
    static List<int[]> rectangles(BitSet tiles, int columns, int rows, int maxTiles) {
        if (maxTiles < 1) throw new IllegalArgumentException("maxTiles must be at least 1: " + maxTiles);
        List<int[]> done = new ArrayList<>();
        List<int[]> open = new ArrayList<>(); // rectangles whose last row is the previous row
        for (int r = 0; r < rows; r++) {
            List<int[]> next = new ArrayList<>();
            int c = 0;
            while (c < columns) {
                if (!tiles.get(r * columns + c)) { c++; continue; }
                int end = c + 1;
                while (end < columns && end - c < maxTiles && tiles.get(r * columns + end)) end++;
                int[] grown = null;
                for (int[] o : open) {
                    if (o[0] == c && o[2] == end && (o[3] - o[1] + 1) * (end - c) <= maxTiles) {
                        grown = o;
                        break;
                    }
                }
                if (grown != null) {
                    open.remove(grown);
                    grown[3] = r + 1;
                    next.add(grown);
                } else {
                    int[] rect = {c, r, end, r + 1};
                    done.add(rect);
                    next.add(rect);
                }
                c = end;
            }
            open = next;
        }
        return done;
    }
}
