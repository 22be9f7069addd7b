package io.deskgate.stream;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.deskgate.common.ProtocolException;
import io.deskgate.stream.StreamMessage.Tile;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * The WEBP tile format (7, docs/protocol.md §1.1): a lossy WebP of exactly w×h in its simple file format, a RIFF
 * container holding one {@code VP8 } chunk with one key frame and nothing else (no VP8X, alpha, lossless VP8L,
 * animation or metadata). {@link #check} reads the container and the VP8 frame header in Java and refuses anything
 * else before a byte reaches native code; {@link Decoder} then decodes the pixels with libwebp
 * ({@value Decoder#LIBRARY}, Debian's {@code libwebp7}) through the FFM API. The engine never decodes WebP: this is for
 * tests and the bench's PSNR, as the browser is the format's only real decoder.
 */
public final class WebpTile {
    /** Offsets and sizes of the simple file format (RIFF, little-endian sizes). */
    public static final int RIFF_SIZE_OFFSET = 4;
    public static final int FORM_OFFSET = 8;
    public static final int CHUNK_FOURCC_OFFSET = 12;
    public static final int CHUNK_SIZE_OFFSET = 16;
    public static final int VP8_OFFSET = 20;
    /** The VP8 key frame's header: a 3-byte frame tag, the start code 9d 01 2a, then width and height (u16 LE each). */
    public static final int VP8_HEADER_BYTES = 10;
    /** A decoder refuses a tile of more pixels (its output is sized from the tile's w and h). */
    public static final int MAX_PIXELS = 1 << 24;

    private WebpTile() {}

    /**
     * Checks that {@code t} is a WEBP tile inside a {@code frameWidth x frameHeight} desktop whose data is one lossy VP8
     * key frame of exactly its w×h in a RIFF container and nothing more.
     *
     * @throws ProtocolException saying what is wrong
     */
    public static void check(Tile t, int frameWidth, int frameHeight) {
        if (t.format() != Tile.FORMAT_WEBP) throw new IllegalArgumentException("not a WEBP tile: " + t);
        if (t.w() == 0 || t.h() == 0 || (long) t.x() + t.w() > frameWidth || (long) t.y() + t.h() > frameHeight) {
            throw new ProtocolException("WEBP tile " + t.w() + "x" + t.h() + " at " + t.x() + "," + t.y()
                    + " is empty or outside the " + frameWidth + "x" + frameHeight + " desktop");
        }
        if ((long) t.w() * t.h() > MAX_PIXELS) throw new ProtocolException("WEBP tile " + t.w() + "x" + t.h() + " over " + MAX_PIXELS + " pixels");
        byte[] d = t.data();
        if (d.length < VP8_OFFSET + VP8_HEADER_BYTES) throw new ProtocolException("WEBP tile of " + d.length + " bytes is too short");
        if (!fourcc(d, 0, "RIFF") || !fourcc(d, FORM_OFFSET, "WEBP")) throw new ProtocolException("WEBP tile is not a RIFF WEBP container");
        long riff = le32(d, RIFF_SIZE_OFFSET);
        if (riff != d.length - 8L) throw new ProtocolException("WEBP tile's RIFF size " + riff + " is not its " + (d.length - 8) + " bytes");
        if (!fourcc(d, CHUNK_FOURCC_OFFSET, "VP8 ")) {
            throw new ProtocolException("WEBP tile's chunk is not lossy VP8 (VP8L, VP8X, alpha and animation are refused)");
        }
        long chunk = le32(d, CHUNK_SIZE_OFFSET);
        if (chunk < VP8_HEADER_BYTES || VP8_OFFSET + chunk + (chunk & 1) != d.length) {
            throw new ProtocolException("WEBP tile's VP8 chunk of " + chunk + " bytes does not end the " + d.length + "-byte container");
        }
        int tag = (d[VP8_OFFSET] & 0xff) | (d[VP8_OFFSET + 1] & 0xff) << 8 | (d[VP8_OFFSET + 2] & 0xff) << 16;
        if ((tag & 1) != 0) throw new ProtocolException("WEBP tile's VP8 frame is not a key frame");
        if ((tag >> 1 & 7) > 3) throw new ProtocolException("WEBP tile's VP8 version " + (tag >> 1 & 7) + " is unknown");
        if ((tag >> 4 & 1) == 0) throw new ProtocolException("WEBP tile's VP8 frame is not shown");
        if ((tag >>> 5) > chunk - VP8_HEADER_BYTES) throw new ProtocolException("WEBP tile's VP8 first partition is longer than its chunk");
        if ((d[VP8_OFFSET + 3] & 0xff) != 0x9d || (d[VP8_OFFSET + 4] & 0xff) != 0x01 || (d[VP8_OFFSET + 5] & 0xff) != 0x2a) {
            throw new ProtocolException("WEBP tile's VP8 frame has no start code");
        }
        int width = (d[VP8_OFFSET + 6] & 0xff) | (d[VP8_OFFSET + 7] & 0xff) << 8;
        int height = (d[VP8_OFFSET + 8] & 0xff) | (d[VP8_OFFSET + 9] & 0xff) << 8;
        if (width >> 14 != 0 || height >> 14 != 0) throw new ProtocolException("WEBP tile's VP8 frame asks for upscaling");
        if (width != t.w() || height != t.h()) {
            throw new ProtocolException("WEBP tile of " + t.w() + "x" + t.h() + " holds a " + width + "x" + height + " picture");
        }
    }

    private static boolean fourcc(byte[] d, int at, String code) {
        for (int i = 0; i < 4; i++) if (d[at + i] != code.charAt(i)) return false;
        return true;
    }

    private static long le32(byte[] d, int at) {
        return (d[at] & 0xffL) | (d[at + 1] & 0xffL) << 8 | (d[at + 2] & 0xffL) << 16 | (d[at + 3] & 0xffL) << 24;
    }

    /**
     * libwebp's decoder ({@code WebPDecodeRGBInto}) through FFM: a loaded library, or one that is not {@link #available()}
     * and says why. Thread-safe: each {@link #decode} keeps its native memory in a confined arena closed before it returns.
     */
    public static final class Decoder {
        public static final String LIBRARY = "libwebp.so.7";
        private static final Decoder SHARED = load(LIBRARY);

        private final String reason;
        private final MethodHandle decodeInto;

        private Decoder(String reason, MethodHandle decodeInto) {
            this.reason = reason;
            this.decodeInto = decodeInto;
        }

        /** {@value #LIBRARY}, loaded once per process. */
        public static Decoder shared() { return SHARED; }

        /** Loads the library {@code name}; never throws. */
        public static Decoder load(String name) {
            try {
                SymbolLookup lib = SymbolLookup.libraryLookup(name, Arena.global());
                Optional<MemorySegment> f = lib.find("WebPDecodeRGBInto");
                if (f.isEmpty()) return new Decoder(name + " has no function WebPDecodeRGBInto", null);
                return new Decoder(null, Linker.nativeLinker().downcallHandle(f.get(),
                        FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT)));
            } catch (IllegalArgumentException e) {
                return new Decoder(name + " cannot be loaded (install the Debian package libwebp7): " + e.getMessage(), null);
            } catch (IllegalCallerException e) {
                return new Decoder("native access is not enabled (--enable-native-access=ALL-UNNAMED): " + e.getMessage(), null);
            }
        }

        public boolean available() { return reason == null; }

        public Optional<String> unavailableReason() { return Optional.ofNullable(reason); }

        /**
         * The {@code 0x00RRGGBB} pixels (row-major) of a WEBP tile of a {@code frameWidth x frameHeight} desktop, after
         * {@link WebpTile#check}.
         *
         * @throws ProtocolException for a tile {@link WebpTile#check} refuses or libwebp cannot decode
         * @throws IllegalStateException when the library is not {@link #available()}
         */
        public int[] decode(Tile t, int frameWidth, int frameHeight) {
            check(t, frameWidth, frameHeight);
            if (reason != null) throw new IllegalStateException("libwebp is not available: " + reason);
            int w = t.w(), h = t.h();
            long outBytes = (long) w * h * 3;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment in = arena.allocate(t.data().length);
                MemorySegment.copy(t.data(), 0, in, ValueLayout.JAVA_BYTE, 0, t.data().length);
                MemorySegment out = arena.allocate(outBytes);
                MemorySegment result;
                try {
                    result = (MemorySegment) decodeInto.invokeExact(in, (long) t.data().length, out, outBytes, w * 3);
                } catch (Throwable e) {
                    throw new IllegalStateException("WebPDecodeRGBInto failed", e);
                }
                if (result.equals(MemorySegment.NULL)) throw new ProtocolException("WEBP tile's VP8 data cannot be decoded");
                byte[] rgb = out.toArray(ValueLayout.JAVA_BYTE);
                int[] pixels = new int[w * h];
                for (int i = 0, j = 0; i < pixels.length; i++, j += 3) {
                    pixels[i] = (rgb[j] & 0xff) << 16 | (rgb[j + 1] & 0xff) << 8 | rgb[j + 2] & 0xff;
                }
                return pixels;
            }
        }
    }
}
