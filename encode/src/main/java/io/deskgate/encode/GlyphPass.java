package io.deskgate.encode;

import io.deskgate.stream.GlyphTile;
import io.deskgate.stream.StreamMessage.Tile;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;

/**
 * The text step of a frame (docs/architecture.md, "Glyph cells"): finds a terminal's character grid in what the frame
 * is about to send losslessly (its plain dirty tiles and the pieces motion detection left), and sends the grid's cells
 * of two colours as GLYPHS tiles, each cell a reference into the lane's glyph cache, instead of their pixels. What the
 * GLYPHS tiles cover is taken out of the plain tiles and pieces; the rest goes as before.
 *
 * <p>The grid: among the rows and columns of the frame's two-colour pixels, a cell width {@code cw} (and height
 * {@code ch}) is a period at which one column (row) in every {@code cw} holds no foreground pixel, the gap between
 * characters (lines); the smallest such period of {@value #MIN_CELL}..{@link GlyphTile#MAX_CELL_WIDTH}
 * ({@link GlyphTile#MAX_CELL_HEIGHT}) wins, its gap column the cells' first. The grid found is kept for later frames
 * while their pixels do not contradict it (a frame with one exposed line holds too few characters to find it anew).
 * A wrong grid costs bytes, never pixels: every cell is sent exactly.
 *
 * <p>Pure and single-threaded: one per {@link FrameEncoder}, run on the caller's thread before any other tile of the
 * frame is deflated.
 */
final class GlyphPass {
    static final int MIN_CELL = 4;
    /** Fewer foreground pixels than this in the frame's text rows say nothing about a grid. */
    static final int MIN_INK = 150;
    /** A grid in use is replaced by one found in a frame with at least this much ink only (not by a few stray lines). */
    static final int REPLACE_INK = 1000;
    /** A rectangle of fewer cells is left to the other tiles. */
    static final int MIN_CELLS = 8;
    /** A GLYPHS tile is sent only if at most this share of its cells add a glyph (else it is not text). */
    static final double MAX_NEW_FRACTION = 0.5;
    /** A period is a grid when its gap columns (rows) hold at most this share of the ink a random column would. */
    static final double GAP_INK = 0.04;
    /** The grid in use is kept while its gap lines hold at most this share (a cursor block, an underline cross them). */
    static final double KEEP_GAP_INK = 0.25;
    private static final int TILE = Damage.TILE_SIZE;

    /** Cells are {@code cw x ch}, at x = ox (mod cw) and y = oy (mod ch). */
    record Grid(int cw, int ch, int ox, int oy) {}

    private Grid grid;
    /** The rectangles (x, y, w, h) the last {@link #run} sent as GLYPHS tiles. */
    private List<int[]> lastSent = List.of();

    /** The grid in use (for tests). */
    Optional<Grid> grid() { return Optional.ofNullable(grid); }

