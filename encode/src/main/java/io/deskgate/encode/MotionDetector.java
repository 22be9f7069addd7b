package io.deskgate.encode;

import io.deskgate.stream.StreamMessage.CopyRect;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the parts of a frame's damage that the client already has: rows unchanged since the previous
 * frame, and regions scrolled or moved, sent as {@code COPY_RECT} (docs/protocol.md §1.1) instead of
 * pixels. Pure: the previous and the current framebuffer in, copies and the rows they resolve out.
 *
 * <p>How: every row of a dirty tile is hashed over the tile's width in both frames; each new row whose
 * hash is the hash of exactly one old row of the same tile column votes for a vertical offset (a scroll).
 * If much stays unexplained, a few short distinctive row segments of the new frame are looked for, by a
 * rolling hash, in every fourth row of the old frame's damage (a window moved by any {@code (dx, dy)}). Each
 * candidate offset is then verified pixel-exact, row by row within each dirty tile, against the old
 * frame; runs of at least {@value #MIN_RUN} verified rows become copies. The cost is a few passes over the
 * damaged area; a frame where nothing matches pays the hashing and one rolling-hash pass.
 *
 * <p>Copies read the client's canvas as it was before the frame, so they are ordered such that none
 * overwrites what a later one reads (a cycle drops a copy, whose rows are then sent as pixels); every
 * tile of the frame is sent after them.
 *
 * <p>Not thread-safe: one per {@link FrameEncoder}, which keeps its scratch arrays between frames.
 */
public final class MotionDetector {
    static final int TILE = Damage.TILE_SIZE;
    /** Fewer verified rows than this in a run are sent as pixels: a copy this short saves little. */
    static final int MIN_RUN = 4;
    /**
     * Fewer verified rows than this at a shift are sent as pixels, not as a copy: with ZSTREAM tiles a few rows the
     * client already holds cost fewer bytes re-sent (deflate finds them in the lane's window) than a 13-byte COPY_RECT,
     * and short copies of look-alike text rows split the rest into many small tiles.
     */
    static final int MIN_COPY_RUN = 16;
    static final int MIN_VOTES = 4;
    static final int MAX_VERTICAL_CANDIDATES = 3;
    static final int MAX_MOVE_CANDIDATES = 2;
    static final int FEATURE_PIXELS = 32;
    static final int MAX_FEATURES = 32;
    static final int MAX_MATCHES_PER_FEATURE = 8;
    static final int MAX_COPIES = 128;
    static final int MOVE_ROW_STRIDE = 4;
    private static final int ROLL_BASE = 0x01000193;
    private static final int ROLL_TOP = pow(ROLL_BASE, FEATURE_PIXELS - 1);
    private static final long ALL_ROWS = -1L;

    private int width;
    private int height;
    private int columns;
    private int rows;
    private int[] hashNew = new int[0];
    private int[] hashOld = new int[0];
    private long[] uniform = new long[0];
    /** Per tile: bit r set when row r of the tile needs no pixels this frame. */
    private long[] resolved = new long[0];
    private int[] votes = new int[0];
    private long[] tableKeys = new long[0];
    private int[] tableValues = new int[0];
    private boolean[] tableUsed = new boolean[0];
    private final List<CopyRect> copies = new ArrayList<>();
    /**
     * The row hashes of the caller's canvas (the old frame of the next call), per tile as {@link #hashNew}, valid in the
     * tiles of {@link #canvasHashed} for a canvas of {@link #canvasWidth} x {@link #canvasHeight}: a tile the canvas took
     * from the frame just looked at has its new rows' hashes already (see {@link #canvasHolds}), so the next call does
     * not hash its old rows again. The caller reports every other write to the canvas ({@link #canvasChanged}).
     */
    private int[] canvasHash = new int[0];
    private final BitSet canvasHashed = new BitSet();
    private int canvasWidth = -1;
    private int canvasHeight = -1;
    /** The tiles whose rows the last call hashed into {@link #hashNew}. */
    private final BitSet hashedNow = new BitSet();

    /**
     * Looks at the dirty tiles of {@code now} against {@code old}, both {@code width x height}
     * {@code 0x00RRGGBB} row-major. Only old pixels in {@code knownTiles} (the tiles whose old pixels the
     * client is known to hold) are used as sources. Afterwards {@link #copies()} and
     * {@link #resolvedRows(int)} describe the result until the next call.
     */
    public void detect(int[] old, int[] now, int width, int height, BitSet dirtyTiles, BitSet knownTiles) {
        if ((long) width * height > Math.min(old.length, now.length)) {
            throw new IllegalArgumentException(width + "x" + height + " does not fit the framebuffers");
        }
        this.width = width;
        this.height = height;
        this.columns = Damage.tilesFor(width);
        this.rows = Damage.tilesFor(height);
        int tiles = columns * rows;
        if (resolved.length < tiles) {
            resolved = new long[tiles];
            uniform = new long[tiles];
            hashNew = new int[tiles * TILE];
            hashOld = new int[tiles * TILE];
        }
        if (canvasHash.length < tiles * TILE) canvasHash = Arrays.copyOf(canvasHash, tiles * TILE);
        if (width != canvasWidth || height != canvasHeight) {
            canvasHashed.clear();
            canvasWidth = width;
            canvasHeight = height;
        }
        Arrays.fill(resolved, 0, tiles, 0L);
        copies.clear();
        hashedNow.clear();
        if (tiles == 0) return;

        int hashedRows = hashRows(old, now, dirtyTiles, knownTiles);
        List<long[]> candidates = new ArrayList<>();
        for (int dy : verticalCandidates(dirtyTiles, knownTiles, hashedRows)) candidates.add(new long[] {0, dy});
        int[][] rowOffset = new int[tiles][];
        resolve(old, now, dirtyTiles, knownTiles, candidates, rowOffset);
        if (unresolvedRows(dirtyTiles) >= TILE) {
            List<long[]> moves = new ArrayList<>();
            for (long[] move : moveCandidates(old, now, dirtyTiles, knownTiles)) {
                boolean tried = false;
                for (long[] c : candidates) tried |= c[0] == move[0] && c[1] == move[1];
                if (!tried) moves.add(move);
            }
            if (!moves.isEmpty()) {
                int first = candidates.size();
                candidates.addAll(moves);
                resolveFrom(old, now, dirtyTiles, knownTiles, candidates, first, rowOffset);
            }
        }
        buildCopies(dirtyTiles, candidates, rowOffset);
    }

    /** The copies to send before any tile of the frame, in order. */
    public List<CopyRect> copies() { return List.copyOf(copies); }

    /** Bit r is set when row r of tile {@code tile} ({@code row * columns + column}) needs no pixels. */
    public long resolvedRows(int tile) { return resolved[tile]; }

    /**
     * After {@link #detect}: the caller's canvas (the old frame of the next call) now holds the frame just looked at in
     * {@code tiles} (of a {@code width x height} canvas), copied from it, and nothing else changed in it. Tiles the call
     * hashed keep their hashes as the canvas's; any other tile of {@code tiles} is hashed again when next needed.
     */
    public void canvasHolds(BitSet tiles, int width, int height) {
        if (width != canvasWidth || height != canvasHeight) {
            canvasCleared();
            return;
        }
        int n = columns * rows;
        for (int t = tiles.nextSetBit(0); t >= 0 && t < n; t = tiles.nextSetBit(t + 1)) {
            if (hashedNow.get(t)) {
                System.arraycopy(hashNew, t * TILE, canvasHash, t * TILE, TILE);
                canvasHashed.set(t);
            } else {
                canvasHashed.clear(t);
            }
        }
    }

    /** The caller wrote the rectangle of its canvas (a copy, a tile it replaced): its tiles' rows are hashed again when needed. */
    public void canvasChanged(int x, int y, int w, int h) {
        if (w <= 0 || h <= 0 || canvasWidth <= 0) return;
        int cols = Damage.tilesFor(canvasWidth);
        for (int r = Math.max(0, y) / TILE, last = (y + h - 1) / TILE; r <= last; r++) {
            int from = r * cols + Math.max(0, x) / TILE, to = r * cols + Math.min(cols - 1, (x + w - 1) / TILE);
            if (to >= from) canvasHashed.clear(from, to + 1);
        }
    }

    /** The caller's canvas was cleared or replaced whole: no row hash of it is known. */
    public void canvasCleared() {
        canvasHashed.clear();
        canvasWidth = -1;
        canvasHeight = -1;
    }

    // ------------------------------------------------------------ hashing and voting

    private int hashRows(int[] old, int[] now, BitSet dirty, BitSet known) {
        int n = 0;
        for (int t = dirty.nextSetBit(0); t >= 0 && t < columns * rows; t = dirty.nextSetBit(t + 1)) {
            int x0 = (t % columns) * TILE, y0 = (t / columns) * TILE;
            int w = Math.min(TILE, width - x0), h = Math.min(TILE, height - y0);
            boolean oldKnown = known.get(t);
            boolean oldHashed = oldKnown && canvasHashed.get(t);
            long flat = 0;
            for (int r = 0; r < h; r++) {
                int at = (y0 + r) * width + x0;
                // hash(now, at, w) and isUniform(now, at, w) in one pass
                int first = now[at], diff = 0, sum = w;
                for (int i = 0; i < w; i++) {
                    int p = now[at + i];
                    sum += p * WEIGHTS[i];
                    diff |= p ^ first;
                }
                hashNew[t * TILE + r] = finish(sum);
                if (diff == 0) flat |= 1L << r;
                hashOld[t * TILE + r] = !oldKnown ? 0 : oldHashed ? canvasHash[t * TILE + r] : hash(old, at, w);
            }
            uniform[t] = flat;
            hashedNow.set(t);
            n += h;
        }
        return n;
    }

    /** Vertical offsets (dy, new row minus old row) most voted for by rows of unique hash; dy = 0 excluded. */
    private int[] verticalCandidates(BitSet dirty, BitSet known, int hashedRows) {
        int size = Integer.highestOneBit(Math.max(16, hashedRows * 2)) * 2;
        if (tableKeys.length < size) {
            tableKeys = new long[size];
            tableValues = new int[size];
            tableUsed = new boolean[size];
        }
        long[] keys = tableKeys;
        int[] values = tableValues;
        boolean[] used = tableUsed;
        Arrays.fill(used, 0, size, false);
        int mask = size - 1;
        for (int t = dirty.nextSetBit(0); t >= 0 && t < columns * rows; t = dirty.nextSetBit(t + 1)) {
            if (!known.get(t)) continue;
            int c = t % columns, y0 = (t / columns) * TILE, h = Math.min(TILE, height - y0);
            for (int r = 0; r < h; r++) {
                long key = (long) c << 32 | (hashOld[t * TILE + r] & 0xffffffffL);
                int slot = mix(key) & mask;
                while (used[slot] && keys[slot] != key) slot = (slot + 1) & mask;
                if (used[slot]) {
                    values[slot] = -1; // seen twice: votes nothing
                } else {
                    used[slot] = true;
                    keys[slot] = key;
                    values[slot] = y0 + r;
                }
            }
        }
        if (votes.length < 2 * height) votes = new int[2 * height];
        Arrays.fill(votes, 0, 2 * height, 0);
        for (int t = dirty.nextSetBit(0); t >= 0 && t < columns * rows; t = dirty.nextSetBit(t + 1)) {
            int c = t % columns, y0 = (t / columns) * TILE, h = Math.min(TILE, height - y0);
            for (int r = 0; r < h; r++) {
                if ((uniform[t] >>> r & 1) != 0) continue; // a blank row says nothing about where it came from
                long key = (long) c << 32 | (hashNew[t * TILE + r] & 0xffffffffL);
                int slot = mix(key) & mask;
                while (used[slot] && keys[slot] != key) slot = (slot + 1) & mask;
                if (!used[slot] || values[slot] < 0) continue;
                int dy = y0 + r - values[slot];
                if (dy != 0) votes[dy + height]++;
            }
        }
        int[] best = new int[MAX_VERTICAL_CANDIDATES];
        int found = 0;
        for (int k = 0; k < MAX_VERTICAL_CANDIDATES; k++) {
            int top = -1;
            for (int i = 0; i < 2 * height; i++) if (votes[i] >= MIN_VOTES && (top < 0 || votes[i] > votes[top])) top = i;
            if (top < 0) break;
            best[found++] = top - height;
            votes[top] = 0;
        }
        return Arrays.copyOf(best, found);
    }

    /** Offsets {dx, dy} of short distinctive segments of the new frame's unresolved rows found in the old frame. */
    private List<long[]> moveCandidates(int[] old, int[] now, BitSet dirty, BitSet known) {
        // Features: one distinctive segment from each of up to MAX_FEATURES dirty tiles, spread over the damage.
        int dirtyCount = 0;
        for (int t = dirty.nextSetBit(0); t >= 0 && t < columns * rows; t = dirty.nextSetBit(t + 1)) dirtyCount++;
        int step = Math.max(1, dirtyCount / MAX_FEATURES);
        int[] fx = new int[MAX_FEATURES], fy = new int[MAX_FEATURES], fh = new int[MAX_FEATURES];
        int features = 0;
        int seen = 0;
        for (int t = dirty.nextSetBit(0); t >= 0 && t < columns * rows && features < MAX_FEATURES; t = dirty.nextSetBit(t + 1)) {
            if (seen++ % step != 0 || resolved[t] == ALL_ROWS) continue;
            int x0 = (t % columns) * TILE, y0 = (t / columns) * TILE;
            int w = Math.min(TILE, width - x0), h = Math.min(TILE, height - y0);
            if (w < FEATURE_PIXELS) continue;
            for (int k = 0; k < h; k++) {
                int r = (k + 7 * seen) % h;
                if ((resolved[t] >>> r & 1) != 0 || (uniform[t] >>> r & 1) != 0) continue;
                int at = (y0 + r) * width + x0;
                int start = distinctive(now, at, w);
                if (start < 0) continue;
                fx[features] = x0 + start;
                fy[features] = y0 + r;
                fh[features] = rollingHash(now, at + start);
                features++;
                break;
            }
        }
        if (features == 0) return List.of();
        int size = 128;
        int[] table = new int[size];
        Arrays.fill(table, -1);
        for (int f = 0; f < features; f++) {
            int slot = mix(fh[f]) & (size - 1);
            while (table[slot] >= 0) slot = (slot + 1) & (size - 1);
            table[slot] = f;
        }
        int[] matches = new int[features];
        Map<Long, Integer> offsetVotes = new HashMap<>();
        // Scan every row of each horizontal run of known dirty tiles of the old frame.
        for (int tr = 0; tr < rows; tr++) {
            int c = 0;
            while (c < columns) {
                int t = tr * columns + c;
                if (!dirty.get(t) || !known.get(t)) { c++; continue; }
                int end = c;
                while (end < columns && dirty.get(tr * columns + end) && known.get(tr * columns + end)) end++;
                int x0 = c * TILE, x1 = Math.min(end * TILE, width);
                int y0 = tr * TILE, y1 = Math.min(y0 + TILE, height);
                if (x1 - x0 >= FEATURE_PIXELS) {
                    // Every MOVE_ROW_STRIDE-th row: a moved region shows a few of its features in them all the same.
                    for (int y = y0; y < y1; y += MOVE_ROW_STRIDE) {
                        int base = y * width;
                        int hsh = rollingHash(old, base + x0);
                        for (int x = x0; ; x++) {
                            int slot = mix(hsh) & (size - 1);
                            for (int f; (f = table[slot]) >= 0; slot = (slot + 1) & (size - 1)) {
                                if (fh[f] == hsh && matches[f] < MAX_MATCHES_PER_FEATURE
                                        && Arrays.equals(old, base + x, base + x + FEATURE_PIXELS,
                                                now, fy[f] * width + fx[f], fy[f] * width + fx[f] + FEATURE_PIXELS)) {
                                    matches[f]++;
                                    long key = (long) (fx[f] - x) << 32 | ((fy[f] - y) & 0xffffffffL);
                                    offsetVotes.merge(key, 1, Integer::sum);
                                }
                            }
                            if (x + FEATURE_PIXELS >= x1) break;
                            hsh = (hsh - old[base + x] * ROLL_TOP) * ROLL_BASE + old[base + x + FEATURE_PIXELS];
                        }
                    }
                }
                c = end;
            }
        }
        List<long[]> out = new ArrayList<>();
        offsetVotes.entrySet().stream()
                .filter(e -> e.getKey() != 0L)
                .sorted((a, b) -> b.getValue() - a.getValue())
                .limit(MAX_MOVE_CANDIDATES)
                .forEach(e -> out.add(new long[] {(int) (e.getKey() >> 32), (int) (long) e.getKey()}));
        return out;
    }

    // ------------------------------------------------------------ verification and copies

    private void resolve(int[] old, int[] now, BitSet dirty, BitSet known, List<long[]> candidates, int[][] rowOffset) {
        resolveFrom(old, now, dirty, known, candidates, 0, rowOffset);
    }

    /**
     * In every dirty tile, the rows whose pixels equal the old frame's at {@code (x - dx, y - dy)} for candidates
     * {@code from..} and for no shift: per tile the offset matching most rows is taken first (no shift wins a
     * tie: it needs no message), then the others for rows still open, each in runs of at least {@link #MIN_RUN}.
     */
    private void resolveFrom(int[] old, int[] now, BitSet dirty, BitSet known, List<long[]> candidates, int from, int[][] rowOffset) {
        int n = candidates.size() - from + 1; // + no shift, as the last
        long[] masks = new long[n];
        for (int t = dirty.nextSetBit(0); t >= 0 && t < columns * rows; t = dirty.nextSetBit(t + 1)) {
            int x0 = (t % columns) * TILE, y0 = (t / columns) * TILE;
            int w = Math.min(TILE, width - x0), h = Math.min(TILE, height - y0);
            long full = h == TILE ? ALL_ROWS : (1L << h) - 1;
            long open = full & ~resolved[t];
            if (open == 0) continue;
            for (int k = 0; k < n; k++) {
                int dx = k == n - 1 ? 0 : (int) candidates.get(from + k)[0];
                int dy = k == n - 1 ? 0 : (int) candidates.get(from + k)[1];
                masks[k] = matches(old, now, known, t, x0, y0, w, h, dx, dy, open);
            }
            while (open != 0) {
                int best = -1;
                for (int k = n - 1; k >= 0; k--) {
                    if (best < 0 || Long.bitCount(masks[k] & open) > Long.bitCount(masks[best] & open)) best = k;
                }
                long taken = runs(masks[best] & open, h, best == n - 1 ? MIN_RUN : MIN_COPY_RUN);
                if (taken == 0) break;
                open &= ~taken;
                resolved[t] |= taken;
                masks[best] = 0;
                if (best != n - 1) {
                    if (rowOffset[t] == null) {
                        rowOffset[t] = new int[TILE];
                        Arrays.fill(rowOffset[t], -1);
                    }
                    for (int r = 0; r < h; r++) if ((taken >>> r & 1) != 0) rowOffset[t][r] = from + best;
                }
            }
        }
    }

    /** The rows of {@code open} in tile {@code t} whose pixels equal the old frame's shifted by {@code (dx, dy)}. */
    private long matches(int[] old, int[] now, BitSet known, int t, int x0, int y0, int w, int h, int dx, int dy, long open) {
        int sx = x0 - dx;
        if (sx < 0 || sx + w > width) return 0;
        long mask = 0;
        for (int r = 0; r < h; r++) {
            if ((open >>> r & 1) == 0) continue;
            int sy = y0 + r - dy;
            if (sy < 0 || sy >= height || !sourceKnown(known, sx, sy, w)) continue;
            if (dx == 0 && dy == 0 && hashNew[t * TILE + r] != hashOld[t * TILE + r]) continue;
            int at = (y0 + r) * width + x0, src = sy * width + sx;
            if (Arrays.equals(now, at, at + w, old, src, src + w)) mask |= 1L << r;
        }
        return mask;
    }

    /** The rows of {@code mask} that lie in runs of at least {@code minRun}. */
    private static long runs(long mask, int h, int minRun) {
        long out = 0;
        int run = 0;
        for (int r = 0; r <= h; r++) {
            if (r < h && (mask >>> r & 1) != 0) {
                run++;
            } else {
                if (run >= minRun) out |= (run == 64 ? ALL_ROWS : (1L << run) - 1) << (r - run);
                run = 0;
            }
        }
        return out;
    }

    private boolean sourceKnown(BitSet known, int sx, int sy, int w) {
        int tr = sy / TILE;
        for (int c = sx / TILE, last = (sx + w - 1) / TILE; c <= last; c++) if (!known.get(tr * columns + c)) return false;
        return true;
    }

    private int unresolvedRows(BitSet dirty) {
        int n = 0;
        for (int t = dirty.nextSetBit(0); t >= 0 && t < columns * rows; t = dirty.nextSetBit(t + 1)) {
            int y0 = (t / columns) * TILE, h = Math.min(TILE, height - y0);
            n += h - Long.bitCount(resolved[t] & (h == TILE ? ALL_ROWS : (1L << h) - 1));
        }
        return n;
    }

    private void buildCopies(BitSet dirty, List<long[]> candidates, int[][] rowOffset) {
        // Per tile, runs of one offset; merged across a tile row, then down the tile rows.
        List<int[]> segments = new ArrayList<>(); // {x, y, w, h, candidate}
        for (int t = dirty.nextSetBit(0); t >= 0 && t < columns * rows; t = dirty.nextSetBit(t + 1)) {
            int[] offsets = rowOffset[t];
            if (offsets == null) continue;
            int x0 = (t % columns) * TILE, y0 = (t / columns) * TILE;
            int w = Math.min(TILE, width - x0), h = Math.min(TILE, height - y0);
            int r = 0;
            while (r < h) {
                int cand = offsets[r];
                int end = r + 1;
                while (end < h && offsets[end] == cand) end++;
                if (cand >= 0) {
                    int[] prev = segments.isEmpty() ? null : segments.get(segments.size() - 1);
                    if (prev != null && prev[4] == cand && prev[1] == y0 + r && prev[3] == end - r && prev[0] + prev[2] == x0) {
                        prev[2] += w;
                    } else {
                        segments.add(new int[] {x0, y0 + r, w, end - r, cand});
                    }
                }
                r = end;
            }
        }
        // segments are in tile order, so a horizontal merge only joins neighbours in one tile row: fine,
        // since the tile loop visits a tile row's tiles in sequence only for equal run starts; now down.
        Map<Long, int[]> open = new HashMap<>();
        List<int[]> merged = new ArrayList<>();
        for (int[] s : segments) {
            long key = ((long) s[0] << 48) ^ ((long) s[2] << 32) ^ ((long) s[4] << 24) ^ s[1];
            int[] above = open.remove(key);
            if (above != null && above[0] == s[0] && above[2] == s[2] && above[4] == s[4] && above[1] + above[3] == s[1]) {
                above[3] += s[3];
            } else {
                above = s;
                merged.add(s);
            }
            open.put(((long) above[0] << 48) ^ ((long) above[2] << 32) ^ ((long) above[4] << 24) ^ (above[1] + above[3]), above);
        }
        List<CopyRect> pending = new ArrayList<>();
        for (int[] s : merged) {
            long[] c = candidates.get(s[4]);
            int dx = (int) c[0], dy = (int) c[1];
            CopyRect copy = new CopyRect(s[0] - dx, s[1] - dy, s[2], s[3], s[0], s[1]);
            if (pending.size() < MAX_COPIES) pending.add(copy); else unresolve(copy);
        }
        order(pending);
    }

    /** Appends to {@link #copies} in an order where no copy overwrites a later one's source; drops a copy per cycle. */
    private void order(List<CopyRect> pending) {
        while (!pending.isEmpty()) {
            int pick = -1;
            for (int i = 0; i < pending.size() && pick < 0; i++) {
                CopyRect a = pending.get(i);
                boolean blocks = false;
                for (int j = 0; j < pending.size() && !blocks; j++) {
                    if (j != i) blocks = overlaps(a.dstX(), a.dstY(), pending.get(j).srcX(), pending.get(j).srcY(), a.w(), a.h(), pending.get(j).w(), pending.get(j).h());
                }
                if (!blocks) pick = i;
            }
            if (pick < 0) {
                unresolve(pending.remove(pending.size() - 1));
            } else {
                copies.add(pending.remove(pick));
            }
        }
    }

    private static boolean overlaps(int ax, int ay, int bx, int by, int aw, int ah, int bw, int bh) {
        return ax < bx + bw && bx < ax + aw && ay < by + bh && by < ay + ah;
    }

    /** The copy's destination rows are sent as pixels after all. */
    private void unresolve(CopyRect c) {
        for (int y = c.dstY(); y < c.dstY() + c.h(); y++) {
            for (int col = c.dstX() / TILE; col <= (c.dstX() + c.w() - 1) / TILE; col++) {
                resolved[(y / TILE) * columns + col] &= ~(1L << (y % TILE));
            }
        }
    }

    // ------------------------------------------------------------ hashes

    /** One odd multiplier per position of a row segment: the hash is a dot product, which the JIT vectorizes. */
    private static final int[] WEIGHTS = new int[TILE];

    static {
        long x = 0x2545F4914F6CDD1DL;
        for (int i = 0; i < TILE; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            WEIGHTS[i] = (int) x | 1;
        }
    }

    private static int hash(int[] p, int from, int n) {
        int h = n;
        for (int i = 0; i < n; i++) h += p[from + i] * WEIGHTS[i];
        return finish(h);
    }

    private static int finish(int h) {
        return h * 0x9E3779B1 ^ h >>> 15;
    }

    /** The start, within {@code [at, at + w)}, of a {@value #FEATURE_PIXELS}-pixel segment with at least 4 colour changes, or -1. */
    private static int distinctive(int[] p, int at, int w) {
        for (int start = 0; start + FEATURE_PIXELS <= w; start += FEATURE_PIXELS / 2) {
            int changes = 0;
            for (int i = at + start + 1, end = at + start + FEATURE_PIXELS; i < end; i++) if (p[i] != p[i - 1]) changes++;
            if (changes >= 4) return start;
        }
        return -1;
    }

    private static int rollingHash(int[] p, int from) {
        int h = 0;
        for (int i = from, end = from + FEATURE_PIXELS; i < end; i++) h = h * ROLL_BASE + p[i];
        return h;
    }

    private static int mix(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29));
    }

    private static int pow(int base, int exp) {
        int r = 1;
        for (int i = 0; i < exp; i++) r *= base;
        return r;
    }
}
