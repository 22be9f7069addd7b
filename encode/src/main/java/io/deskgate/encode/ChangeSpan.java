package io.deskgate.encode;

import java.util.List;

/**
 * Where, within one dirty tile, the framebuffer differs from the encoder's model of the client's canvas: per row the
 * first and last differing column, grouped into a few rectangles (runs of rows whose spans are alike). The damage is
 * a 64x64 grid, but the desktop often changes a few pixels of a tile only: a window dragged across the desktop exposes
 * a strip a few pixels wide at its trailing edge and a row or two at its top, and re-sending the whole tile (with the
 * photo's edge in it) cost W3 about 1.3 kB a tile as JPEG where the strips cost tens of bytes (docs/benchmarks.md,
 * "transcode"). Pure: two framebuffers in, rectangles out; keeps its scratch between calls.
 *
 * <p>Not thread-safe: one per {@link FrameEncoder}, used by its caller thread.
 */
final class ChangeSpan {
    /**
     * A row whose span starts or ends more than this many columns from the run's starts a new rectangle. A wider
     * rectangle may take in unchanged pixels beside the change (a photo's edge beside the row a moved window exposed at
     * its top, which then goes lossy with it); a narrower slack splits text's jagged changes into many rectangles
     * (W1 144 kB at 2 columns, 105 kB at 8; W2 2.00 MB against 1.88 MB).
     */
    static final int SLACK_COLUMNS = 8;

    private final int[] first = new int[Damage.TILE_SIZE];
    private final int[] last = new int[Damage.TILE_SIZE];
    private int rows;
    private int openArea;
    private int changedArea;

    /**
     * Measures the tile {@code w x h} at {@code (x, y)} over the rows of {@code openRows} (bit r: row r of the tile), the
     * rows no copy or detector resolved. Returns whether any pixel differs.
     */
    boolean measure(int[] old, int[] now, int stride, int x, int y, int w, int h, long openRows) {
        rows = h;
        openArea = 0;
        boolean any = false;
        for (int r = 0; r < h; r++) {
            first[r] = -1;
            if ((openRows >>> r & 1) == 0) continue;
            openArea += w;
            int base = (y + r) * stride + x;
            int f = -1;
            for (int i = 0; i < w; i++) {
                if (((old[base + i] ^ now[base + i]) & 0xffffff) != 0) {
                    f = i;
                    break;
                }
            }
            if (f < 0) continue;
            int l = f;
            for (int i = w - 1; i > f; i--) {
                if (((old[base + i] ^ now[base + i]) & 0xffffff) != 0) {
                    l = i;
                    break;
                }
            }
            first[r] = f;
            last[r] = l;
            any = true;
        }
        changedArea = any ? area(null, 0, 0, 0) : 0;
        return any;
    }

    /**
     * Whether the rectangles of the last {@link #measure} hold at most three quarters of the open rows' area: then they
     * are worth sending instead of the whole tile (a picture changed everywhere keeps its whole tiles, and their merging).
     */
    boolean narrow() { return changedArea * 4 <= openArea * 3; }

    /** Adds the rectangles of the last {@link #measure} as pieces {@code {tile, x, y, w, h}} (desktop coordinates). */
    void pieces(List<int[]> out, int tile, int x, int y) {
        area(out, tile, x, y);
    }

    /** The rectangles' area; with {@code out}, adds them too. */
    private int area(List<int[]> out, int tile, int x, int y) {
        int total = 0;
        int r = 0;
        while (r < rows) {
            if (first[r] < 0) { r++; continue; }
            int lo = first[r], hi = last[r], end = r + 1;
            while (end < rows && first[end] >= 0 && Math.abs(first[end] - lo) <= SLACK_COLUMNS && Math.abs(last[end] - hi) <= SLACK_COLUMNS) {
                lo = Math.min(lo, first[end]);
                hi = Math.max(hi, last[end]);
                end++;
            }
            total += (hi - lo + 1) * (end - r);
            if (out != null) out.add(new int[] {tile, x + lo, y + r, hi - lo + 1, end - r});
            r = end;
        }
        return total;
    }
}
