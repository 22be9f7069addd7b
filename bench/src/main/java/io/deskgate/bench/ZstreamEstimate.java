package io.deskgate.bench;

import io.deskgate.stream.PaletteTile;
import io.deskgate.stream.StreamMessage.Tile;
import java.util.Arrays;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * A measurement for issue 10, not a wire format: what the lossless tiles of a replay would cost if each tile's
 * payload were a chunk of one per-session deflate stream (sync-flushed at each tile's end, never reset) instead of
 * its own zlib stream. Fed every PALETTE and ZLIB_RGB tile the engine sends, in order: it inflates the tile's own
 * zlib stream back to the raw payload (for PALETTE: its palette bytes, raw, then the packed indexes; for ZLIB_RGB:
 * the RGB bytes) and deflates that into a persistent {@link Deflater} at each measured level. The estimate of a
 * tile is its chunk's length plus one byte (a reset flag a real format would carry); the tile message's header
 * is unchanged. Single-threaded; {@link #close()} frees the deflaters.
 */
final class ZstreamEstimate implements AutoCloseable {
    /** The deflate levels measured side by side. */
    static final int[] LEVELS = {3, 6, 9};

    private final Deflater[] deflaters = new Deflater[LEVELS.length];
    private final long[] chunkBytes = new long[LEVELS.length];
    private final Inflater inflater = new Inflater();
    private byte[] raw = new byte[65536];
    private byte[] out = new byte[65536];
    /** The tiles' own data bytes (what the estimate replaces). */
    private long tileDataBytes;
    private long tiles;
    private long pixels;

    ZstreamEstimate() {
        for (int i = 0; i < LEVELS.length; i++) deflaters[i] = new Deflater(LEVELS[i]);
    }

    /** Takes one tile as the engine sent it; tiles of other formats are ignored. */
    void add(Tile t) {
        int rawLength;
        if (t.format() == Tile.FORMAT_ZLIB_RGB) {
            rawLength = inflate(t.data(), 0, t.w() * t.h() * 3, 0);
        } else if (t.format() == Tile.FORMAT_PALETTE) {
            int count = (t.data()[PaletteTile.COUNT_OFFSET] & 0xff) + 1;
            int header = PaletteTile.indexOffset(count);
            int packed = PaletteTile.rowBytes(t.w(), PaletteTile.bitsPerIndex(count)) * t.h();
            ensureRaw(header + packed);
            System.arraycopy(t.data(), 0, raw, 0, header);
            rawLength = header + inflate(t.data(), header, packed, header);
        } else {
            return;
        }
        tiles++;
        pixels += (long) t.w() * t.h();
        tileDataBytes += t.data().length;
        for (int i = 0; i < LEVELS.length; i++) chunkBytes[i] += 1 + syncFlush(deflaters[i], rawLength);
    }

    /** The stream's bytes with the measured tiles' data replaced by the estimate at {@code LEVELS[level]}. */
    long streamBytes(long actualStreamBytes, int level) {
        return actualStreamBytes - tileDataBytes + chunkBytes[level];
    }

    long tiles() { return tiles; }

    /** The measured tiles' area in pixels. */
    long pixels() { return pixels; }

    /** The measured tiles' own data bytes (each its own zlib stream, as sent). */
    long tileDataBytes() { return tileDataBytes; }

    private void ensureRaw(int n) {
        if (raw.length < n) raw = Arrays.copyOf(raw, Math.max(n, raw.length * 2));
    }

    /** Inflates {@code data[offset..]}, {@code length} bytes expected, into {@link #raw} at {@code at}. */
    private int inflate(byte[] data, int offset, int length, int at) {
        ensureRaw(at + length);
        inflater.reset();
        inflater.setInput(data, offset, data.length - offset);
        int got = 0;
        try {
            while (got < length) {
                int n = inflater.inflate(raw, at + got, length - got);
                if (n == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) break;
                got += n;
            }
        } catch (DataFormatException e) {
            throw new IllegalStateException("the engine sent a tile that is not zlib: " + e.getMessage(), e);
        }
        if (got != length) throw new IllegalStateException("the engine sent a tile of " + got + " bytes, want " + length);
        return got;
    }

    /** Deflates {@code raw[0, n)} into {@code d} and sync-flushes; returns the chunk's length. */
    private int syncFlush(Deflater d, int n) {
        d.setInput(raw, 0, n);
        int total = 0;
        while (true) {
            int written = d.deflate(out, 0, out.length, Deflater.SYNC_FLUSH);
            total += written;
            if (written < out.length && d.needsInput()) return total;
        }
    }

    @Override public void close() {
        for (Deflater d : deflaters) d.end();
        inflater.end();
    }
}