    /**
     * Sends the grid cells of {@code plain} tiles and {@code pieces} ({grid tile, x, y, w, h}, each spanning whole
     * tile columns), and the cells of {@code dirty} tiles between them, as GLYPHS tiles of {@code tiles}' lane, returned in the order they were deflated. Tiles of
     * {@code plain} partly covered are cleared from it and their rest added to {@code pieces}; pieces partly covered
     * are replaced by their rest.
     */
    List<Tile> run(TileEncoder tiles, int[] pixels, int width, int height, BitSet dirty, BitSet plain, List<int[]> pieces) {
        lastSent = List.of();
        List<Tile> out = new ArrayList<>();
        int columns = Damage.tilesFor(width);
        if (columns == 0 || tiles.lane() < 0) return out;
        // What the frame sends, per pixel row and tile column.
        BitSet covered = new BitSet();
        long area = 0;
        for (int t = plain.nextSetBit(0); t >= 0; t = plain.nextSetBit(t + 1)) {
            int x = (t % columns) * TILE, y = (t / columns) * TILE;
            if (y >= height) break;
            int h = Math.min(TILE, height - y);
            for (int r = y; r < y + h; r++) covered.set(r * columns + t % columns);
            area += (long) h * Math.min(TILE, width - x);
        }
        for (int[] p : pieces) {
            for (int r = p[2]; r < p[2] + p[4]; r++) covered.set(r * columns + p[1] / TILE, r * columns + (p[1] + p[3] - 1) / TILE + 1);
            area += (long) p[3] * p[4];
        }
        if (area < (long) MIN_CELLS * MIN_CELL * MIN_CELL) return out;
        int[] colours = twoColours(pixels, width, height, columns, covered);
        if (colours == null) return out;
        int bg = colours[0], fg = colours[1];
        // Segments (row, tile column) of only bg and fg; ink per column and per row of them.
        BitSet ok = new BitSet();
        int[] colInk = new int[width];
        int[] rowInk = new int[height];
        int[] colRows = new int[width];
        int[] rowPixels = new int[height];
        long ink = 0;
        for (int seg = covered.nextSetBit(0); seg >= 0; seg = covered.nextSetBit(seg + 1)) {
            int r = seg / columns, x0 = (seg % columns) * TILE, x1 = Math.min(x0 + TILE, width);
            int base = r * width;
            int segInk = 0;
            boolean two = true;
            for (int x = x0; x < x1 && two; x++) {
                int p = pixels[base + x] & 0xffffff;
                if (p == fg) segInk++;
                else if (p != bg) two = false;
            }
            if (!two) continue;
            ok.set(seg);
            rowPixels[r] += x1 - x0;
            for (int x = x0; x < x1; x++) colRows[x]++;
            if (segInk == 0) continue;
            for (int x = x0; x < x1; x++) if ((pixels[base + x] & 0xffffff) == fg) colInk[x]++;
            rowInk[r] += segInk;
        }
        // A line drawn through (a window's border, a rule) is not text: its column (row) says nothing of the grid.
        for (int x = 0; x < width; x++) if (colInk[x] * 10L >= colRows[x] * 9L) colInk[x] = 0;
        for (int r = 0; r < height; r++) if (rowInk[r] * 10L >= rowPixels[r] * 9L) rowInk[r] = 0;
        for (int x = 0; x < width; x++) ink += colInk[x];
        long rowTotal = 0;
        for (int r = 0; r < height; r++) rowTotal += rowInk[r];
        ink = Math.min(ink, rowTotal);
        if (ink >= MIN_INK && (grid == null || !fits(grid, colInk, rowInk, ink, KEEP_GAP_INK))) {
            Optional<Grid> found = find(colInk, rowInk, ink);
            // A multiple of the grid in use (a cursor block or an underline filled its gap in this frame) keeps it.
            if (found.isPresent() && (grid == null || !multiple(found.get(), grid) && ink >= REPLACE_INK)) grid = found.get();
        }
        if (grid == null) return out;
        Grid g = grid;
        // Cells wholly inside the dirty tiles and of bg and fg only may go (a row the frame does not send there was
        // copied or is unchanged, so sending its pixels again draws what the client holds); a run of them is sent from
        // its first to its last cell holding a pixel the frame sends.
        int gx0 = g.ox() % g.cw(), gy0 = g.oy() % g.ch();
        int cellColumns = gx0 + g.cw() <= width ? (width - gx0) / g.cw() : 0;
        int cellRows = gy0 + g.ch() <= height ? (height - gy0) / g.ch() : 0;
        if (cellColumns == 0 || cellRows == 0) return out;
        Segments segs = new Segments(pixels, width, columns, dirty, ok, covered, bg, fg);
        List<int[]> rects = new ArrayList<>(); // in cells: i0, j0, i1 (exclusive), j1 (exclusive)
        List<int[]> open = new ArrayList<>();
        for (int j = 0; j < cellRows; j++) {
            int y = gy0 + j * g.ch();
            List<int[]> runs = new ArrayList<>();
            if (segs.anyCovered(y, g.ch())) {
                int i = 0;
                while (i < cellColumns) {
                    if (!segs.eligible(gx0 + i * g.cw(), y, g)) { i++; continue; }
                    int end = i + 1;
                    while (end < cellColumns && segs.eligible(gx0 + end * g.cw(), y, g)) end++;
                    int first = -1, last = -1;
                    for (int k = i; k < end; k++) {
                        if (segs.needed(gx0 + k * g.cw(), y, g)) {
                            if (first < 0) first = k;
                            last = k;
                        }
                    }
                    if (first >= 0) runs.add(new int[] {first, last + 1});
                    i = end;
                }
            }
            List<int[]> next = new ArrayList<>();
            for (int[] run : runs) {
                int[] grown = null;
                for (int[] o : open) if (o[0] == run[0] && o[2] == run[1] && o[3] == j) grown = o;
                if (grown != null) {
                    grown[3] = j + 1;
                    open.remove(grown);
                    next.add(grown);
                } else {
                    next.add(new int[] {run[0], j, run[1], j + 1});
                }
            }
            rects.addAll(open); // not continued in this row: done
            open = next;
        }
        rects.addAll(open);
        rects.sort((a, b) -> a[1] != b[1] ? Integer.compare(a[1], b[1]) : Integer.compare(a[0], b[0]));
        List<int[]> sent = new ArrayList<>();
        for (int[] rc : rects) {
            if ((rc[2] - rc[0]) * (rc[3] - rc[1]) < MIN_CELLS) continue;
            int x = gx0 + rc[0] * g.cw(), y = gy0 + rc[1] * g.ch();
            int w = (rc[2] - rc[0]) * g.cw(), h = (rc[3] - rc[1]) * g.ch();
            // A tile's rectangle is at most 65535 wide and high; a desktop is smaller (3840x2400 at most).
            Optional<Tile> t = tiles.glyphs(pixels, width, x, y, w, h, g.cw(), g.ch(), bg, fg, MAX_NEW_FRACTION);
            if (t.isEmpty()) continue;
            out.add(t.get());
            sent.add(new int[] {x, y, w, h});
        }
        lastSent = sent;
        if (sent.isEmpty()) return out;
        subtract(plain, pieces, sent, columns, width, height);
        return out;
    }

