package io.deskgate.rfb;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The encodings an {@link RfbClient} asks the server for in SetEncodings (RFC 6143 §7.5.2), most
 * preferred first: real encodings the client decodes, pseudo-encodings it understands, and at most one
 * Tight JPEG quality level and one compression level. The client decodes only what it asked for (Raw
 * always, as RFC 6143 §7.7.1 requires) and uses an extension (ExtendedDesktopSize, ContinuousUpdates,
 * Fence) only once the server has shown, by its reply to the pseudo-encoding, that it supports it. TigerVNC's
 * (TurboVNC's) fine JPEG quality and chroma subsampling levels may be added, one of each.
 *
 * @param codes the encoding numbers in order of preference; 1..64 of them, no duplicates
 */
public record RfbEncodings(List<Integer> codes) {
    public static final int RAW = 0;
    public static final int COPY_RECT = 1;
    public static final int HEXTILE = 5;
    public static final int TIGHT = 7;
    public static final int ZRLE = 16;
    public static final int DESKTOP_SIZE = -223;
    public static final int LAST_RECT = -224;
    public static final int CURSOR = -239;
    public static final int EXTENDED_DESKTOP_SIZE = -308;
    public static final int FENCE = -312;
    public static final int CONTINUOUS_UPDATES = -313;
    /** Tight JPEG quality level 0 (-32) .. 9 (-23); without one a Tight server sends no JPEG. */
    static final int JPEG_QUALITY_0 = -32;
    /** Tight/ZRLE compression level 0 (-256) .. 9 (-247). */
    static final int COMPRESS_LEVEL_0 = -256;
    /** TurboVNC/TigerVNC fine JPEG quality 0 (-512) .. 100 (-412). */
    static final int FINE_QUALITY_0 = -512;
    /** TurboVNC/TigerVNC JPEG chroma subsampling: 1X (-768), 4X, 2X, gray, 8X, 16X (-763). */
    static final int SUBSAMPLING_1X = -768;
    public static final int SUBSAMPLING_NONE = 0;
    public static final int SUBSAMPLING_4X = 1;
    public static final int SUBSAMPLING_2X = 2;
    public static final int SUBSAMPLING_GRAY = 3;
    public static final int SUBSAMPLING_8X = 4;
    public static final int SUBSAMPLING_16X = 5;
    private static final int MAX_CODES = 64;
    private static final Set<Integer> KNOWN = Set.of(RAW, COPY_RECT, HEXTILE, TIGHT, ZRLE, DESKTOP_SIZE, LAST_RECT, CURSOR,
            EXTENDED_DESKTOP_SIZE, FENCE, CONTINUOUS_UPDATES);

    /** What the client asked for before encodings became a parameter: ZRLE, CopyRect, Raw, DesktopSize, LastRect. */
    public static final RfbEncodings DEFAULT = of(ZRLE, COPY_RECT, RAW, DESKTOP_SIZE, LAST_RECT);

    public RfbEncodings {
        codes = List.copyOf(codes);
        if (codes.isEmpty() || codes.size() > MAX_CODES) {
            throw new IllegalArgumentException("RFB encodings: 1.." + MAX_CODES + " codes, got " + codes.size());
        }
        Set<Integer> seen = new HashSet<>();
        int qualityLevels = 0;
        int compressLevels = 0;
        int fineQualityLevels = 0;
        int subsamplingLevels = 0;
        for (int code : codes) {
            if (!seen.add(code)) throw new IllegalArgumentException("RFB encodings: " + code + " appears twice");
            if (isJpegQuality(code)) {
                qualityLevels++;
            } else if (isCompressLevel(code)) {
                compressLevels++;
            } else if (code >= FINE_QUALITY_0 && code <= FINE_QUALITY_0 + 100) {
                fineQualityLevels++;
            } else if (code >= SUBSAMPLING_1X && code <= SUBSAMPLING_1X + SUBSAMPLING_16X) {
                subsamplingLevels++;
            } else if (!KNOWN.contains(code)) {
                throw new IllegalArgumentException("RFB encodings: the client cannot decode encoding " + code);
            }
        }
        if (qualityLevels > 1 || compressLevels > 1 || fineQualityLevels > 1 || subsamplingLevels > 1) {
            throw new IllegalArgumentException("RFB encodings: at most one JPEG quality level, compression level, fine quality and subsampling");
        }
    }

    public static RfbEncodings of(int... codes) {
        return new RfbEncodings(java.util.Arrays.stream(codes).boxed().toList());
    }

    /** The pseudo-encoding for Tight JPEG quality {@code level} (0 lowest .. 9 highest). */
    public static int jpegQuality(int level) {
        if (level < 0 || level > 9) throw new IllegalArgumentException("JPEG quality level " + level + " outside 0..9");
        return JPEG_QUALITY_0 + level;
    }

    /** The pseudo-encoding for compression {@code level} (0 fastest .. 9 smallest). */
    public static int compressLevel(int level) {
        if (level < 0 || level > 9) throw new IllegalArgumentException("compression level " + level + " outside 0..9");
        return COMPRESS_LEVEL_0 + level;
    }

    /** TurboVNC/TigerVNC's fine JPEG quality {@code 0..100}; it overrides {@link #jpegQuality} where the server has it. */
    public static int jpegFineQuality(int quality) {
        if (quality < 0 || quality > 100) throw new IllegalArgumentException("fine JPEG quality " + quality + " outside 0..100");
        return FINE_QUALITY_0 + quality;
    }

    /** TurboVNC/TigerVNC's JPEG chroma subsampling, one of the {@code SUBSAMPLING_} levels. */
    public static int jpegSubsampling(int level) {
        if (level < SUBSAMPLING_NONE || level > SUBSAMPLING_16X) throw new IllegalArgumentException("subsampling level " + level + " outside 0..5");
        return SUBSAMPLING_1X + level;
    }

    public boolean contains(int code) {
        return codes.contains(code);
    }

    int[] toArray() {
        return codes.stream().mapToInt(Integer::intValue).toArray();
    }

    private static boolean isJpegQuality(int code) {
        return code >= JPEG_QUALITY_0 && code <= JPEG_QUALITY_0 + 9;
    }

    private static boolean isCompressLevel(int code) {
        return code >= COMPRESS_LEVEL_0 && code <= COMPRESS_LEVEL_0 + 9;
    }
}
