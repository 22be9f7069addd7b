package io.deskgate.encode;

import io.deskgate.encode.TileEncoder.Kind;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.Resize;
import io.deskgate.stream.StreamMessage.Tile;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
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
    private final boolean motionDetection;
    /** The client's canvas as this encoder last drew it; valid in the tiles of {@link #known}. */
    private int[] canvas = new int[0];
    private int canvasWidth;
    private int canvasHeight;
    private final BitSet known = new BitSet();

    /** An encoder whose large frames use the process's {@link EncoderPool#shared()} pool. */
    public FrameEncoder(EncoderConfig config) {
        this(config, EncoderPool.shared());
    }

    /** An encoder whose large frames use {@code pool}, which its owner shares among its encoders and closes. */
    public FrameEncoder(EncoderConfig config, EncoderPool pool) {
        this.tiles = new TileEncoder(config);
        this.maxRunTiles = config.maxRunTiles();
        this.motionDetection = config.motionDetection();
        this.pool = Objects.requireNonNull(pool, "pool");
        this.parallelThresholdTiles = config.parallelThresholdTiles();
        this.lanes.add(new Lane(tiles));
    }

    public EncoderConfig config() { return tiles.config(); }

    /** Encodes the whole {@code width x height} picture (for a client whose canvas is cleared or lost). */
    public List<StreamMessage> encodeAll(int[] pixels, int width, int height) {
        BitSet all = new BitSet();
        all.set(0, Damage.tilesFor(width) * Damage.tilesFor(height));
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
        if ((long) width * height > pixels.length) {
            throw new IllegalArgumentException(width + "x" + height + " does not fit " + pixels.length + " pixels");
        }
        if (motionDetection) for (StreamMessage m : sentBefore) sent(m);
        if (!motionDetection || width != canvasWidth || height != canvasHeight || known.isEmpty()) {
            List<StreamMessage> out = encodeTiles(pixels, width, height, dirtyTiles);
            remember(pixels, width, height, dirtyTiles);
            return out;
        }
        int columns = Damage.tilesFor(width);
        int rows = Damage.tilesFor(height);
        BitSet dirty = dirtyTiles.get(0, columns * rows);
        detector.detect(canvas, pixels, width, height, dirty, known);
        List<StreamMessage> out = new ArrayList<>(detector.copies());
        BitSet plain = new BitSet();
        List<Tile> partial = new ArrayList<>();
        for (int t = dirty.nextSetBit(0); t >= 0; t = dirty.nextSetBit(t + 1)) {
            int x = (t % columns) * TILE, y = (t / columns) * TILE;
            int w = Math.min(TILE, width - x), h = Math.min(TILE, height - y);
            long full = h == TILE ? -1L : (1L << h) - 1;
            long done = detector.resolvedRows(t) & full;
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
                    partial.add(tiles.encode(pixels, width, x, y + r, wide, end - r));
                    r = end;
                }
                dirty.clear(t + 1, last + 1);
            }
        }
        out.addAll(encodeTiles(pixels, width, height, plain));
        out.addAll(partial);
        remember(pixels, width, height, dirtyTiles);
        return out;
    }

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
        if (!motionDetection) return;
        if (width != canvasWidth || height != canvasHeight) {
            canvasWidth = width;
            canvasHeight = height;
            if (canvas.length < width * height) canvas = new int[width * height];
            known.clear();
        }
        int columns = Damage.tilesFor(width);
        int rows = Damage.tilesFor(height);
        for (int t = dirtyTiles.nextSetBit(0); t >= 0 && t < columns * rows; t = dirtyTiles.nextSetBit(t + 1)) {
            int x = (t % columns) * TILE, y = (t / columns) * TILE;
            int w = Math.min(TILE, width - x), h = Math.min(TILE, height - y);
            for (int r = y; r < y + h; r++) System.arraycopy(pixels, r * width + x, canvas, r * width + x, w);
            known.set(t);
        }
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
        int laneCount = Math.min(pool.threads(), rowCount);
        if (parallelThresholdTiles == 0 || tileCount < parallelThresholdTiles || laneCount < 2) {
            Lane lane = lanes.get(0);
            for (int i = 0; i < rowCount; i++) lane.encodeRow(pixels, width, height, dirtyRows[i], columns, dirtyTiles, out);
            return out;
        }
        while (lanes.size() < laneCount) lanes.add(new Lane(new TileEncoder(tiles.config())));
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

        Lane(TileEncoder tiles) { this.tiles = tiles; }

        void encodeRow(int[] pixels, int width, int height, int row, int columns, BitSet dirty, List<StreamMessage> out) {
            if (rowKinds.length < columns) {
                rowKinds = new Kind[columns];
                rowColours = new int[columns];
            }
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
    }

    @Override public void close() {
        for (Lane lane : lanes) lane.tiles.close(); // lane 0's is tiles
    }
}