    /** The frame's segments (pixel row, tile column): which are in dirty tiles and of bg and fg only, worked out once each. */
    private static final class Segments {
        final int[] pixels;
        final int width, columns, bg, fg;
        final BitSet dirty, ok, covered;
        final BitSet seen = new BitSet();

        Segments(int[] pixels, int width, int columns, BitSet dirty, BitSet ok, BitSet covered, int bg, int fg) {
            this.pixels = pixels;
            this.width = width;
            this.columns = columns;
            this.dirty = dirty;
            this.ok = ok;
            this.covered = covered;
            this.bg = bg;
            this.fg = fg;
            seen.or(covered); // the covered ones are worked out already
        }

        boolean good(int r, int c) {
            int seg = r * columns + c;
            if (!seen.get(seg)) {
                seen.set(seg);
                if (dirty.get((r / TILE) * columns + c)) {
                    int x0 = c * TILE, x1 = Math.min(x0 + TILE, width), base = r * width;
                    boolean two = true;
                    for (int x = x0; x < x1 && two; x++) {
                        int p = pixels[base + x] & 0xffffff;
                        two = p == bg || p == fg;
                    }
                    if (two) ok.set(seg);
                }
            }
            return ok.get(seg);
        }

        boolean eligible(int x, int y, Grid g) {
            int c0 = x / TILE, c1 = (x + g.cw() - 1) / TILE;
            for (int r = y; r < y + g.ch(); r++) {
                for (int c = c0; c <= c1; c++) if (!good(r, c)) return false;
            }
            return true;
        }

        boolean needed(int x, int y, Grid g) {
            int c0 = x / TILE, c1 = (x + g.cw() - 1) / TILE;
            for (int r = y; r < y + g.ch(); r++) {
                for (int c = c0; c <= c1; c++) if (covered.get(r * columns + c)) return true;
            }
            return false;
        }

        boolean anyCovered(int y, int h) {
            int from = covered.nextSetBit(y * columns);
            return from >= 0 && from < (y + h) * columns;
        }
    }

    /**
     * The background (most pixels) and foreground (next most) of the rows and tile columns the frame sends that hold at
     * most two colours, or null when there are not two.
     */
    private static int[] twoColours(int[] pixels, int width, int height, int columns, BitSet covered) {
        int[] colour = new int[8];
        long[] count = new long[8];
        int n = 0;
        for (int seg = covered.nextSetBit(0); seg >= 0; seg = covered.nextSetBit(seg + 1)) {
            int r = seg / columns, x0 = (seg % columns) * TILE, x1 = Math.min(x0 + TILE, width);
            int base = r * width;
            int a = pixels[base + x0] & 0xffffff, b = -1, na = 0, nb = 0;
            boolean two = true;
            for (int x = x0; x < x1; x++) {
                int p = pixels[base + x] & 0xffffff;
                if (p == a) na++;
                else if (p == b) nb++;
                else if (b < 0) { b = p; nb++; }
                else { two = false; break; }
            }
            if (!two) continue;
            n = tally(colour, count, n, a, na);
            if (b >= 0) n = tally(colour, count, n, b, nb);
        }
        int first = -1, second = -1;
        for (int i = 0; i < n; i++) {
            if (first < 0 || count[i] > count[first]) { second = first; first = i; }
            else if (second < 0 || count[i] > count[second]) second = i;
        }
        return second < 0 ? null : new int[] {colour[first], colour[second]};
    }

    private static int tally(int[] colour, long[] count, int n, int c, int k) {
        for (int i = 0; i < n; i++) {
            if (colour[i] == c) { count[i] += k; return n; }
        }
        if (n < colour.length) {
            colour[n] = c;
            count[n] = k;
            return n + 1;
        }
        return n; // a rare colour of two-colour rows beyond the first eight: not counted
    }

