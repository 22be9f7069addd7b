package io.deskgate.encode;

/**
 * How tiles are encoded.
 *
 * @param zlibLevel deflate level of lossless tiles, 1 (fastest) to 9; default 3
 * @param jpegQuality JPEG quality of photographic tiles, 0.05 to 1.0; default 0.80
 * @param allowLossy whether photographic tiles may be sent as JPEG; default true
 * @param photoDistinctColours a tile with more distinct colours than this is photographic; default 256
 * @param lossyRatio a lossless tile whose zlib output is larger than this fraction of its raw RGB size
 *     is re-encoded as JPEG when that is smaller; default 0.5
 * @param maxRunTiles at most this many horizontally adjacent dirty tiles of one kind are merged into one
 *     wider tile (FILL tiles of one colour merge without limit); 1 disables merging; default 4
 */
public record EncoderConfig(int zlibLevel, float jpegQuality, boolean allowLossy, int photoDistinctColours,
                            double lossyRatio, int maxRunTiles) {
    /** Colours are counted exactly up to this many; larger thresholds cannot be told apart. */
    public static final int MAX_COUNTED_COLOURS = 1024;

    public EncoderConfig {
        if (zlibLevel < 1 || zlibLevel > 9) throw new IllegalArgumentException("zlibLevel must be 1..9: " + zlibLevel);
        if (!(jpegQuality >= 0.05f && jpegQuality <= 1.0f)) {
            throw new IllegalArgumentException("jpegQuality must be 0.05..1.0: " + jpegQuality);
        }
        if (photoDistinctColours < 1 || photoDistinctColours >= MAX_COUNTED_COLOURS) {
            throw new IllegalArgumentException("photoDistinctColours must be 1.." + (MAX_COUNTED_COLOURS - 1) + ": " + photoDistinctColours);
        }
        if (!(lossyRatio > 0 && lossyRatio <= 1.0)) throw new IllegalArgumentException("lossyRatio must be in (0, 1]: " + lossyRatio);
        if (maxRunTiles < 1 || maxRunTiles > 64) throw new IllegalArgumentException("maxRunTiles must be 1..64: " + maxRunTiles);
    }

    public static EncoderConfig defaults() {
        return new EncoderConfig(3, 0.80f, true, 256, 0.5, 4);
    }

    public EncoderConfig withJpegQuality(float quality) {
        return new EncoderConfig(zlibLevel, quality, allowLossy, photoDistinctColours, lossyRatio, maxRunTiles);
    }

    public EncoderConfig withAllowLossy(boolean lossy) {
        return new EncoderConfig(zlibLevel, jpegQuality, lossy, photoDistinctColours, lossyRatio, maxRunTiles);
    }

    public EncoderConfig withMaxRunTiles(int tiles) {
        return new EncoderConfig(zlibLevel, jpegQuality, allowLossy, photoDistinctColours, lossyRatio, tiles);
    }
}
