package io.deskgate.encode;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteOrder;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lossy WebP compression (tile format 7, docs/protocol.md §1.1) by libwebp ({@code libwebp.so.7}, Debian's
 * {@code libwebp7}), called through the FFM API ({@code java.lang.foreign}). It uses libwebp's advanced encoding API
 * ({@code WebPConfigInitInternal}, {@code WebPPictureInitInternal}, {@code WebPPictureImportBGRX} or
 * {@code WebPPictureImportRGBX}, {@code WebPEncode} into a {@code WebPMemoryWriter}, {@code WebPPictureFree},
 * {@code WebPMemoryWriterClear}), because the simple one ({@code WebPEncodeRGB}) always uses method 4, which costs
 * several times the CPU of method 0 for a few per cent of bytes (docs/benchmarks.md, "transcode").
 *
 * <p>An instance is a loaded library (its function handles); {@link #shared()} is {@value #LIBRARY}, loaded once.
 * When the library cannot be loaded or lacks a function, the instance is not {@link #available()}, says
 * {@link #unavailableReason() why}, and {@link #shared()} logs that once at INFO; {@link TileEncoder} then sends JPEG
 * to every client, WebP-capable or not.
 *
 * <p>Thread-safe: the function handles are immutable, and each {@link #encode} call keeps its native memory (the
 * picture, the config, the writer, a copy of the pixels) in a confined arena of its own, closed before it returns;
 * what libwebp allocated inside it (the YUV planes, the output) is freed by libwebp's own functions in the same call.
 *
 * <p>The library only ever sees pixels this process produced itself (a framebuffer the RFB decoder filled), with a
 * size it checked; it parses no untrusted bytes (docs/security.md).
 */
public final class WebpEncoder {
    /** The library's file name, as the dynamic linker finds it. */
    public static final String LIBRARY = "libwebp.so.7";
    /** libwebp's {@code WEBP_MAX_DIMENSION}: a side longer than this is refused. */
    public static final int MAX_SIDE = 16383;
    /** A rectangle of more pixels is refused (the native copy of its pixels is bounded by this). */
    public static final int MAX_PIXELS = 1 << 24;
    /** The fastest method (0) to the most compact (6); libwebp's simple API uses 4. */
    public static final int MIN_METHOD = 0;
    public static final int MAX_METHOD = 6;

    private static final Logger log = LoggerFactory.getLogger(WebpEncoder.class);
    private static final String NO_NATIVE_ACCESS = "native access is not enabled (run java with --enable-native-access=ALL-UNNAMED): ";
    /** {@code WEBP_ENCODER_ABI_VERSION} of libwebp 1.2 (only its major byte is checked by the library). */
    private static final int ENCODER_ABI_VERSION = 0x020f;
    private static final int PRESET_DEFAULT = 0;
    /** {@code sizeof(WebPConfig)} is 112 bytes in libwebp 1.2 and 1.3; more is harmless. */
    private static final long CONFIG_BYTES = 256;
    /** {@code sizeof(WebPPicture)} on LP64: 256 bytes. */
    private static final long PICTURE_BYTES = 256;
    /** {@code sizeof(WebPMemoryWriter)} on LP64: 32 bytes. */
    private static final long WRITER_BYTES = 32;
    // WebPConfig fields (all int or float, from offset 0)
    private static final long CONFIG_QUALITY = 4;
    private static final long CONFIG_METHOD = 8;
    private static final long CONFIG_SEGMENTS = 24;
    private static final long CONFIG_SNS_STRENGTH = 28;
    private static final long CONFIG_FILTER_STRENGTH = 32;
    // WebPPicture fields on LP64 (use_argb at 0 stays 0: YUV input, what lossy encoding wants)
    private static final long PICTURE_WIDTH = 8;
    private static final long PICTURE_HEIGHT = 12;
    private static final long PICTURE_WRITER = 96;
    private static final long PICTURE_CUSTOM_PTR = 104;
    private static final long PICTURE_ERROR_CODE = 136;
    // WebPMemoryWriter fields
    private static final long WRITER_MEM = 0;
    private static final long WRITER_SIZE = 8;
    /** A {@code 0x00RRGGBB} int in native byte order: B G R X on little-endian, X R G B on big-endian. */
    private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfInt PIXEL = JAVA_INT.withOrder(ByteOrder.nativeOrder());

    /**
     * libwebp's settings that trade CPU for bytes besides the method ({@code WebPConfig}'s {@code segments} 1..4,
     * {@code sns_strength} 0..100 and {@code filter_strength} 0..100).
     */
    public record Tuning(int segments, int snsStrength, int filterStrength) {
        /** libwebp's default preset: 4 segments, spatial noise shaping 50, loop filter 60. */
        public static final Tuning LIBWEBP = new Tuning(4, 50, 60);
        /**
         * What {@link TileEncoder} uses: one segment and no spatial noise shaping, libwebp's loop filter kept. On 64x64
         * photo tiles at method 0 it is about 40 % faster than {@link #LIBWEBP} and both smaller and closer to the
         * source (noise shaping spends bits where the eye looks, not where the error is; several segments cost their
         * analysis on a tile too small to gain from them): docs/benchmarks.md, "WebP encoder".
         */
        public static final Tuning TILES = new Tuning(1, 0, 60);

        public Tuning {
            if (segments < 1 || segments > 4) throw new IllegalArgumentException("WebP segments must be 1..4: " + segments);
            if (snsStrength < 0 || snsStrength > 100) throw new IllegalArgumentException("WebP sns-strength must be 0..100: " + snsStrength);
            if (filterStrength < 0 || filterStrength > 100) throw new IllegalArgumentException("WebP filter-strength must be 0..100: " + filterStrength);
        }
    }

    private static final class Holder {
        static final WebpEncoder SHARED = load(LIBRARY);

        static {
            SHARED.unavailableReason().ifPresentOrElse(
                    why -> log.info("libwebp not used, lossy tiles are JPEG for every browser: {}", why),
                    () -> log.info("WebP tiles are encoded by libwebp ({}) for browsers that decode them", LIBRARY));
        }
    }

    private final String reason;
    private final MethodHandle configInit;
    private final MethodHandle pictureInit;
    private final MethodHandle importPixels;
    private final MethodHandle encode;
    private final MethodHandle pictureFree;
    private final MethodHandle writerInit;
    private final MethodHandle writerClear;
    /** The address of {@code WebPMemoryWrite}, the picture's writer. */
    private final MemorySegment memoryWrite;

    /** A library that is not available, for {@code reason}. */
    private WebpEncoder(String reason) {
        this.reason = reason;
        configInit = pictureInit = importPixels = encode = pictureFree = writerInit = writerClear = null;
        memoryWrite = MemorySegment.NULL;
    }

    /** A loaded library: the handles in the order {@link #load} looks them up. */
    private WebpEncoder(MethodHandle[] h, MemorySegment memoryWrite) {
        reason = null;
        configInit = h[0];
        pictureInit = h[1];
        importPixels = h[2];
        encode = h[3];
        pictureFree = h[4];
        writerInit = h[5];
        writerClear = h[6];
        this.memoryWrite = memoryWrite;
    }

    /** {@value #LIBRARY}, loaded once per process; logs once at INFO whether it is used and, if not, why. */
    public static WebpEncoder shared() { return Holder.SHARED; }

    /** Loads the library {@code name} (package-private: tests load a name that does not exist). Never throws. */
    static WebpEncoder load(String name) {
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup(name, Arena.global());
        } catch (IllegalArgumentException e) {
            return new WebpEncoder(name + " cannot be loaded (install the Debian package libwebp7): " + e.getMessage());
        } catch (IllegalCallerException e) {
            return new WebpEncoder(NO_NATIVE_ACCESS + e.getMessage());
        }
        Linker linker = Linker.nativeLinker();
        String[] names = {"WebPConfigInitInternal", "WebPPictureInitInternal",
            LITTLE_ENDIAN ? "WebPPictureImportBGRX" : "WebPPictureImportRGBX" /* X R G B: skip X by a 1-byte offset */,
            "WebPEncode", "WebPPictureFree", "WebPMemoryWriterInit", "WebPMemoryWriterClear"};
        FunctionDescriptor[] descriptors = {
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_FLOAT, JAVA_INT),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS),
            FunctionDescriptor.ofVoid(ADDRESS),
            FunctionDescriptor.ofVoid(ADDRESS),
            FunctionDescriptor.ofVoid(ADDRESS),
        };
        MethodHandle[] handles = new MethodHandle[names.length];
        for (int i = 0; i < names.length; i++) {
            Optional<MemorySegment> symbol = lib.find(names[i]);
            if (symbol.isEmpty()) return new WebpEncoder(name + " has no function " + names[i] + " (libwebp 1.0 or newer is needed)");
            try {
                handles[i] = linker.downcallHandle(symbol.get(), descriptors[i]);
            } catch (IllegalCallerException e) {
                return new WebpEncoder(NO_NATIVE_ACCESS + e.getMessage());
            }
        }
        Optional<MemorySegment> write = lib.find("WebPMemoryWrite");
        if (write.isEmpty()) return new WebpEncoder(name + " has no function WebPMemoryWrite");
        return new WebpEncoder(handles, write.get());
    }

    /** Whether the library was loaded with every function this class calls. */
    public boolean available() { return reason == null; }

    /** Why the library is not {@link #available()}; empty when it is. */
    public Optional<String> unavailableReason() { return Optional.ofNullable(reason); }

    /**
     * A lossy WebP (a RIFF container holding one VP8 key frame, no alpha, docs/protocol.md §1.1) of the {@code w x h}
     * rectangle at {@code (x, y)} of {@code 0x00RRGGBB} pixels (row-major, {@code stride} pixels a row; the high byte is
     * ignored).
     *
     * @param quality 0 (smallest) to 100 (best), libwebp's quality factor
     * @param method {@value #MIN_METHOD} (fastest) to {@value #MAX_METHOD} (most compact)
     * @throws IllegalArgumentException for a rectangle outside the array, empty, with a side over {@value #MAX_SIDE} or
     *     over {@link #MAX_PIXELS} pixels, or a quality or method out of range
     * @throws IllegalStateException when the library is not {@link #available()} or reports an error (its code)
     */
    public byte[] encode(int[] pixels, int stride, int x, int y, int w, int h, float quality, int method) {
        return encode(pixels, stride, x, y, w, h, quality, method, Tuning.LIBWEBP);
    }

    /** {@link #encode(int[], int, int, int, int, int, float, int)} with {@code tuning} instead of libwebp's defaults. */
    public byte[] encode(int[] pixels, int stride, int x, int y, int w, int h, float quality, int method, Tuning tuning) {
        if (reason != null) throw new IllegalStateException("libwebp is not available: " + reason);
        if (x < 0 || y < 0 || w <= 0 || h <= 0 || stride <= 0 || (long) x + w > stride || (long) (y + h) * stride > pixels.length) {
            throw new IllegalArgumentException("rectangle " + w + "x" + h + "+" + x + "+" + y
                    + " outside pixels of stride " + stride + " and length " + pixels.length);
        }
        if (w > MAX_SIDE || h > MAX_SIDE || (long) w * h > MAX_PIXELS) {
            throw new IllegalArgumentException("rectangle " + w + "x" + h + " over WebP's " + MAX_SIDE + " a side or " + MAX_PIXELS + " pixels");
        }
        if (!(quality >= 0 && quality <= 100)) throw new IllegalArgumentException("WebP quality must be 0..100: " + quality);
        if (method < MIN_METHOD || method > MAX_METHOD) throw new IllegalArgumentException("WebP method must be 0..6: " + method);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment config = arena.allocate(CONFIG_BYTES, 8);
            MemorySegment picture = arena.allocate(PICTURE_BYTES, 8);
            MemorySegment writer = arena.allocate(WRITER_BYTES, 8);
            MemorySegment input = arena.allocate((long) w * h * 4 + 4, 16); // + 4: see the big-endian import below
            for (int row = 0; row < h; row++) {
                MemorySegment.copy(pixels, (y + row) * stride + x, input, PIXEL, (long) row * w * 4, w);
            }
            if ((int) configInit.invokeExact(config, PRESET_DEFAULT, quality, ENCODER_ABI_VERSION) == 0) {
                throw new IllegalStateException("WebPConfigInit failed (libwebp's encoder ABI is not 2.x)");
            }
            config.set(JAVA_FLOAT, CONFIG_QUALITY, quality);
            config.set(JAVA_INT, CONFIG_METHOD, method);
            config.set(JAVA_INT, CONFIG_SEGMENTS, tuning.segments());
            config.set(JAVA_INT, CONFIG_SNS_STRENGTH, tuning.snsStrength());
            config.set(JAVA_INT, CONFIG_FILTER_STRENGTH, tuning.filterStrength());
            if ((int) pictureInit.invokeExact(picture, ENCODER_ABI_VERSION) == 0) {
                throw new IllegalStateException("WebPPictureInit failed (libwebp's encoder ABI is not 2.x)");
            }
            picture.set(JAVA_INT, PICTURE_WIDTH, w);
            picture.set(JAVA_INT, PICTURE_HEIGHT, h);
            writerInit.invokeExact(writer);
            try {
                // On big-endian the pixel is X R G B: R G B X starts one byte in (the last pixel's X is the spare
                // byte past the pixels, read but never a colour).
                MemorySegment pixelsIn = LITTLE_ENDIAN ? input : input.asSlice(1);
                if ((int) importPixels.invokeExact(picture, pixelsIn, w * 4) == 0) {
                    throw new IllegalStateException("WebPPictureImport failed: error " + picture.get(JAVA_INT, PICTURE_ERROR_CODE));
                }
                picture.set(ADDRESS, PICTURE_WRITER, memoryWrite);
                picture.set(ADDRESS, PICTURE_CUSTOM_PTR, writer);
                if ((int) encode.invokeExact(config, picture) == 0) {
                    throw new IllegalStateException("WebPEncode failed: error " + picture.get(JAVA_INT, PICTURE_ERROR_CODE));
                }
                long size = writer.get(JAVA_LONG, WRITER_SIZE);
                if (size <= 0 || size > Integer.MAX_VALUE - 16) throw new IllegalStateException("WebPEncode wrote " + size + " bytes");
                return writer.get(ADDRESS, WRITER_MEM).reinterpret(size).toArray(ValueLayout.JAVA_BYTE);
            } finally {
                pictureFree.invokeExact(picture);
                writerClear.invokeExact(writer);
            }
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("libwebp call failed", t);
        }
    }
}