    private static boolean fits(Grid g, int[] colInk, int[] rowInk, long ink, double share) {
        return gapInk(colInk, g.cw(), g.ox() % g.cw()) * g.cw() <= share * ink
                && gapInk(rowInk, g.ch(), g.oy() % g.ch()) * g.ch() <= share * ink;
    }

    /** Whether {@code a}'s cells are whole numbers of {@code b}'s, on {@code b}'s lines. */
    private static boolean multiple(Grid a, Grid b) {
        return a.cw() % b.cw() == 0 && a.ch() % b.ch() == 0 && a.ox() % b.cw() == b.ox() % b.cw() && a.oy() % b.ch() == b.oy() % b.ch();
    }

    private static Optional<Grid> find(int[] colInk, int[] rowInk, long ink) {
        int[] x = period(colInk, ink, GlyphTile.MAX_CELL_WIDTH);
        if (x == null) return Optional.empty();
        int[] y = period(rowInk, ink, GlyphTile.MAX_CELL_HEIGHT);
        if (y == null) return Optional.empty();
        return Optional.of(new Grid(x[0], y[0], x[1], y[1]));
    }

    /** The smallest period p (and its emptiest offset) whose gap lines hold at most {@link #GAP_INK} of p's fair share. */
    private static int[] period(int[] profile, long ink, int max) {
        for (int p = MIN_CELL; p <= max && 2 * p <= profile.length; p++) {
            long best = Long.MAX_VALUE;
            int bestOffset = 0;
            for (int o = 0; o < p; o++) {
                long s = gapInk(profile, p, o);
                if (s < best) { best = s; bestOffset = o; }
            }
            if (best * p <= GAP_INK * ink) return new int[] {p, bestOffset};
        }
        return null;
    }

    private static long gapInk(int[] profile, int p, int o) {
        long s = 0;
        for (int i = o; i < profile.length; i += p) s += profile[i];
        return s;
    }

    /** Takes the rectangles {@code sent} out of {@code plain} and {@code pieces} (their rest becomes pieces). */
    private static void subtract(BitSet plain, List<int[]> pieces, List<int[]> sent, int columns, int width, int height) {
        List<int[]> rest = new ArrayList<>();
        for (int t = plain.nextSetBit(0); t >= 0; t = plain.nextSetBit(t + 1)) {
            int x = (t % columns) * TILE, y = (t / columns) * TILE;
            int[] r = {x, y, Math.min(TILE, width - x), Math.min(TILE, height - y)};
            if (!overlapsAny(r, sent)) continue;
            plain.clear(t);
            for (int[] left : minus(r, sent)) rest.add(new int[] {t, left[0], left[1], left[2], left[3]});
        }
        List<int[]> kept = new ArrayList<>();
        for (int[] p : pieces) {
            int[] r = {p[1], p[2], p[3], p[4]};
            if (!overlapsAny(r, sent)) { kept.add(p); continue; }
            for (int[] left : minus(r, sent)) kept.add(new int[] {(left[1] / TILE) * columns + left[0] / TILE, left[0], left[1], left[2], left[3]});
        }
        pieces.clear();
        pieces.addAll(kept);
        pieces.addAll(rest);
    }

    /** Whether the rectangle overlaps one the last {@link #run} sent (a band joined across it would send its pixels again). */
    boolean overlapsSent(int x, int y, int w, int h) { return overlapsAny(new int[] {x, y, w, h}, lastSent); }

    private static boolean overlapsAny(int[] r, List<int[]> rects) {
        for (int[] s : rects) if (overlap(r, s)) return true;
        return false;
    }

    private static boolean overlap(int[] a, int[] b) {
        return a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
    }

    /** {@code r} less every rectangle of {@code cut}, as disjoint rectangles. */
    private static List<int[]> minus(int[] r, List<int[]> cut) {
        List<int[]> parts = new ArrayList<>(List.of(r));
        for (int[] c : cut) {
            List<int[]> next = new ArrayList<>();
            for (int[] p : parts) {
                if (!overlap(p, c)) { next.add(p); continue; }
                int px1 = p[0] + p[2], py1 = p[1] + p[3], cx1 = c[0] + c[2], cy1 = c[1] + c[3];
                int top = Math.max(p[1], c[1]), bottom = Math.min(py1, cy1);
                if (c[1] > p[1]) next.add(new int[] {p[0], p[1], p[2], c[1] - p[1]});
                if (cy1 < py1) next.add(new int[] {p[0], cy1, p[2], py1 - cy1});
                if (c[0] > p[0]) next.add(new int[] {p[0], top, c[0] - p[0], bottom - top});
                if (cx1 < px1) next.add(new int[] {cx1, top, px1 - cx1, bottom - top});
            }
            parts = next;
        }
        return parts;
    }
}
