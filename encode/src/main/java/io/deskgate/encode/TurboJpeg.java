package io.deskgate.encode;

import static java.lang.foreign.ValueLayout.ADDRESS;
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
 * JPEG compression by libjpeg-turbo's TurboJPEG C library ({@code libturbojpeg.so.0}, Debian's
 * {@code libturbojpeg0}), called through the FFM API ({@code java.lang.foreign}). It uses the TurboJPEG 2 API
 * ({@code tjInitCompress}, {@code tjCompress2}, {@code tjGetErrorStr2}, {@code tjGetErrorCode}, {@code tjDestroy},
 * {@code tjFree}): Debian 12 ships 2.1.5, and libjpeg-turbo 3 keeps these functions as wrappers of its
 * {@code tj3} ones, so the one binding serves both.
 *
 * <p>An instance is a loaded library (its function handles); {@link #shared()} is {@code libturbojpeg.so.0},
 * loaded once. When the library cannot be loaded or lacks a function, the instance is not {@link #available()},
 * says {@link #unavailableReason() why}, and {@link #shared()} logs that once at INFO; callers then use the
 * JDK's encoder. Compression happens in a {@link Compressor}: a TurboJPEG handle with its native buffers, used by
 * one thread at a time (a TurboJPEG handle is not thread-safe); each {@link TileEncoder}, itself one per thread,
 * owns one.
 *
 * <p>The library only ever sees pixels this process produced itself (a framebuffer the RFB decoder filled), with
 * a size it checked, and writes into a buffer of the library's own worst-case size ({@code tjBufSize}) with
 * reallocation off: no untrusted bytes are parsed in native code (docs/security.md).
 */
public final class TurboJpeg {
    /** The library's file name, as the dynamic linker finds it. */
    public static final String LIBRARY = "libturbojpeg.so.0";
    /** A compressor refuses larger rectangles (its native buffers are bounded by this). */
    public static final int MAX_PIXELS = 1 << 24;

    private static final Logger log = LoggerFactory.getLogger(TurboJpeg.class);
    private static final String NO_NATIVE_ACCESS = "native access is not enabled (run java with --enable-native-access=ALL-UNNAMED): ";
    private static final int TJFLAG_NOREALLOC = 1024;
    private static final int TJERR_WARNING = 0;
    /** A {@code 0x00RRGGBB} int in native byte order: B G R X on little-endian, X R G B on big-endian. */
    private static final int PIXEL_FORMAT = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? 3 /* TJPF_BGRX */ : 5 /* TJPF_XRGB */;
    private static final ValueLayout.OfInt PIXEL = JAVA_INT.withOrder(ByteOrder.nativeOrder());

    /** Chroma subsampling, with TurboJPEG's {@code TJSAMP} numbers. */
    public enum Subsampling {
        /** No subsampling: colour at full resolution (best for coloured text and edges). */
        S444(0),
        /** Colour at half horizontal resolution. */
        S422(1),
        /** Colour at half resolution both ways (what the JDK's encoder does; smallest for photographs). */
        S420(2),
        /** Luminance only. */
        GRAY(3);

        final int code;

        Subsampling(int code) { this.code = code; }
    }

    private static final class Holder {
        static final TurboJpeg SHARED = load(LIBRARY);

        static {
            SHARED.unavailableReason().ifPresentOrElse(
                    why -> log.info("libjpeg-turbo not used, JPEG tiles are encoded by the JDK: {}", why),
                    () -> log.info("JPEG tiles are encoded by libjpeg-turbo ({})", LIBRARY));
        }
    }

    private final String reason;
    private final MethodHandle initCompress;
    private final MethodHandle compress2;
    private final MethodHandle bufSize;
    private final MethodHandle destroy;
    private final MethodHandle free;
    private final MethodHandle errorStr;
    private final MethodHandle errorCode;

    /** A library that is not available, for {@code reason}. */
    private TurboJpeg(String reason) {
        this.reason = reason;
        initCompress = compress2 = bufSize = destroy = free = errorStr = errorCode = null;
    }

    /** A loaded library: the handles in the order {@link #load} looks them up. */
    private TurboJpeg(MethodHandle[] h) {
        reason = null;
        initCompress = h[0];
        compress2 = h[1];
        bufSize = h[2];
        destroy = h[3];
        free = h[4];
        errorStr = h[5];
        errorCode = h[6];
    }

    /** {@value #LIBRARY}, loaded once per process; logs once at INFO whether it is used and, if not, why. */
    public static TurboJpeg shared() { return Holder.SHARED; }

    /** Loads the library {@code name} (package-private: tests load a name that does not exist). Never throws. */
    static TurboJpeg load(String name) {
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup(name, Arena.global());
        } catch (IllegalArgumentException e) {
            return new TurboJpeg(name + " cannot be loaded (install the Debian package libturbojpeg0): " + e.getMessage());
        } catch (IllegalCallerException e) {
            return new TurboJpeg(NO_NATIVE_ACCESS + e.getMessage());
        }
        Linker linker = Linker.nativeLinker();
        String[] names = {"tjInitCompress", "tjCompress2", "tjBufSize", "tjDestroy", "tjFree", "tjGetErrorStr2", "tjGetErrorCode"};
        FunctionDescriptor[] descriptors = {
            FunctionDescriptor.of(ADDRESS),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT),
            FunctionDescriptor.of(JAVA_INT, ADDRESS),
            FunctionDescriptor.ofVoid(ADDRESS),
            FunctionDescriptor.of(ADDRESS, ADDRESS),
            FunctionDescriptor.of(JAVA_INT, ADDRESS),
        };
        MethodHandle[] handles = new MethodHandle[names.length];
        for (int i = 0; i < names.length; i++) {
            Optional<MemorySegment> symbol = lib.find(names[i]);
            if (symbol.isEmpty()) return new TurboJpeg(name + " has no function " + names[i] + " (libjpeg-turbo 2.0 or newer is needed)");
            try {
                handles[i] = linker.downcallHandle(symbol.get(), descriptors[i]);
            } catch (IllegalCallerException e) { // native access not enabled for this module
                return new TurboJpeg(NO_NATIVE_ACCESS + e.getMessage());
            }
        }
        return new TurboJpeg(handles);
    }

    /** Whether the library was loaded with every function this class calls. */
    public boolean available() { return reason == null; }

    /** Why the library is not {@link #available()}; empty when it is. */
    public Optional<String> unavailableReason() { return Optional.ofNullable(reason); }

    /**
     * A new compressor for the calling thread.
     *
     * @throws IllegalStateException when the library is not {@link #available()} or cannot make a handle
     */
    public Compressor open() {
        if (reason != null) throw new IllegalStateException("libjpeg-turbo is not available: " + reason);
        return new Compressor();
    }

    /**
     * One TurboJPEG compression handle and its native input and output buffers (grown to the largest rectangle
     * compressed so far, at most {@link #MAX_PIXELS} pixels). Not thread-safe: one thread at a time (its memory
     * is in a shared arena so that the owner may hand it to another thread, or close it from one); {@link #close()}
     * frees the handle and the buffers.
     */
    public final class Compressor implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private final MemorySegment handle;
        private final MemorySegment outPointer = arena.allocate(ADDRESS);
        private final MemorySegment outSize = arena.allocate(JAVA_LONG);
        private MemorySegment input = MemorySegment.NULL;
        private MemorySegment output = MemorySegment.NULL;
        private boolean closed;

        private Compressor() {
            MemorySegment h;
            try {
                h = (MemorySegment) initCompress.invokeExact();
            } catch (Throwable t) {
                arena.close();
                throw new IllegalStateException("tjInitCompress failed", t);
            }
            if (h.equals(MemorySegment.NULL)) {
                String why = errorText(MemorySegment.NULL);
                arena.close();
                throw new IllegalStateException("tjInitCompress failed: " + why);
            }
            handle = h;
        }

        /**
         * A baseline JFIF JPEG of the {@code w x h} rectangle at {@code (x, y)} of {@code 0x00RRGGBB} pixels
         * (row-major, {@code stride} pixels a row; the high byte is ignored).
         *
         * @param quality 1 (smallest) to 100 (best)
         * @throws IllegalArgumentException for a rectangle outside the array, empty or over {@link #MAX_PIXELS}
         *     pixels, or a quality outside 1..100
         * @throws IllegalStateException when the library reports an error (its message), or after {@link #close()}
         */
        public byte[] compress(int[] pixels, int stride, int x, int y, int w, int h, int quality, Subsampling subsampling) {
            if (closed) throw new IllegalStateException("compressor closed");
            if (x < 0 || y < 0 || w <= 0 || h <= 0 || stride <= 0 || (long) x + w > stride || (long) (y + h) * stride > pixels.length) {
                throw new IllegalArgumentException("rectangle " + w + "x" + h + "+" + x + "+" + y
                        + " outside pixels of stride " + stride + " and length " + pixels.length);
            }
            if ((long) w * h > MAX_PIXELS) throw new IllegalArgumentException("rectangle " + w + "x" + h + " over " + MAX_PIXELS + " pixels");
            if (quality < 1 || quality > 100) throw new IllegalArgumentException("JPEG quality must be 1..100: " + quality);
            long inBytes = (long) w * h * 4;
            if (input.byteSize() < inBytes) input = arena.allocate(Math.max(inBytes, 64 * 64 * 4), 16);
            for (int row = 0; row < h; row++) {
                MemorySegment.copy(pixels, (y + row) * stride + x, input, PIXEL, (long) row * w * 4, w);
            }
            long bound = bufferSize(w, h, subsampling);
            if (output.byteSize() < bound) output = arena.allocate(bound, 16);
            outPointer.set(ADDRESS, 0, output);
            outSize.set(JAVA_LONG, 0, output.byteSize());
            int status;
            try {
                status = (int) compress2.invokeExact(handle, input, w, w * 4, h, PIXEL_FORMAT, outPointer, outSize,
                        subsampling.code, quality, TJFLAG_NOREALLOC);
            } catch (Throwable t) {
                throw new IllegalStateException("tjCompress2 failed", t);
            }
            MemorySegment written = outPointer.get(ADDRESS, 0);
            long size = outSize.get(JAVA_LONG, 0);
            if (written.address() != output.address()) { // NOREALLOC forbids it; never trust memory we did not give
                if (!written.equals(MemorySegment.NULL)) freeQuietly(written);
                output = MemorySegment.NULL;
                throw new IllegalStateException("tjCompress2 replaced the output buffer despite TJFLAG_NOREALLOC");
            }
            if (status != 0 && errorCodeOf(handle) != TJERR_WARNING) {
                throw new IllegalStateException("tjCompress2 failed: " + errorText(handle));
            }
            if (size <= 0 || size > output.byteSize()) throw new IllegalStateException("tjCompress2 returned a size of " + size);
            return output.asSlice(0, size).toArray(ValueLayout.JAVA_BYTE);
        }

        private long bufferSize(int w, int h, Subsampling subsampling) {
            long bound;
            try {
                bound = (long) bufSize.invokeExact(w, h, subsampling.code);
            } catch (Throwable t) {
                throw new IllegalStateException("tjBufSize failed", t);
            }
            // unsigned long (unsigned)-1 on error; the worst case of a 16 Mpix image is far below 2^40
            if (bound <= 0 || bound > (1L << 40)) throw new IllegalStateException("tjBufSize failed: " + errorText(MemorySegment.NULL));
            return bound;
        }

        /** Frees the handle and the buffers; later calls do nothing. */
        @Override public void close() {
            if (closed) return;
            closed = true;
            int status;
            try {
                status = (int) destroy.invokeExact(handle);
            } catch (Throwable t) {
                arena.close();
                throw new IllegalStateException("tjDestroy failed", t);
            }
            String why = status == 0 ? null : errorText(handle);
            arena.close();
            if (why != null) throw new IllegalStateException("tjDestroy failed: " + why);
        }
    }

    private int errorCodeOf(MemorySegment handle) {
        try {
            return (int) errorCode.invokeExact(handle);
        } catch (Throwable t) {
            throw new IllegalStateException("tjGetErrorCode failed", t);
        }
    }

    /** The library's last error text for {@code handle} (or the thread's, for NULL). */
    private String errorText(MemorySegment handle) {
        try {
            MemorySegment text = (MemorySegment) errorStr.invokeExact(handle);
            if (text.equals(MemorySegment.NULL)) return "(no error text)";
            return text.reinterpret(512).getString(0); // TurboJPEG's error buffers are 200 bytes, NUL-terminated
        } catch (Throwable t) {
            return "(error text unavailable: " + t + ")";
        }
    }

    private void freeQuietly(MemorySegment buffer) {
        try {
            free.invokeExact(buffer);
        } catch (Throwable ignored) {
            // already failing; the caller throws
        }
    }
}
