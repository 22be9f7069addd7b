package io.deskgate.encode;

import io.deskgate.encode.EncoderConfig.JpegLibrary;
import io.deskgate.stream.GlyphTile;
import io.deskgate.stream.PaletteTile;
import io.deskgate.stream.ZstreamTile;
import io.deskgate.stream.StreamMessage.Tile;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.zip.Deflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Encodes one rectangle of a {@code 0x00RRGGBB} row-major pixel array into a {@link Tile}
 * (docs/protocol.md §1.1): FILL when it is one colour, PALETTE (or ZLIB_RGB when smaller) for text and UI
 * of few colours, ZLIB_RGB for other lossless content, JPEG for photographic content (WEBP instead, for a client that
 * decodes it: {@link #webp(boolean)}, {@link #lossy}). Keeps one {@link Deflater}, one JPEG writer and its scratch buffers for all tiles, so encoding
 * allocates only the output.
 *
 * <p>JPEG comes from libjpeg-turbo ({@link TurboJpeg}, one compressor per encoder) when
 * {@link EncoderConfig#jpegLibrary()} allows it and the library loads, else from the JDK's {@code javax.imageio}
 * writer; {@code turbo} without the library is refused when the encoder is made. Should the library ever report an
 * error, this encoder logs it once and uses the JDK's writer from then on.
 *
 * <p>Not thread-safe: one encoder per thread (per transcoding instance). {@link #close()} frees the
 * deflater's and the JPEG compressor's native memory.
 */
public final class TileEncoder implements AutoCloseable {
    /**
     * What a rectangle looks like, which decides its format: one colour; few colours (text, UI); many colours
     * (a photo, a video); many colours with flat areas too ({@code MIXED}: a photo's edge with a window frame, a
     * title bar or a border beside it, whose sharp edges JPEG smears, so it is never sent lossy while a
     * {@link FrameEncoder} keeps a change history).
     */
    public enum Kind { FILL, LOSSLESS, PHOTO, MIXED }

    /**
     * A many-colour rectangle with at least this fraction (1/n) of its pixels flat (the third or later of a run of one
     * colour along a row, or below two pixels of its colour) holds UI next to the photo: {@link Kind#MIXED}. A 4-pixel
     * vertical border through a 64x64 tile is about 1/16 of it, a 3-row title bar's edge 1/21; a photo's own flat
     * pixels are far fewer (its noise breaks runs).
     */
    static final int MIXED_FLAT_FRACTION = 32;

    /**
     * The deflate level of indexed ZSTREAM tiles, whatever {@link EncoderConfig#zlibLevel()} says (that is the level
     * of PALETTE, ZLIB_RGB and RGB ZSTREAM tiles): a lane's text tiles are mostly what its window already holds, and a
     * longer match search finds it. On W1 (docs/benchmarks.md, "transcode"): level 7 11.7 kB/s at 2.9 % of a core,
     * 6 12.0 kB/s at 3.5 %, 9 11.2 kB/s but 6.5 % (its 4096-long hash chains on sparse 1-bit glyph rows).
     */
    static final int STREAM_LEVEL = 7;
    /** The deflate level of GLYPHS tiles' payloads (small: references and a few new glyphs). */
    static final int GLYPH_LEVEL = 9;
    private static final int COLOUR_TABLE_SIZE = 2048; // power of two, > 2 * MAX_COUNTED_COLOURS
    private static final int MAX_CACHED_IMAGES = 16;
    private static final Logger log = LoggerFactory.getLogger(TileEncoder.class);
    /**
     * libwebp's method (0 fastest .. 6 most compact) of WEBP tiles: measured on W3 and W4 (docs/benchmarks.md,
     * "transcode", WebP against JPEG).
     */
    public static final int DEFAULT_WEBP_METHOD = 0;

    private final EncoderConfig config;
    private final Deflater deflater;
    /** The ZSTREAM lane this encoder writes, or -1: then lossless tiles are PALETTE and ZLIB_RGB, each its own zlib stream. */
    private final int lane;
    /** The lane's persistent raw deflate stream (ZSTREAM tiles), or null. */
    private final Deflater stream;
    /** The level the lane's deflater is set to now. */
    private int streamLevel;
    /** Whether the next ZSTREAM tile starts the lane's stream anew (RESET). */
    private boolean streamReset = true;
    /** The lane's glyph cache, as the decoder holds it (GLYPHS tiles). */
    private final GlyphCache glyphCache = new GlyphCache();
    private byte[] streamInput = new byte[Damage.TILE_SIZE * Damage.TILE_SIZE * 3];
    private byte[] rgb = new byte[Damage.TILE_SIZE * Damage.TILE_SIZE * 3];
    private byte[] deflated = new byte[8192];
    private final int[] colourKeys = new int[COLOUR_TABLE_SIZE];
    private final int[] colourStamps = new int[COLOUR_TABLE_SIZE];
    private final int[] colourIndexes = new int[COLOUR_TABLE_SIZE];
    private final int[] palette = new int[PaletteTile.MAX_COLOURS];
    /**
     * The rectangle {@link #classify} looked at last, while its colours (at most {@link #palette}'s length) are in the
     * palette and the colour table under {@link #classifiedStamp}: packIndexes of the same rectangle skips its first pass.
     * Null when there is none (the next classify or packIndexes clears it).
     */
    private int[] classified;
    private int classifiedStride, classifiedX, classifiedY, classifiedW, classifiedH, classifiedColours, classifiedStamp;
    private byte[] packed = new byte[Damage.TILE_SIZE * Damage.TILE_SIZE];
    private int stamp;
    private ImageWriter jpegWriter;
    private ImageWriteParam jpegParam;
    private final ByteArrayOutputStream jpegOut = new ByteArrayOutputStream(16384);
    private final Map<Long, BufferedImage> images = new LinkedHashMap<>(32, 0.75f, true) {
        @Override protected boolean removeEldestEntry(Map.Entry<Long, BufferedImage> eldest) {
            return size() > MAX_CACHED_IMAGES;
        }
    };

    /** libjpeg-turbo while this encoder uses it; its compressor is opened at the first JPEG tile. */
    private TurboJpeg turboLibrary;
    private TurboJpeg.Compressor turbo;
    private int turboQuality;
    /** The JPEG quality of the next tiles, 0.05..1.0 ({@link #jpegQuality(float)}). */
    private float jpegQuality;
    /** libwebp, for a client that decodes WEBP tiles ({@link #webp(boolean)}); never null, maybe not available. */
    private WebpEncoder webpLibrary = WebpEncoder.shared();
    /** Whether lossy tiles are WEBP now (the client said it decodes them and libwebp loaded). */
    private boolean webp;
    private int webpMethod = DEFAULT_WEBP_METHOD;
    private WebpEncoder.Tuning webpTuning = WebpEncoder.Tuning.TILES;

    /**
     * @throws IllegalStateException when {@code config} asks for {@code jpeg-library: turbo} and libjpeg-turbo
     *     cannot be loaded (the message says why)
     */
    public TileEncoder(EncoderConfig config) {
        this(config, TurboJpeg.shared(), -1);
    }

    /**
     * An encoder whose lossless tiles are ZSTREAM tiles of {@code lane} (docs/protocol.md §1.1): every one continues
     * the lane's deflate stream, so the caller must send them all, in the order they were encoded, to one client.
     *
     * @throws IllegalArgumentException for a lane outside 0..15
     * @throws IllegalStateException as {@link #TileEncoder(EncoderConfig)}
     */
    public TileEncoder(EncoderConfig config, int lane) {
        this(config, TurboJpeg.shared(), lane);
        ZstreamTile.flags(lane, false); // checks the range
    }

    /** With {@code library} as libjpeg-turbo (tests pass one that failed to load). */
    TileEncoder(EncoderConfig config, TurboJpeg library) {
        this(config, library, -1);
    }

    private TileEncoder(EncoderConfig config, TurboJpeg library, int lane) {
        if (lane < -1 || lane >= ZstreamTile.LANES) throw new IllegalArgumentException("lane must be 0.." + (ZstreamTile.LANES - 1) + ": " + lane);
        this.lane = lane;
        this.stream = lane < 0 ? null : new Deflater(STREAM_LEVEL, true);
        this.streamLevel = STREAM_LEVEL;
        this.config = config;
        this.jpegQuality = config.jpegQuality();
        this.turboQuality = turboQuality(jpegQuality);
        checkLibrary(config, library);
        if (config.jpegLibrary() != JpegLibrary.JDK && library.available()) turboLibrary = library;
        this.deflater = new Deflater(config.zlibLevel());
    }

    /**
     * Whether encoders of {@code config} can be made here: for a caller that starts them later (the engine
     * checks at its start, not at its first instance).
     *
     * @throws IllegalStateException when {@code config} asks for {@code jpeg-library: turbo} and libjpeg-turbo
     *     cannot be loaded (the message says why)
     */
    public static void checkLibrary(EncoderConfig config) {
        checkLibrary(config, TurboJpeg.shared());
    }

    static void checkLibrary(EncoderConfig config, TurboJpeg library) {
        if (config.jpegLibrary() == JpegLibrary.TURBO && !library.available()) {
            throw new IllegalStateException("engine.encoder.jpeg-library is turbo, but " + library.unavailableReason().orElseThrow());
        }
    }

    public EncoderConfig config() { return config; }

    /** The ZSTREAM lane of this encoder's lossless tiles, or -1 when they are PALETTE and ZLIB_RGB. */
    public int lane() { return lane; }

    /**
     * The next ZSTREAM tile starts the lane's stream anew and says so (RESET): for a client that has, or may have,
     * lost the stream (a refresh, a new viewer).
     */
    public void resetStream() {
        streamReset = true;
        glyphCache.clear(); // the decoder clears the lane's glyphs on the RESET tile, before anything else of it
    }

    /** The JPEG quality of the tiles encoded from now on (the config's until set). */
    public float jpegQuality() { return jpegQuality; }

    /**
     * Sets the JPEG quality of the tiles encoded from now on (a {@link FrameEncoder} follows the stream's lag).
     *
     * @throws IllegalArgumentException outside 0.05..1.0
     */
    public void jpegQuality(float quality) {
        if (!(quality >= 0.05f && quality <= 1.0f)) throw new IllegalArgumentException("JPEG quality must be 0.05..1.0: " + quality);
        if (quality == jpegQuality) return;
        jpegQuality = quality;
        turboQuality = turboQuality(quality);
        if (jpegParam != null) jpegParam.setCompressionQuality(quality);
    }

    private static int turboQuality(float quality) {
        return Math.clamp(Math.round(quality * 100), 1, 100);
    }

    /**
     * Whether this encoder's lossy tiles are WEBP (tile format 7) from now on instead of JPEG: only for a client that said
     * it decodes them (CLIENT_CAPABILITIES). Without libwebp ({@link WebpEncoder#available()}) they stay JPEG.
     */
    public void webp(boolean on) { webp = on && webpLibrary.available(); }

    /** Whether lossy tiles are WEBP now. */
    public boolean webp() { return webp; }

    /** With {@code library} as libwebp (tests pass one that failed to load); lossy tiles are JPEG until {@link #webp(boolean)}. */
    void webpLibrary(WebpEncoder library) {
        webpLibrary = library;
        webp = webp && library.available();
    }

    /**
     * libwebp's method of WEBP tiles from now on, 0 (fastest) to 6 (most compact); {@link #DEFAULT_WEBP_METHOD} until
     * set (the bench compares them).
     *
     * @throws IllegalArgumentException outside 0..6
     */
    public void webpMethod(int method) {
        if (method < WebpEncoder.MIN_METHOD || method > WebpEncoder.MAX_METHOD) throw new IllegalArgumentException("WebP method must be 0..6: " + method);
        webpMethod = method;
    }

    /** libwebp's method of WEBP tiles now. */
    public int webpMethod() { return webpMethod; }

    /** libwebp's tuning of WEBP tiles from now on; {@link WebpEncoder.Tuning#TILES} until set (the bench compares them). */
    public void webpTuning(WebpEncoder.Tuning tuning) { webpTuning = java.util.Objects.requireNonNull(tuning, "tuning"); }

    /** libwebp's tuning of WEBP tiles now. */
    public WebpEncoder.Tuning webpTuning() { return webpTuning; }

    /** The library this encoder's JPEG tiles come from now: {@link JpegLibrary#TURBO} or {@link JpegLibrary#JDK}. */
    public JpegLibrary jpegLibrary() { return turboLibrary != null ? JpegLibrary.TURBO : JpegLibrary.JDK; }

    /** Encodes the rectangle in the format its content calls for. */
    public Tile encode(int[] pixels, int stride, int x, int y, int w, int h) {
        Kind kind = classify(pixels, stride, x, y, w, h);
        return encode(kind, pixels, stride, x, y, w, h);
    }

    /** Encodes the rectangle as {@code kind} (as returned by {@link #classify}). */
    public Tile encode(Kind kind, int[] pixels, int stride, int x, int y, int w, int h) {
        checkBounds(pixels, stride, x, y, w, h);
        return switch (kind) {
            case FILL -> fill(pixels[y * stride + x], x, y, w, h);
            case PHOTO, MIXED -> config.allowLossy() ? lossy(pixels, stride, x, y, w, h) : rgbExact(pixels, stride, x, y, w, h);
            case LOSSLESS -> {
                if (lane >= 0 && !config.allowLossy()) yield streamLossless(pixels, stride, x, y, w, h);
                // With a stream, the size test uses a tile of its own, which leaves the stream as it was.
                Tile lossless = paletteOrZlib(pixels, stride, x, y, w, h);
                if (config.allowLossy() && lossless.data().length > config.lossyRatio() * w * h * 3) {
                    Tile lossy = lossy(pixels, stride, x, y, w, h);
                    if (lossy.data().length < lossless.data().length) yield lossy;
                }
                yield lane >= 0 ? streamLossless(pixels, stride, x, y, w, h) : lossless;
            }
        };
    }

    /**
     * Encodes the rectangle of {@code kind} (as returned by {@link #classify}) pixel-exact, whatever the config allows:
     * FILL, PALETTE or ZLIB_RGB, never JPEG.
     */
    public Tile encodeExact(Kind kind, int[] pixels, int stride, int x, int y, int w, int h) {
        checkBounds(pixels, stride, x, y, w, h);
        return switch (kind) {
            case FILL -> fill(pixels[y * stride + x], x, y, w, h);
            case LOSSLESS -> lane >= 0 ? streamLossless(pixels, stride, x, y, w, h) : paletteOrZlib(pixels, stride, x, y, w, h);
            case PHOTO, MIXED -> rgbExact(pixels, stride, x, y, w, h);
        };
    }

    /** Many colours pixel-exact: ZSTREAM RGB with a lane, else ZLIB_RGB. */
    private Tile rgbExact(int[] pixels, int stride, int x, int y, int w, int h) {
        if (lane < 0) return zlib(pixels, stride, x, y, w, h);
        int n = w * h * 3;
        packRgb(pixels, stride, x, y, w, h);
        return streamTile(x, y, w, h, ZstreamTile.MODE_RGB, rgb, n);
    }

    /** A ZSTREAM tile of the rectangle: indexed when it has 2 to {@link EncoderConfig#paletteMaxColours()} colours, else RGB. */
    private Tile streamLossless(int[] pixels, int stride, int x, int y, int w, int h) {
        int count = packIndexes(pixels, stride, x, y, w, h);
        if (count < 2) return rgbExact(pixels, stride, x, y, w, h);
        int n = PaletteTile.rowBytes(w, PaletteTile.bitsPerIndex(count)) * h;
        int total = 3 * count + n;
        if (streamInput.length < total) streamInput = new byte[Math.max(total, streamInput.length * 2)];
        for (int i = 0, o = 0; i < count; i++, o += 3) {
            int c = palette[i];
            streamInput[o] = (byte) (c >> 16);
            streamInput[o + 1] = (byte) (c >> 8);
            streamInput[o + 2] = (byte) c;
        }
        System.arraycopy(packed, 0, streamInput, 3 * count, n);
        return streamTile(x, y, w, h, count - 1, streamInput, total);
    }

    /** Deflates {@code input[0, n)} into the lane's stream, sync-flushed, as one ZSTREAM tile. */
    private Tile streamTile(int x, int y, int w, int h, int mode, byte[] input, int n) {
        // Indexed pixels (text, UI) at level 9; RGB (photos sent pixel-exact) at the config's level, whose CPU level 9
        // would multiply for little gain. A change of level takes effect within the stream (zlib's deflateParams).
        int level = mode == ZstreamTile.MODE_RGB ? config.zlibLevel() : STREAM_LEVEL;
        boolean reset = streamReset;
        int length = deflateChunk(input, n, level);
        return new Tile(x, y, w, h, Tile.FORMAT_ZSTREAM, ZstreamTile.data(ZstreamTile.flags(lane, reset), mode, deflated, length));
    }

    /** Deflates {@code input[0, n)} into the lane's stream at {@code level}, sync-flushed, into {@link #deflated}; returns its length. */
    private int deflateChunk(byte[] input, int n, int level) {
        boolean reset = streamReset;
        if (reset) stream.reset();
        streamReset = false;
        int length = 0;
        if (level != streamLevel) {
            // The deflater applies a new level on its next call, ending the block it is in; that call gets no input,
            // so the tile's own input is all deflated, and sync-flushed, by the calls below.
            stream.setLevel(level);
            streamLevel = level;
            stream.setInput(input, 0, 0);
            while (true) {
                if (length == deflated.length) deflated = Arrays.copyOf(deflated, deflated.length * 2);
                int space = deflated.length - length;
                int written = stream.deflate(deflated, length, space, Deflater.NO_FLUSH);
                length += written;
                if (written < space) break;
            }
        }
        stream.setInput(input, 0, n);
        while (true) {
            if (length == deflated.length) deflated = Arrays.copyOf(deflated, deflated.length * 2);
            int space = deflated.length - length;
            int written = stream.deflate(deflated, length, space, Deflater.SYNC_FLUSH);
            length += written;
            if (written < space && stream.needsInput()) break;
        }
        return length;
    }

    /**
     * A GLYPHS tile of the rectangle cut into cells of {@code cw x ch} ({@code w}, {@code h} multiples of them), every
     * pixel {@code bg} or {@code fg}; empty (and nothing changed) when a pixel is of another colour, the encoder has no
     * lane, or more than {@code maxNewFraction} of the cells would add a glyph (not text: ZSTREAM suits it better).
     */
    public Optional<Tile> glyphs(int[] pixels, int stride, int x, int y, int w, int h, int cw, int ch, int bg, int fg, double maxNewFraction) {
        checkBounds(pixels, stride, x, y, w, h);
        if (lane < 0 || cw < 1 || cw > GlyphTile.MAX_CELL_WIDTH || ch < 1 || ch > GlyphTile.MAX_CELL_HEIGHT || w % cw != 0 || h % ch != 0) {
            return Optional.empty();
        }
        int columns = w / cw, rows = h / ch, cells = columns * rows;
        int shape = cw << 8 | ch;
        int rowBytes = (cw + 7) / 8;
        GlyphCache.Glyph[] glyph = new GlyphCache.Glyph[cells];
        int[] slot = new int[cells];
        Map<GlyphCache.Glyph, Integer> fresh = new LinkedHashMap<>();
        for (int r = 0, i = 0; r < rows; r++) {
            for (int c = 0; c < columns; c++, i++) {
                byte[] mask = new byte[ch * rowBytes];
                int base = (y + r * ch) * stride + x + c * cw;
                for (int yy = 0; yy < ch; yy++, base += stride) {
                    for (int xx = 0; xx < cw; xx++) {
                        int p = pixels[base + xx] & 0xffffff;
                        if (p == fg) mask[yy * rowBytes + (xx >> 3)] |= (byte) (0x80 >>> (xx & 7));
                        else if (p != bg) return Optional.empty();
                    }
                }
                glyph[i] = GlyphCache.Glyph.of(shape, mask);
                slot[i] = glyphCache.slot(glyph[i]);
                if (slot[i] < 0) fresh.putIfAbsent(glyph[i], fresh.size());
            }
        }
        // New glyphs overwrite the slots from next() on; a cached glyph in one of those is sent again as new.
        while (true) {
            if (fresh.size() > maxNewFraction * cells || fresh.size() > GlyphTile.SLOTS / 2) return Optional.empty();
            int first = glyphCache.next(), added = 0;
            for (int i = 0; i < cells; i++) {
                if (slot[i] >= 0 && Math.floorMod(slot[i] - first, GlyphTile.SLOTS) < fresh.size() && !fresh.containsKey(glyph[i])) {
                    fresh.put(glyph[i], fresh.size());
                    added++;
                }
            }
            if (added == 0) break;
        }
        int maskBytes = GlyphTile.maskBytes(cw, ch);
        int newCount = fresh.size();
        Map<GlyphCache.Glyph, Integer> newSlot = new HashMap<>();
        for (GlyphCache.Glyph g : fresh.keySet()) newSlot.put(g, glyphCache.add(g));
        int maxSlot = 0;
        for (int i = 0; i < cells; i++) {
            Integer s = newSlot.get(glyph[i]);
            if (s != null) slot[i] = s;
            maxSlot = Math.max(maxSlot, slot[i]);
        }
        int refBytes = maxSlot < 256 ? 1 : 2;
        int total = GlyphTile.COLOURS_BYTES + newCount * maskBytes + cells * refBytes;
        if (streamInput.length < total) streamInput = new byte[Math.max(total, streamInput.length * 2)];
        byte[] in = streamInput;
        in[0] = (byte) (bg >> 16); in[1] = (byte) (bg >> 8); in[2] = (byte) bg;
        in[3] = (byte) (fg >> 16); in[4] = (byte) (fg >> 8); in[5] = (byte) fg;
        int o = GlyphTile.COLOURS_BYTES;
        for (GlyphCache.Glyph g : fresh.keySet()) {
            System.arraycopy(g.mask(), 0, in, o, maskBytes);
            o += maskBytes;
        }
        for (int i = 0; i < cells; i++) {
            if (refBytes == 2) in[o++] = (byte) (slot[i] >> 8);
            in[o++] = (byte) slot[i];
        }
        boolean reset = streamReset;
        int length = deflateChunk(in, total, GLYPH_LEVEL);
        return Optional.of(new Tile(x, y, w, h, Tile.FORMAT_GLYPHS,
                GlyphTile.data(ZstreamTile.flags(lane, reset), cw, ch, refBytes, newCount, deflated, length)));
    }

    /**
     * Looks at the rectangle: FILL if every pixel is one colour, PHOTO if it has more than
     * {@link EncoderConfig#photoDistinctColours()} distinct colours, MIXED if it has that many and also at least
     * 1/{@value #MIXED_FLAT_FRACTION} of its pixels flat (in runs of three along a row or a column), LOSSLESS
     * otherwise.
     */
    public Kind classify(int[] pixels, int stride, int x, int y, int w, int h) {
        checkBounds(pixels, stride, x, y, w, h);
        int first = pixels[y * stride + x] & 0xffffff;
        int limit = config.photoDistinctColours();
        int distinct = 0;
        boolean uniform = true;
        if (++stamp == 0) { // wrapped: old stamps could collide with the new one
            Arrays.fill(colourStamps, 0);
            stamp = 1;
        }
        classified = null;
        boolean photo = false;
        // The two colours inserted last: text and UI alternate between two colours at nearly every edge, and a colour
        // already in the table needs no lookup (it was counted, and made the rectangle not uniform, when it was inserted).
        int recent0 = -1, recent1 = -1;
        // The colours, in order of first appearance (as packIndexes finds them), until the rectangle is a photo; the
        // flat pixels are counted only for a photo, in a pass of their own (countFlat): they decide only MIXED.
        scan:
        for (int row = y, end = y + h; row < end; row++) {
            int last = -1;
            for (int i = row * stride + x, rowEnd = i + w; i < rowEnd; i++) {
                int c = pixels[i] & 0xffffff;
                if (c == last) continue; // runs are common in UI content; skip the hash lookup
                last = c;
                if (c == recent0 || c == recent1) continue;
                recent1 = recent0;
                recent0 = c;
                if (c != first) uniform = false;
                int slot = insertColour(c);
                if (slot < 0) continue;
                if (++distinct > limit) {
                    photo = true;
                    break scan;
                }
                if (distinct <= palette.length) {
                    palette[distinct - 1] = c;
                    colourIndexes[slot] = distinct - 1;
                }
            }
        }
        if (photo) return countFlat(pixels, stride, x, y, w, h) ? Kind.MIXED : Kind.PHOTO;
        if (distinct <= palette.length) {
            // packIndexes of this same rectangle, next, finds the palette and the colour table filled in already.
            classified = pixels;
            classifiedStride = stride;
            classifiedX = x;
            classifiedY = y;
            classifiedW = w;
            classifiedH = h;
            classifiedColours = distinct;
            classifiedStamp = stamp;
        }
        return uniform ? Kind.FILL : Kind.LOSSLESS;
    }

    /**
     * Whether at least 1/{@value #MIXED_FLAT_FRACTION} of the rectangle's pixels are flat: the third or later of a run of
     * one colour along a row, or below two pixels of its colour.
     */
    private static boolean countFlat(int[] pixels, int stride, int x, int y, int w, int h) {
        long needed = ((long) w * h + MIXED_FLAT_FRACTION - 1) / MIXED_FLAT_FRACTION;
        long flat = 0;
        for (int row = y, end = y + h; row < end; row++) {
            int base = row * stride;
            int last = -1;
            int run = 0;
            boolean above = row >= y + 2;
            for (int i = base + x, rowEnd = base + x + w; i < rowEnd; i++) {
                int c = pixels[i] & 0xffffff;
                if (c == last) {
                    if (++run >= 2 || above && flatAbove(pixels, i, stride, c)) flat++;
                    continue;
                }
                run = 0;
                if (above && flatAbove(pixels, i, stride, c)) flat++;
                last = c;
            }
            if (flat >= needed) return true; // flat only grows
        }
        return flat >= needed;
    }

    /** Whether the two pixels above pixel {@code i} are its colour (a vertical edge, a border). */
    private static boolean flatAbove(int[] pixels, int i, int stride, int c) {
        return (pixels[i - stride] & 0xffffff) == c && (pixels[i - 2 * stride] & 0xffffff) == c;
    }

    /** Adds a colour to this rectangle's colour table; its slot if it was not there yet, else -1. */
    private int insertColour(int c) {
        int mask = COLOUR_TABLE_SIZE - 1;
        int slot = (c * 0x9E3779B1 >>> 21) & mask;
        while (colourStamps[slot] == stamp) {
            if (colourKeys[slot] == c) return -1;
            slot = (slot + 1) & mask;
        }
        colourStamps[slot] = stamp;
        colourKeys[slot] = c;
        return slot;
    }

    /**
     * PALETTE when the rectangle has 2 to {@link EncoderConfig#paletteMaxColours()} colours (for more than 16,
     * only when smaller than ZLIB_RGB: up to 16 colours pack at most 4 bits a pixel, a sixth of the RGB bytes,
     * so the second deflate is not worth its CPU), ZLIB_RGB otherwise.
     */
    private Tile paletteOrZlib(int[] pixels, int stride, int x, int y, int w, int h) {
        Optional<Tile> indexed = palette(pixels, stride, x, y, w, h);
        if (indexed.isEmpty()) return zlib(pixels, stride, x, y, w, h);
        Tile p = indexed.get();
        if ((p.data()[PaletteTile.COUNT_OFFSET] & 0xff) + 1 <= 16) return p;
        Tile z = zlib(pixels, stride, x, y, w, h);
        return z.data().length < p.data().length ? z : p;
    }

    /**
     * A PALETTE tile ({@link PaletteTile}) of the rectangle, or empty when it has fewer than 2 or more than
     * {@link EncoderConfig#paletteMaxColours()} colours (or palette tiles are off).
     */
    public Optional<Tile> palette(int[] pixels, int stride, int x, int y, int w, int h) {
        checkBounds(pixels, stride, x, y, w, h);
        int count = packIndexes(pixels, stride, x, y, w, h);
        if (count < 2) return Optional.empty();
        int length = deflate(packed, PaletteTile.rowBytes(w, PaletteTile.bitsPerIndex(count)) * h);
        return Optional.of(new Tile(x, y, w, h, Tile.FORMAT_PALETTE, PaletteTile.data(palette, count, deflated, length)));
    }

    /**
     * Fills {@link #palette} with the rectangle's colours (in order of first appearance) and {@link #packed} with its
     * packed indexes; returns the count, or 0 when it has fewer than 2 or more than
     * {@link EncoderConfig#paletteMaxColours()} colours (or palette tiles are off).
     */
    private int packIndexes(int[] pixels, int stride, int x, int y, int w, int h) {
        int max = config.paletteMaxColours();
        if (max < 2) return 0;
        int count = 0;
        if (classified == pixels && classifiedStamp == stamp && classifiedX == x && classifiedY == y && classifiedW == w
                && classifiedH == h && classifiedStride == stride) {
            // classify just looked at this rectangle: the palette and the colour table's indexes are its.
            count = classifiedColours;
            if (count > max) return 0;
        } else {
            count = paletteOf(pixels, stride, x, y, w, h, max);
            if (count == 0) return 0;
        }
        classified = null;
        if (count < 2) return 0;
        return packWith(pixels, stride, x, y, w, h, count);
    }

    /**
     * The rectangle's colours in {@link #palette}, in order of first appearance, each with its index in the colour
     * table (a new stamp); their count, or 0 when there are more than {@code max}.
     */
    private int paletteOf(int[] pixels, int stride, int x, int y, int w, int h, int max) {
        if (++stamp == 0) {
            Arrays.fill(colourStamps, 0);
            stamp = 1;
        }
        // The two colours met last are in the palette already (text alternates between two colours): no lookup for them.
        int count = 0;
        int recent0 = -1, recent1 = -1;
        for (int row = y, end = y + h; row < end; row++) {
            int last = -1;
            for (int i = row * stride + x, rowEnd = i + w; i < rowEnd; i++) {
                int c = pixels[i] & 0xffffff;
                if (c == last) continue;
                last = c;
                if (c == recent0 || c == recent1) continue;
                recent1 = recent0;
                recent0 = c;
                int slot = slotOf(c);
                if (colourStamps[slot] != stamp) {
                    if (count == max) return 0;
                    colourStamps[slot] = stamp;
                    colourKeys[slot] = c;
                    colourIndexes[slot] = count;
                    palette[count++] = c;
                }
            }
        }
        return count;
    }

    /** The second half of packIndexes: the rectangle's packed indexes, its {@code count} colours in the palette and table. */
    private int packWith(int[] pixels, int stride, int x, int y, int w, int h, int count) {
        int bits = PaletteTile.bitsPerIndex(count);
        int rowBytes = PaletteTile.rowBytes(w, bits);
        int n = rowBytes * h;
        if (packed.length < n) packed = new byte[n];
        // Second pass: each row's indexes, most significant bits first, one byte written when full (or at the row's
        // end). The index of the colour before the current one is kept too: no lookup while text alternates.
        int shift0 = 8 - bits;
        int colourA = -1, indexA = 0, colourB = -1, indexB = 0;
        for (int row = 0; row < h; row++) {
            int o = row * rowBytes;
            int acc = 0;
            int shift = shift0;
            for (int i = (y + row) * stride + x, rowEnd = i + w; i < rowEnd; i++) {
                int c = pixels[i] & 0xffffff;
                if (c != colourA) {
                    if (c == colourB) {
                        colourB = colourA;
                        colourA = c;
                        int t = indexA;
                        indexA = indexB;
                        indexB = t;
                    } else {
                        colourB = colourA;
                        indexB = indexA;
                        colourA = c;
                        indexA = colourIndexes[slotOf(c)];
                    }
                }
                acc |= indexA << shift;
                shift -= bits;
                if (shift < 0) {
                    packed[o++] = (byte) acc;
                    acc = 0;
                    shift = shift0;
                }
            }
            if (shift != shift0) packed[o] = (byte) acc;
        }
        return count;
    }

    /** The slot of a colour already in this rectangle's colour table (the current stamp). */
    private int slotOf(int c) {
        int mask = COLOUR_TABLE_SIZE - 1;
        int slot = (c * 0x9E3779B1 >>> 21) & mask;
        while (colourStamps[slot] == stamp && colourKeys[slot] != c) slot = (slot + 1) & mask;
        return slot;
    }

    /** Deflates {@code input[0, n)} into {@link #deflated}; returns its length. */
    private int deflate(byte[] input, int n) {
        deflater.reset();
        deflater.setInput(input, 0, n);
        deflater.finish();
        int length = 0;
        while (!deflater.finished()) {
            if (length == deflated.length) deflated = Arrays.copyOf(deflated, deflated.length * 2);
            length += deflater.deflate(deflated, length, deflated.length - length);
        }
        return length;
    }

    /** A FILL tile of one {@code 0x00RRGGBB} colour. */
    public static Tile fill(int colour, int x, int y, int w, int h) {
        byte[] data = {(byte) (colour >> 16), (byte) (colour >> 8), (byte) colour};
        return new Tile(x, y, w, h, Tile.FORMAT_FILL, data);
    }

    /** A ZLIB_RGB tile: a zlib stream (RFC 1950) of w*h*3 bytes, R G B per pixel, rows top to bottom. */
    public Tile zlib(int[] pixels, int stride, int x, int y, int w, int h) {
        checkBounds(pixels, stride, x, y, w, h);
        int n = w * h * 3;
        packRgb(pixels, stride, x, y, w, h);
        int length = deflate(rgb, n);
        return new Tile(x, y, w, h, Tile.FORMAT_ZLIB_RGB, Arrays.copyOf(deflated, length));
    }

    /** The rectangle's pixels as R G B bytes in {@link #rgb}. */
    private void packRgb(int[] pixels, int stride, int x, int y, int w, int h) {
        int n = w * h * 3;
        if (rgb.length < n) rgb = new byte[n];
        int o = 0;
        for (int row = y, end = y + h; row < end; row++) {
            for (int i = row * stride + x, rowEnd = i + w; i < rowEnd; i++) {
                int c = pixels[i];
                rgb[o] = (byte) (c >> 16);
                rgb[o + 1] = (byte) (c >> 8);
                rgb[o + 2] = (byte) c;
                o += 3;
            }
        }
    }

    /**
     * A lossy tile of exactly w*h pixels at the current quality: WEBP when {@link #webp()} (and libwebp does not fail),
     * else JPEG.
     */
    public Tile lossy(int[] pixels, int stride, int x, int y, int w, int h) {
        if (webp) {
            checkBounds(pixels, stride, x, y, w, h);
            if ((long) w * h <= WebpEncoder.MAX_PIXELS && w <= WebpEncoder.MAX_SIDE && h <= WebpEncoder.MAX_SIDE) {
                try {
                    return new Tile(x, y, w, h, Tile.FORMAT_WEBP, webpLibrary.encode(pixels, stride, x, y, w, h, turboQuality, webpMethod, webpTuning));
                } catch (IllegalStateException e) {
                    log.warn("libwebp failed, this encoder sends JPEG from now on: {}", e.toString());
                    webp = false;
                }
            }
        }
        return jpeg(pixels, stride, x, y, w, h);
    }

    /** A JPEG tile of exactly w*h pixels at the configured quality. */
    public Tile jpeg(int[] pixels, int stride, int x, int y, int w, int h) {
        checkBounds(pixels, stride, x, y, w, h);
        if (turboLibrary != null && (long) w * h <= TurboJpeg.MAX_PIXELS) {
            try {
                if (turbo == null) turbo = turboLibrary.open();
                return new Tile(x, y, w, h, Tile.FORMAT_JPEG,
                        turbo.compress(pixels, stride, x, y, w, h, turboQuality, TurboJpeg.Subsampling.S420));
            } catch (IllegalStateException e) {
                log.warn("libjpeg-turbo failed, this encoder uses the JDK's JPEG writer from now on: {}", e.toString());
                closeTurbo();
            }
        }
        return jdkJpeg(pixels, stride, x, y, w, h);
    }

    /** A JPEG tile by the JDK's {@code javax.imageio} writer, whatever {@link #jpegLibrary()} is. */
    Tile jdkJpeg(int[] pixels, int stride, int x, int y, int w, int h) {
        checkBounds(pixels, stride, x, y, w, h);
        BufferedImage image = images.computeIfAbsent(((long) w << 32) | h, k -> new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB));
        int[] target = ((DataBufferInt) image.getRaster().getDataBuffer()).getData();
        for (int row = 0; row < h; row++) System.arraycopy(pixels, (y + row) * stride + x, target, row * w, w);
        if (jpegWriter == null) openJpegWriter();
        jpegOut.reset();
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(jpegOut)) {
            jpegWriter.setOutput(out);
            jpegWriter.write(null, new IIOImage(image, null, null), jpegParam);
        } catch (IOException e) {
            throw new UncheckedIOException("JPEG encoding to memory failed", e); // no real I/O: a JDK fault
        }
        return new Tile(x, y, w, h, Tile.FORMAT_JPEG, jpegOut.toByteArray());
    }

    private void openJpegWriter() {
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
        if (!writers.hasNext()) throw new IllegalStateException("this JDK has no JPEG ImageWriter");
        jpegWriter = writers.next();
        jpegParam = jpegWriter.getDefaultWriteParam();
        jpegParam.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        jpegParam.setCompressionQuality(jpegQuality);
    }

    private static void checkBounds(int[] pixels, int stride, int x, int y, int w, int h) {
        if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > stride || (long) (y + h) * stride > pixels.length) {
            throw new IllegalArgumentException("rectangle " + w + "x" + h + "+" + x + "+" + y
                    + " outside a framebuffer of stride " + stride + " and " + pixels.length + " pixels");
        }
        if (w > 0xffff || h > 0xffff) throw new IllegalArgumentException("tile larger than 65535: " + w + "x" + h);
    }

    private void closeTurbo() {
        TurboJpeg.Compressor c = turbo;
        turbo = null;
        turboLibrary = null;
        if (c == null) return;
        try {
            c.close();
        } catch (IllegalStateException e) {
            log.warn("libjpeg-turbo: {}", e.toString());
        }
    }

    @Override public void close() {
        closeTurbo();
        deflater.end();
        if (stream != null) stream.end();
        if (jpegWriter != null) jpegWriter.dispose();
        images.clear();
    }
}
