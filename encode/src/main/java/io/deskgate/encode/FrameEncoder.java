package io.deskgate.encode;

import io.deskgate.encode.TileEncoder.Kind;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.Resize;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.ZstreamTile;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Turns the dirty tiles of a framebuffer (a {@link Damage} grid) into TILE stream messages. Each dirty
 * tile is classified (one colour, lossless, photographic); horizontally adjacent dirty tiles of one row
 * and one kind are merged into one wider tile (up to {@link EncoderConfig#maxRunTiles()} tiles; FILL
 * tiles of the same colour without limit), which saves per-message overhead and lets deflate and JPEG
 * see more context. Tiles on the right and bottom edges are cut to the framebuffer.
 *
 * <p>With {@link EncoderConfig#motionDetection()}, {@link #encode(int[], int, int, BitSet, List)} keeps a model
 * of the client's canvas (the pixels it was last sent) and a {@link MotionDetector} turns scrolled, moved and
 * unchanged rows of the damage into {@code COPY_RECT}s, or nothing, before the tiles of what is left. The model
 * is only right if the encoder hears of every down message that changes the canvas: the caller passes the
 * {@code COPY_RECT} and {@code RESIZE} messages it sent itself since the last call. The four-argument
 * {@link #encode(int[], int, int, BitSet)} cannot know of them and never detects motion.
 *
 * <p>The calls with {@code sentBefore} and the time-aware {@link #encodeAll(int[], int, int, long)} first send a
 * terminal's character cells of what they send losslessly as GLYPHS tiles ({@link GlyphPass}: references to the glyphs lane 0 cached), then the rest as tiles.
 *
 * <p>A frame with at least {@link EncoderConfig#parallelThresholdTiles()} dirty tiles to encode has its tile rows
 * encoded in parallel: the caller's thread and up to {@link EncoderPool#threads()} - 1 tasks on the
 * {@link EncoderPool} take rows one at a time, each with a {@link TileEncoder} of its own (its deflater, JPEG
 * writer and scratch buffers are not shared), and the rows' messages are joined in row order, so the output is
 * the same messages, byte for byte and in the same order, as on one thread. Smaller frames stay on the caller's
 * thread. The call returns only when every row is done, so the caller's pixel array is read only during it.
 *
 * <p>Not thread-safe: one encoder per transcoding instance, used by the thread that owns its
 * framebuffer. {@link #close()} frees native deflate memory.
 */
public final class FrameEncoder implements AutoCloseable {
    private static final int TILE = Damage.TILE_SIZE;

    private final TileEncoder tiles;
    private final int maxRunTiles;
    private final EncoderPool pool;
    private final int parallelThresholdTiles;
    /** Lane 0 is the caller's and uses {@link #tiles}; lanes 1.. are created on the first parallel frame. */
    private final List<Lane> lanes = new ArrayList<>();
    /** Rows the pool's tasks encoded, not the caller (for tests and benchmarks). */
    private final AtomicLong rowsByPool = new AtomicLong();
    private final MotionDetector detector = new MotionDetector();
    /** Sends a terminal's character cells as references to cached glyphs (GLYPHS tiles). */
    private final GlyphPass glyphs = new GlyphPass();
    private boolean glyphCells = true;
    private final ChangeSpan span = new ChangeSpan();
    private final boolean motionDetection;
    /** The client's canvas as this encoder last drew it; valid in the tiles of {@link #known}. */
    private int[] canvas = new int[0];
    private int canvasWidth;
    private int canvasHeight;
    private final BitSet known = new BitSet();
    /** Set by a frame that ran the motion detector, until its {@link #remember}: the detector's row hashes are the canvas's. */
    private boolean detectedFrame;
    /** Per tile: when it changed, whether the client holds it lossy (the time-aware calls only). */
    private final ChangeHistory history;
    private final int refineBudgetBytes;
    /**
     * The tiles of the frame being encoded that may go lossy (photographic ones that change often), or null in a
     * call without time, where content alone decides. Written before a frame's lanes start, read by them.
     */
    private BitSet frameLossyOk;
    /** While set (a congested link), a photographic tile may go lossy on its first change. */
    private boolean lossyAtOnce;

    /** An encoder whose large frames use the process's {@link EncoderPool#shared()} pool. */
    public FrameEncoder(EncoderConfig config) {
        this(config, EncoderPool.shared());
    }

    /** An encoder whose large frames use {@code pool}, which its owner shares among its encoders and closes. */
    public FrameEncoder(EncoderConfig config, EncoderPool pool) {
        this.tiles = new TileEncoder(config, 0);
        this.maxRunTiles = config.maxRunTiles();
        this.motionDetection = config.motionDetection();
        this.pool = Objects.requireNonNull(pool, "pool");
        this.parallelThresholdTiles = config.parallelThresholdTiles();
        this.lanes.add(new Lane(tiles));
        this.history = new ChangeHistory(config);
        this.refineBudgetBytes = config.refineBudgetBytes();
    }

    public EncoderConfig config() { return tiles.config(); }

    /** The JPEG quality of lossy tiles from the next frame on (the config's until set). */
    public float jpegQuality() { return tiles.jpegQuality(); }

    /**
     * Sets the JPEG quality of lossy tiles from the next frame on (the engine follows the stream's lag).
     *
     * @throws IllegalArgumentException outside 0.05..1.0
     */
    public void jpegQuality(float quality) {
        for (Lane lane : lanes) lane.tiles.jpegQuality(quality);
    }

    /**
     * Whether lossy tiles are WEBP (tile format 7) instead of JPEG from the next frame on: the engine turns it on for a
     * client whose CLIENT_CAPABILITIES says it decodes them (docs/protocol.md §1.2), and off when that client leaves.
     * Without libwebp, lossy tiles stay JPEG ({@link #webp()} stays false).
     */
    public void webp(boolean on) {
        for (Lane lane : lanes) lane.tiles.webp(on);
    }

    /** Whether lossy tiles are WEBP now. */
    public boolean webp() { return tiles.webp(); }

    /**
     * libwebp's method of WEBP tiles, 0 (fastest) to 6 (most compact); {@link TileEncoder#DEFAULT_WEBP_METHOD} until set.
     *
     * @throws IllegalArgumentException outside 0..6
     */
    public void webpMethod(int method) {
        for (Lane lane : lanes) lane.tiles.webpMethod(method);
    }

    /** libwebp's tuning of WEBP tiles; {@link WebpEncoder.Tuning#TILES} until set. */
    public void webpTuning(WebpEncoder.Tuning tuning) {
        for (Lane lane : lanes) lane.tiles.webpTuning(tuning);
    }

    /**
     * When the earliest tile the client holds lossy is due to be re-sent pixel-exact (it may be past: the next
     * time-aware call sends it), or empty while the client holds no lossy tile. The caller asks for a frame then,
     * even if the desktop has no damage (an empty dirty set is enough).
     */
    public OptionalLong nextRefinementNs() { return history.nextRefinementNs(); }

    /**
     * While {@code atOnce} (the engine sets it while the stream's lag is high), a photographic tile goes lossy on its
     * first change (and in a whole picture), not only once it changes often: on a congested link a new photo arrives
     * as JPEG, then is refined like any lossy tile. Off by default.
     */
    public void lossyAtOnce(boolean atOnce) { lossyAtOnce = atOnce; }

    /** How many 64x64 tiles of the client's canvas are lossy now (waiting to be refined). */
    public int lossyTiles() { return history.lossyTiles(); }

    /**
     * Encodes the whole picture like {@link #encodeAll(int[], int, int)}, but with the change history: a
     * photographic tile goes lossy only if it changes often; tiles sent lossy are remembered for refinement.
     */
    public List<StreamMessage> encodeAll(int[] pixels, int width, int height, long nowNs) {
        int columns = Damage.tilesFor(width), rows = Damage.tilesFor(height);
        history.resize(columns, rows);
        BitSet all = new BitSet();
        all.set(0, columns * rows);
        detectedFrame = false;
        resetStreams();
        frameLossyOk = lossyOk(all, nowNs);
        List<StreamMessage> out;
        try {
            out = encodeWithGlyphs(pixels, width, height, all);
        } finally {
            frameLossyOk = null;
        }
        noteSent(out, width, height);
        remember(pixels, width, height, all);
        return out;
    }

    /**
     * Encodes the dirty tiles like {@link #encode(int[], int, int, BitSet, List)}, with the change history (the
     * rule, docs/architecture.md "Lossy or lossless"): every tile of the damage that did change is counted as a
     * change at {@code nowNs}, and so is the destination of every copy; a photographic tile goes lossy (JPEG) only
     * when it changed at least {@link EncoderConfig#lossyChanges()} times within {@link EncoderConfig#lossyWindowNs()},
     * and so does a photo's edge with UI beside it (MIXED: a dragged photo's edge tiles); every other tile (one colour,
     * few colours, a photo or its edge that is still) lossless.
     * A copy of a lossy tile is lossy where it lands. After the damage, tiles the client holds lossy that have not
     * changed for {@link EncoderConfig#refineAfterNs()} are re-sent pixel-exact, lowest index first, until the frame's
     * refinement reaches {@link EncoderConfig#refineBudgetBytes()} (at least one tile a frame). With an empty dirty
     * set and nothing sent before, the frame is refinement only (possibly no message at all).
     *
     * @param nowNs a monotonic time, never less than the previous call's
     */
    public List<StreamMessage> encode(int[] pixels, int width, int height, BitSet dirtyTiles, List<StreamMessage> sentBefore, long nowNs) {
        if ((long) width * height > pixels.length) {
            throw new IllegalArgumentException(width + "x" + height + " does not fit " + pixels.length + " pixels");
        }
        int columns = Damage.tilesFor(width), rows = Damage.tilesFor(height);
        for (StreamMessage m : sentBefore) {
            if (m instanceof Resize) history.clear();
            if (m instanceof CopyRect c && history.tiles() > 0) copied(c, history.columns(), nowNs);
        }
        history.resize(columns, rows);
        BitSet changed = new BitSet();
        frameLossyOk = new BitSet();
        List<StreamMessage> out;
        try {
            out = encodeFrame(pixels, width, height, dirtyTiles, sentBefore, nowNs, changed);
        } finally {
            frameLossyOk = null;
        }
        noteSent(out, width, height);
        out.addAll(refine(pixels, width, height, changed, nowNs));
        return out;
    }

    /**
     * Every lane's next ZSTREAM tile carries RESET: the whole-picture calls ({@link #encodeAll}) are what a client that
     * lost its streams (a refresh, a new viewer, a gap the stream gave up on) gets, so they start every stream anew.
     */
    private void resetStreams() {
        for (Lane lane : lanes) lane.tiles.resetStream();
    }

    /** The tiles of {@code tiles} that are photographic candidates for lossy: those changing often. */
    private BitSet lossyOk(BitSet tileSet, long nowNs) {
        BitSet ok = new BitSet();
        int n = history.tiles();
        for (int t = tileSet.nextSetBit(0); t >= 0 && t < n; t = tileSet.nextSetBit(t + 1)) {
            if (lossyAtOnce || history.changingOften(t, nowNs)) ok.set(t);
        }
        return ok;
    }

    /** A copy the client applies: its destination tiles changed now, and are lossy if a source tile was. */
    private void copied(CopyRect c, int columns, long nowNs) {
        int n = history.tiles();
        if (c.w() <= 0 || c.h() <= 0 || (c.srcX() + c.w() - 1) / TILE >= columns || (c.dstX() + c.w() - 1) / TILE >= columns) return;
        boolean lossySource = false;
        for (int r = c.srcY() / TILE; r <= (c.srcY() + c.h() - 1) / TILE; r++) {
            for (int col = c.srcX() / TILE; col <= (c.srcX() + c.w() - 1) / TILE; col++) {
                int t = r * columns + col;
                if (t < n && history.isLossy(t)) lossySource = true;
            }
        }
        for (int r = c.dstY() / TILE; r <= (c.dstY() + c.h() - 1) / TILE; r++) {
            for (int col = c.dstX() / TILE; col <= (c.dstX() + c.w() - 1) / TILE; col++) {
                int t = r * columns + col;
                if (t >= n) continue;
                history.changed(t, nowNs);
                if (lossySource) history.lossy(t, true); // a tile only partly covered keeps whatever else it held
            }
        }
    }

    /** After a frame's tiles: a grid tile a tile covers whole is lossy exactly if that tile is JPEG or WEBP; one it covers in part, if it was or that tile is. */
    private void noteSent(List<StreamMessage> out, int width, int height) {
        int columns = history.columns();
        int n = history.tiles();
        for (StreamMessage m : out) {
            if (!(m instanceof Tile t) || t.w() == 0 || t.h() == 0) continue;
            boolean jpeg = t.format() == Tile.FORMAT_JPEG || t.format() == Tile.FORMAT_WEBP;
            for (int r = t.y() / TILE; r <= (t.y() + t.h() - 1) / TILE; r++) {
                for (int c = t.x() / TILE; c <= (t.x() + t.w() - 1) / TILE; c++) {
                    int i = r * columns + c;
                    if (c >= columns || i >= n) continue;
                    boolean whole = t.x() <= c * TILE && t.y() <= r * TILE
                            && t.x() + t.w() >= Math.min((c + 1) * TILE, width) && t.y() + t.h() >= Math.min((r + 1) * TILE, height);
                    history.lossy(i, jpeg || (!whole && history.isLossy(i)));
                }
            }
        }
    }

    /** Re-sends pixel-exact the lossy tiles still for long enough, not changed this frame, within the byte budget. */
    private List<StreamMessage> refine(int[] pixels, int width, int height, BitSet changedNow, long nowNs) {
        List<StreamMessage> out = new ArrayList<>();
        int columns = history.columns();
        int bytes = 0;
        BitSet lossy = history.lossyTileSet();
        for (int t = lossy.nextSetBit(0); t >= 0 && bytes < refineBudgetBytes; t = lossy.nextSetBit(t + 1)) {
            if (changedNow.get(t) || !history.refinementDue(t, nowNs)) continue;
            int x = (t % columns) * TILE, y = (t / columns) * TILE;
            int w = Math.min(TILE, width - x), h = Math.min(TILE, height - y);
            if (w <= 0 || h <= 0) continue;
            Tile exact = tiles.encodeExact(tiles.classify(pixels, width, x, y, w, h), pixels, width, x, y, w, h);
            out.add(exact);
            bytes += exact.data().length;
            history.lossy(t, false);
            if (motionDetection && width == canvasWidth && height == canvasHeight) {
                for (int r = y; r < y + h; r++) System.arraycopy(pixels, r * width + x, canvas, r * width + x, w);
                detector.canvasChanged(x, y, w, h);
                known.set(t);
            }
        }
        return out;
    }

    /** Encodes the whole {@code width x height} picture (for a client whose canvas is cleared or lost). */
    public List<StreamMessage> encodeAll(int[] pixels, int width, int height) {
        BitSet all = new BitSet();
        all.set(0, Damage.tilesFor(width) * Damage.tilesFor(height));
        detectedFrame = false;
        resetStreams();
        List<StreamMessage> out = encodeTiles(pixels, width, height, all);
        remember(pixels, width, height, all);
        return out;
    }

    /**
     * Encodes the dirty tiles like {@link #encode(int[], int, int, BitSet)}, but first, with motion detection on,
     * sends what the client already holds as {@code COPY_RECT}s (all before the first tile) and leaves out rows
     * that did not change.
     *
     * @param sentBefore the down messages the caller sent the client itself since the previous call, in order:
     *     a {@code COPY_RECT} is applied to the encoder's model of the canvas, a {@code RESIZE} clears it, a
     *     {@code TILE} makes its rectangle unknown; others do not touch the canvas
     */
    public List<StreamMessage> encode(int[] pixels, int width, int height, BitSet dirtyTiles, List<StreamMessage> sentBefore) {
        return encodeFrame(pixels, width, height, dirtyTiles, sentBefore, 0, null);
    }

    /**
     * The frame of {@link #encode(int[], int, int, BitSet, List)}; with {@code changed} (the time-aware call), every
     * tile that changes is counted in the history and set in {@code changed}, and {@link #frameLossyOk} is filled in
     * before any tile is encoded.
     */
    private List<StreamMessage> encodeFrame(int[] pixels, int width, int height, BitSet dirtyTiles, List<StreamMessage> sentBefore,
                                            long nowNs, BitSet changed) {
        if ((long) width * height > pixels.length) {
            throw new IllegalArgumentException(width + "x" + height + " does not fit " + pixels.length + " pixels");
        }
        detectedFrame = false;
        if (motionDetection) for (StreamMessage m : sentBefore) sent(m);
        for (StreamMessage m : sentBefore) if (m instanceof Resize) resetStreams(); // a new canvas: a keyframe
        if (!motionDetection || width != canvasWidth || height != canvasHeight || known.isEmpty()) {
            if (changed != null) changedTiles(dirtyTiles, changed, nowNs);
            List<StreamMessage> out = encodeWithGlyphs(pixels, width, height, dirtyTiles);
            remember(pixels, width, height, dirtyTiles);
            return out;
        }
        int columns = Damage.tilesFor(width);
        int rows = Damage.tilesFor(height);
        BitSet dirty = dirtyTiles.get(0, columns * rows);
        detector.detect(canvas, pixels, width, height, dirty, known);
        detectedFrame = true; // remember() hands the detector's row hashes of this frame on as the canvas's
        List<StreamMessage> out = new ArrayList<>(detector.copies());
        // The model as the client will hold it before the frame's tiles: a detector's copy may also write pixels of rows
        // it does not resolve (a copy narrower than a tile), which the change spans below must not count as changed.
        for (CopyRect c : detector.copies()) sent(c);
        if (changed != null) {
            for (CopyRect c : detector.copies()) copied(c, columns, nowNs);
            BitSet encoded = new BitSet();
            for (int t = dirty.nextSetBit(0); t >= 0; t = dirty.nextSetBit(t + 1)) {
                int h = Math.min(TILE, height - (t / columns) * TILE);
                long full = h == TILE ? -1L : (1L << h) - 1;
                if ((detector.resolvedRows(t) & full) != full) encoded.set(t);
            }
            changedTiles(encoded, changed, nowNs);
        }
        BitSet plain = new BitSet();
        List<int[]> pieces = new ArrayList<>();
        for (int t = dirty.nextSetBit(0); t >= 0; t = dirty.nextSetBit(t + 1)) {
            int x = (t % columns) * TILE, y = (t / columns) * TILE;
            int w = Math.min(TILE, width - x), h = Math.min(TILE, height - y);
            long full = h == TILE ? -1L : (1L << h) - 1;
            long done = detector.resolvedRows(t) & full;
            if (done != full && known.get(t) && span.measure(canvas, pixels, width, x, y, w, h, full & ~done)) {
                if (span.narrow()) {
                    // Only a part of the tile differs from what the client holds (the strips a moved window exposed):
                    // those parts go as pieces, not the whole tile with whatever else is in it.
                    span.pieces(pieces, t, x, y);
                    continue;
                }
            } else if (done != full && known.get(t)) {
                continue; // the client's canvas holds every pixel of it already
            }
            if (done == 0) {
                plain.set(t);
            } else if (done != full) {
                // Neighbours to the right missing the same rows share its tiles.
                int last = t;
                while (last + 1 < (t / columns + 1) * columns && last - t + 1 < maxRunTiles && dirty.get(last + 1)
                        && (detector.resolvedRows(last + 1) & full) == done) {
                    last++;
                }
                int wide = Math.min((last % columns + 1) * TILE, width) - x;
                int r = 0;
                while (r < h) {
                    if ((done >>> r & 1) != 0) { r++; continue; }
                    int end = r + 1;
                    while (end < h && (done >>> end & 1) == 0) end++;
                    pieces.add(new int[] {t, x, y + r, wide, end - r});
                    r = end;
                }
                dirty.clear(t + 1, last + 1);
            }
        }
        // Text first: the grid cells of what is left go as GLYPHS tiles (deflated into lane 0 before the tiles below).
        if (glyphCells) out.addAll(glyphs.run(tiles, pixels, width, height, dirtyTiles, plain, pieces));
        out.addAll(encodeTilesLossyGrouped(pixels, width, height, plain));
        // Encoded after the plain tiles, in the order they are sent: a lane's ZSTREAM tiles must reach the client in the
        // order they were deflated.
        for (Band band : bands(pixels, width, pieces)) out.add(encodeBand(band, pixels, width));
        remember(pixels, width, height, dirtyTiles);
        return out;
    }

    /** Rows of the damage closer than this are sent in one rectangle (the rows between are re-sent as they are). */
    static final int BAND_GAP_ROWS = 16;
    /** Band groups: pieces join only pieces of their group. */
    private static final int BAND_ALONE = 0, BAND_EXACT = 1, BAND_LOSSY = 2;

    /**
     * A rectangle of the frame's partly resolved tiles, sent as one tile; {@code allLossyOk} if every piece in it may go
     * lossy; {@code group} the band group its pieces join in; {@code kind} the classification of its one piece, null once
     * pieces are joined.
     */
    private record Band(int x, int y, int w, int h, long pieceArea, boolean allLossyOk, int group, Kind kind) {
        Band with(int[] p, boolean lossyOk) {
            int x0 = Math.min(x, p[1]), y0 = Math.min(y, p[2]);
            int x1 = Math.max(x + w, p[1] + p[3]), y1 = Math.max(y + h, p[2] + p[4]);
            return new Band(x0, y0, x1 - x0, y1 - y0, pieceArea + (long) p[3] * p[4], allLossyOk && lossyOk, group, null);
        }

        long area() { return (long) w * h; }
    }

    /**
     * The pieces (grid tile, x, y, w, h) of the partly resolved tiles (what a scroll exposes, rows a move did not cover)
     * joined into as few rectangles as is worth it: pieces less than {@value #BAND_GAP_ROWS} rows apart join, so the
     * strip a scroll exposes goes as one rectangle across the width rather than one per tile run and row run, as long as
     * the rectangle holds at most twice the pieces' own area. Pieces of one colour or few colours join each other, and
     * photographic pieces that may go lossy join each other (one JPEG for the edge of a moving picture); a photographic
     * piece that may not stays as it is (as before bands), so that its lossy choice is its own.
     */
    private List<Band> bands(int[] pixels, int width, List<int[]> pieces) {
        List<int[]> sorted = new ArrayList<>(pieces);
        sorted.sort(Comparator.<int[]>comparingInt(p -> p[2]).thenComparingInt(p -> p[1]));
        List<Band> bands = new ArrayList<>();
        for (int[] p : sorted) {
            boolean lossyOk = frameLossyOk == null || frameLossyOk.get(p[0]);
            Kind kind = tiles.classify(pixels, width, p[1], p[2], p[3], p[4]);
            // A photo's piece that may go lossy joins only other such pieces (one JPEG for the edge of a moving picture,
            // not one a tile); one that may not keeps its own rectangle, so that UI beside it stays exact.
            int group = kind == Kind.FILL || kind == Kind.LOSSLESS ? BAND_EXACT
                    : lossyOk && frameLossyOk != null && tiles.config().allowLossy() ? BAND_LOSSY : BAND_ALONE;
            boolean joins = group != BAND_ALONE;
            boolean joined = false;
            for (int i = bands.size() - 1; i >= 0 && joins && !joined; i--) {
                Band b = bands.get(i);
                if (b.group() != group || p[2] > b.y() + b.h() + BAND_GAP_ROWS) continue;
                Band u = b.with(p, lossyOk);
                if (u.area() <= 2 * u.pieceArea() && !(glyphCells && glyphs.overlapsSent(u.x(), u.y(), u.w(), u.h()))) {
                    bands.set(i, u);
                    joined = true;
                }
            }
            if (!joined) bands.add(new Band(p[1], p[2], p[3], p[4], (long) p[3] * p[4], lossyOk, group, kind));
        }
        return bands;
    }

    /** One band, by content alone in a call without time, else lossy only if every piece of it may be. */
    private Tile encodeBand(Band b, int[] pixels, int width) {
        if (frameLossyOk == null) return tiles.encode(pixels, width, b.x(), b.y(), b.w(), b.h());
        Kind kind = b.kind() != null ? b.kind() : tiles.classify(pixels, width, b.x(), b.y(), b.w(), b.h()); // one piece: its own
        return (kind == Kind.PHOTO || kind == Kind.MIXED) && b.allLossyOk() ? tiles.encode(kind, pixels, width, b.x(), b.y(), b.w(), b.h())
                : tiles.encodeExact(kind, pixels, width, b.x(), b.y(), b.w(), b.h());
    }

    /** Counts the tiles of {@code tileSet} as changed now, sets them in {@code changed} and decides which may go lossy. */
    private void changedTiles(BitSet tileSet, BitSet changed, long nowNs) {
        int n = history.tiles();
        for (int t = tileSet.nextSetBit(0); t >= 0 && t < n; t = tileSet.nextSetBit(t + 1)) {
            history.changed(t, nowNs);
            changed.set(t);
        }
        frameLossyOk = lossyOk(changed, nowNs);
    }

    /** The dirty tiles with a terminal's character cells first as GLYPHS tiles, the rest as {@link #encodeTiles} and bands. */
    private List<StreamMessage> encodeWithGlyphs(int[] pixels, int width, int height, BitSet dirtyTiles) {
        if (!glyphCells) return encodeTilesLossyGrouped(pixels, width, height, dirtyTiles);
        if ((long) width * height > pixels.length) {
            throw new IllegalArgumentException(width + "x" + height + " does not fit " + pixels.length + " pixels");
        }
        BitSet plain = dirtyTiles.get(0, Damage.tilesFor(width) * Damage.tilesFor(height));
        List<int[]> pieces = new ArrayList<>();
        List<StreamMessage> out = new ArrayList<>(glyphs.run(tiles, pixels, width, height, dirtyTiles, plain, pieces));
        out.addAll(encodeTilesLossyGrouped(pixels, width, height, plain));
        for (Band band : bands(pixels, width, pieces)) out.add(encodeBand(band, pixels, width));
        return out;
    }

    /** Whether frames send a terminal's character cells as GLYPHS tiles (on by default; off for comparisons in tests). */
    void glyphCells(boolean on) { glyphCells = on; }

    /** How many tile rows tasks on the pool have encoded for this encoder, rather than its caller. */
    long rowsEncodedByPool() { return rowsByPool.get(); }

    /** One down message the caller sent itself, applied to the model of the client's canvas. */
    private void sent(StreamMessage m) {
        switch (m) {
            case Resize r -> {
                canvasWidth = r.w();
                canvasHeight = r.h();
                if (canvas.length < r.w() * r.h()) canvas = new int[r.w() * r.h()];
                known.clear(); // the client's canvas is black now; nothing in it is worth copying
                detector.canvasCleared();
            }
            case CopyRect c -> {
                boolean inside = c.srcX() + c.w() <= canvasWidth && c.dstX() + c.w() <= canvasWidth
                        && c.srcY() + c.h() <= canvasHeight && c.dstY() + c.h() <= canvasHeight;
                if (!inside || c.w() == 0 || c.h() == 0) return; // the client ignores it too
                if (!allKnown(c.srcX(), c.srcY(), c.w(), c.h())) {
                    forget(c.dstX(), c.dstY(), c.w(), c.h());
                    return;
                }
                boolean down = c.dstY() > c.srcY(); // copy rows in the order that reads each source row before it is written
                for (int i = 0; i < c.h(); i++) {
                    int r = down ? c.h() - 1 - i : i;
                    System.arraycopy(canvas, (c.srcY() + r) * canvasWidth + c.srcX(), canvas, (c.dstY() + r) * canvasWidth + c.dstX(), c.w());
                }
                detector.canvasChanged(c.dstX(), c.dstY(), c.w(), c.h());
                // A tile only partly covered keeps its other pixels, so its state stays as it was.
            }
            case Tile t -> forget(t.x(), t.y(), t.w(), t.h());
            default -> { }
        }
    }

    private boolean allKnown(int x, int y, int w, int h) {
        int columns = Damage.tilesFor(canvasWidth);
        for (int r = y / TILE; r <= (y + h - 1) / TILE; r++) {
            for (int c = x / TILE; c <= (x + w - 1) / TILE; c++) if (!known.get(r * columns + c)) return false;
        }
        return true;
    }

    private void forget(int x, int y, int w, int h) {
        int columns = Damage.tilesFor(canvasWidth);
        for (int r = y / TILE; r <= (y + h - 1) / TILE; r++) {
            for (int c = x / TILE; c <= (x + w - 1) / TILE; c++) known.clear(r * columns + c);
        }
    }

    /** After a frame: the client's canvas holds {@code pixels} in every dirty tile. */
    private void remember(int[] pixels, int width, int height, BitSet dirtyTiles) {
        boolean detected = detectedFrame;
        detectedFrame = false;
        if (!motionDetection) return;
        if (width != canvasWidth || height != canvasHeight) {
            canvasWidth = width;
            canvasHeight = height;
            if (canvas.length < width * height) canvas = new int[width * height];
            known.clear();
            detector.canvasCleared();
        }
        int columns = Damage.tilesFor(width);
        int rows = Damage.tilesFor(height);
        for (int t = dirtyTiles.nextSetBit(0); t >= 0 && t < columns * rows; t = dirtyTiles.nextSetBit(t + 1)) {
            int x = (t % columns) * TILE, y = (t / columns) * TILE;
            int w = Math.min(TILE, width - x), h = Math.min(TILE, height - y);
            for (int r = y; r < y + h; r++) System.arraycopy(pixels, r * width + x, canvas, r * width + x, w);
            if (!detected) detector.canvasChanged(x, y, w, h);
            known.set(t);
        }
        if (detected) detector.canvasHolds(dirtyTiles, width, height);
    }

    /**
     * Encodes the dirty tiles of a {@code width x height} picture of {@code 0x00RRGGBB} pixels, row-major.
     * Tile indices outside the grid are ignored. Messages come in row order, left to right. No motion detection:
     * the caller may have sent the client messages this encoder does not know of, so its model of the canvas is
     * dropped.
     */
    public List<StreamMessage> encode(int[] pixels, int width, int height, BitSet dirtyTiles) {
        List<StreamMessage> out = encodeTiles(pixels, width, height, dirtyTiles);
        known.clear();
        return out;
    }

    /**
     * {@link #encodeTiles}, except that in a time-aware call the whole tiles that go lossy (photographic ones that may,
     * {@link #frameLossyOk}) are grouped into rectangles of up to {@link LossyRegions#MAX_TILES} tiles, each one JPEG
     * (one set of JPEG headers and tables instead of one a tile), encoded on the caller's thread after the other tiles.
     */
    private List<StreamMessage> encodeTilesLossyGrouped(int[] pixels, int width, int height, BitSet tileSet) {
        BitSet lossyOk = frameLossyOk;
        if (lossyOk == null || lossyOk.isEmpty() || !tiles.config().allowLossy()) return encodeTiles(pixels, width, height, tileSet);
        int columns = Damage.tilesFor(width), rows = Damage.tilesFor(height);
        BitSet lossy = new BitSet();
        for (int t = tileSet.nextSetBit(0); t >= 0 && t < columns * rows; t = tileSet.nextSetBit(t + 1)) {
            if (!lossyOk.get(t)) continue;
            int x = (t % columns) * TILE, y = (t / columns) * TILE;
            Kind kind = tiles.classify(pixels, width, x, y, Math.min(TILE, width - x), Math.min(TILE, height - y));
            if (kind == Kind.PHOTO || kind == Kind.MIXED) lossy.set(t);
        }
        if (lossy.isEmpty()) return encodeTiles(pixels, width, height, tileSet);
        BitSet rest = (BitSet) tileSet.clone();
        rest.andNot(lossy);
        List<StreamMessage> out = encodeTiles(pixels, width, height, rest);
        for (int[] r : LossyRegions.rectangles(lossy, columns, rows, LossyRegions.MAX_TILES)) {
            int x = r[0] * TILE, y = r[1] * TILE;
            out.add(tiles.lossy(pixels, width, x, y, Math.min(r[2] * TILE, width) - x, Math.min(r[3] * TILE, height) - y));
        }
        return out;
    }

    private List<StreamMessage> encodeTiles(int[] pixels, int width, int height, BitSet dirtyTiles) {
        if ((long) width * height > pixels.length) {
            throw new IllegalArgumentException(width + "x" + height + " does not fit " + pixels.length + " pixels");
        }
        int columns = Damage.tilesFor(width);
        int rows = Damage.tilesFor(height);
        List<StreamMessage> out = new ArrayList<>();
        if (columns == 0 || rows == 0) return out;
        int[] dirtyRows = new int[rows];
        int rowCount = 0, tileCount = 0;
        for (int row = 0; row < rows; row++) {
            int first = dirtyTiles.nextSetBit(row * columns);
            if (first < 0 || first >= columns * rows) break;
            if (first >= (row + 1) * columns) {
                row = first / columns - 1; // skip clean rows
                continue;
            }
            dirtyRows[rowCount++] = row;
            if (parallelThresholdTiles > 0 && tileCount < parallelThresholdTiles) {
                for (int t = first; t >= 0 && t < (row + 1) * columns; t = dirtyTiles.nextSetBit(t + 1)) tileCount++;
            }
        }
        int laneCount = Math.min(Math.min(pool.threads(), ZstreamTile.LANES), rowCount);
        if (parallelThresholdTiles == 0 || tileCount < parallelThresholdTiles || laneCount < 2) {
            Lane lane = lanes.get(0);
            for (int i = 0; i < rowCount; i++) lane.encodeRow(pixels, width, height, dirtyRows[i], columns, dirtyTiles, out);
            return out;
        }
        while (lanes.size() < laneCount) {
            TileEncoder lane = new TileEncoder(tiles.config(), lanes.size()); // its stream starts with RESET
            lane.jpegQuality(tiles.jpegQuality());
            lane.webp(tiles.webp());
            lane.webpMethod(tiles.webpMethod());
            lane.webpTuning(tiles.webpTuning());
            lanes.add(new Lane(lane));
        }
        Frame frame = new Frame(pixels, width, height, columns, dirtyTiles, dirtyRows, rowCount);
        for (int k = 1; k < laneCount; k++) {
            Lane lane = lanes.get(k);
            if (!pool.offer(() -> frame.encodeRows(lane))) break; // a closed pool: the caller does the rest
        }
        frame.encodeRows(lanes.get(0));
        frame.awaitRows();
        for (int i = 0; i < rowCount; i++) out.addAll(frame.results[i]);
        return out;
    }

    /**
     * One frame encoded in parallel: its dirty rows, taken one at a time by whichever lane is free. A task that
     * starts after every row was taken does nothing (its lane may already serve a later frame).
     */
    private final class Frame {
        final int[] pixels;
        final int width, height, columns;
        final BitSet dirty;
        final int[] rows;
        final int rowCount;
        final List<StreamMessage>[] results;
        final AtomicInteger next = new AtomicInteger();
        final CountDownLatch done;
        volatile RuntimeException failure;
        volatile Error error;

        @SuppressWarnings("unchecked")
        Frame(int[] pixels, int width, int height, int columns, BitSet dirty, int[] rows, int rowCount) {
            this.pixels = pixels;
            this.width = width;
            this.height = height;
            this.columns = columns;
            this.dirty = dirty;
            this.rows = rows;
            this.rowCount = rowCount;
            this.results = new List[rowCount];
            this.done = new CountDownLatch(rowCount);
        }

        void encodeRows(Lane lane) {
            for (int i = next.getAndIncrement(); i < rowCount; i = next.getAndIncrement()) {
                try {
                    List<StreamMessage> row = new ArrayList<>();
                    lane.encodeRow(pixels, width, height, rows[i], columns, dirty, row);
                    results[i] = row;
                    if (lane.tiles != tiles) rowsByPool.incrementAndGet();
                } catch (RuntimeException e) {
                    failure = e;
                } catch (Error e) {
                    error = e;
                } finally {
                    done.countDown();
                }
            }
        }

        /** Waits for rows other lanes are still encoding (the caller has taken the last one); rethrows a failure. */
        void awaitRows() {
            boolean interrupted = false;
            while (true) {
                try {
                    done.await(); // must not return early: the lanes still read the caller's pixels
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
            if (error != null) throw error;
            if (failure != null) throw failure;
        }
    }

    /** What encodes one tile row: a {@link TileEncoder} and the row's scratch, used by one thread at a time. */
    private final class Lane {
        final TileEncoder tiles;
        private Kind[] rowKinds = new Kind[0];
        private int[] rowColours = new int[0];
        private boolean[] rowLossy = new boolean[0];

        Lane(TileEncoder tiles) { this.tiles = tiles; }

        void encodeRow(int[] pixels, int width, int height, int row, int columns, BitSet dirty, List<StreamMessage> out) {
            if (rowKinds.length < columns) {
                rowKinds = new Kind[columns];
                rowColours = new int[columns];
                rowLossy = new boolean[columns];
            }
            BitSet lossyOk = frameLossyOk;
            int y = row * TILE;
            int h = Math.min(TILE, height - y);
            int base = row * columns;
            for (int c = 0; c < columns; c++) {
                if (!dirty.get(base + c)) {
                    rowKinds[c] = null;
                    continue;
                }
                int x = c * TILE;
                Kind kind = tiles.classify(pixels, width, x, y, Math.min(TILE, width - x), h);
                if (lossyOk == null) {
                    // By content alone, as before the change history: a photo's edge is a photo.
                    rowKinds[c] = kind == Kind.MIXED ? Kind.PHOTO : kind;
                    rowLossy[c] = true;
                } else {
                    // A photo's edge that changes often (a window with a photo dragged) goes lossy like the photo:
                    // kept exact it cost W3 15.8 MB instead of 4.1 (docs/benchmarks.md "transcode"); refined once still.
                    rowLossy[c] = (kind == Kind.PHOTO || kind == Kind.MIXED) && lossyOk.get(base + c);
                    rowKinds[c] = rowLossy[c] ? Kind.PHOTO : kind;
                }
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
                while (end < columns && rowKinds[end] == kind && rowLossy[end] == rowLossy[c]
                        && (kind == Kind.FILL ? rowColours[end] == rowColours[c] : end - c < maxRunTiles)) {
                    end++;
                }
                int x = c * TILE;
                int w = Math.min(end * TILE, width) - x;
                out.add(rowLossy[c] ? tiles.encode(kind, pixels, width, x, y, w, h) : tiles.encodeExact(kind, pixels, width, x, y, w, h));
                c = end;
            }
        }
    }

    @Override public void close() {
        for (Lane lane : lanes) lane.tiles.close(); // lane 0's is tiles
    }
}
