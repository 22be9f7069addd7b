package io.deskgate.encode;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Duration;

/**
 * How tiles are encoded.
 *
 * @param zlibLevel deflate level of lossless tiles, 1 (fastest) to 9; default 3
 * @param jpegQuality JPEG quality of photographic tiles, 0.05 to 1.0; default 0.85 (W4, 4:2:0: 38.4 dB at 0.80, 39.4 dB at
 *     0.85 for 20 % more bytes; 4:4:4 at 0.80: 38.6 dB for 12 % more bytes than 4:2:0 at 0.80)
 * @param allowLossy whether photographic tiles may be sent as JPEG; default true
 * @param photoDistinctColours a tile with more distinct colours than this is photographic; default 256
 * @param lossyRatio a lossless tile whose zlib output is larger than this fraction of its raw RGB size
 *     is re-encoded as JPEG when that is smaller; default 0.5
 * @param maxRunTiles at most this many horizontally adjacent dirty tiles of one kind are merged into one
 *     wider tile (FILL tiles of one colour merge without limit); 1 disables merging; default 4
 * @param paletteMaxColours a lossless tile of 2 to this many distinct colours is sent as a PALETTE tile (for
 *     more than 16 colours only when that is smaller than ZLIB_RGB); 0 or 1 disables palette tiles; at most
 *     256; default 256
 * @param motionDetection whether {@link FrameEncoder} looks for scrolled and moved regions and sends them as
 *     COPY_RECT ({@link MotionDetector}); default true
 * @param jpegLibrary which JPEG encoder {@link TileEncoder} uses ({@link JpegLibrary}); default {@code auto}
 * @param parallelThresholdTiles a frame with at least this many dirty tiles to encode has its rows encoded in
 *     parallel on an {@link EncoderPool} (the output is the same bytes in the same order); 0 never; default
 *     {@value #DEFAULT_PARALLEL_THRESHOLD_TILES}
 * @param lossyChanges with a change history ({@link FrameEncoder}'s time-aware calls), a photographic tile goes lossy
 *     only when it changed at least this many times within {@code lossyWindowNs} (this frame's change counted);
 *     1: on its first change; 1..16; default {@value #DEFAULT_LOSSY_CHANGES}
 * @param lossyWindowNs the window of {@code lossyChanges}; default 2 s (a desktop that updates a video only about once a
 *     second, as a loaded Xvnc does with ZRLE, still counts as changing often: W4 sent a whole frame exact at 1 s)
 * @param refineAfterNs a tile sent lossy is re-sent pixel-exact once it has not changed for this long; default 500 ms
 * @param refineBudgetBytes the pixel-exact re-sends of one frame stop once their bytes reach this (at least one tile a
 *     frame); default {@value #DEFAULT_REFINE_BUDGET_BYTES}
 * @param minJpegQuality the lowest JPEG quality the stream's lag may step {@code jpegQuality} down to; 0.05 to
 *     {@code jpegQuality}; default 0.5 (or {@code jpegQuality}, if lower)
 * @param lagHighNs an average lag above this steps JPEG quality down and sends fewer, larger frames; default 200 ms
 * @param lagLowNs an average lag below this steps JPEG quality back up; below {@code lagHighNs}; default 80 ms
 */
public record EncoderConfig(int zlibLevel, float jpegQuality, boolean allowLossy, int photoDistinctColours,
                            double lossyRatio, int maxRunTiles, int paletteMaxColours, boolean motionDetection,
                            JpegLibrary jpegLibrary, int parallelThresholdTiles, int lossyChanges, long lossyWindowNs,
                            long refineAfterNs, int refineBudgetBytes, float minJpegQuality, long lagHighNs, long lagLowNs) {
    /** Which JPEG encoder encodes lossy tiles; in a config file by its lower-case name. */
    public enum JpegLibrary {
        /** libjpeg-turbo ({@link TurboJpeg}) when it can be loaded, else the JDK's. */
        AUTO,
        /** libjpeg-turbo only: an encoder cannot be made without it. */
        TURBO,
        /** The JDK's {@code javax.imageio} encoder, never native code. */
        JDK;

        /**
         * The library named {@code auto}, {@code turbo} or {@code jdk} (a config file's value; never a number).
         *
         * @throws IllegalArgumentException for any other name
         */
        @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
        public static JpegLibrary of(String name) {
            for (JpegLibrary l : values()) if (l.name().toLowerCase(java.util.Locale.ROOT).equals(name)) return l;
            throw new IllegalArgumentException("jpeg-library must be auto, turbo or jdk: " + name);
        }
    }

    /** Colours are counted exactly up to this many; larger thresholds cannot be told apart. */
    public static final int MAX_COUNTED_COLOURS = 1024;
    /** Frames of fewer dirty tiles are encoded on the caller's thread (docs/benchmarks.md, "encoder (synthetic)"). */
    public static final int DEFAULT_PARALLEL_THRESHOLD_TILES = 32;
    public static final int DEFAULT_LOSSY_CHANGES = 2;
    public static final long DEFAULT_LOSSY_WINDOW_NS = 2_000_000_000L;
    /** Half of the 1 s, so that a refinement spread over a few frames still ends within 1 s of the last change. */
    public static final long DEFAULT_REFINE_AFTER_NS = 500_000_000L;
    public static final int DEFAULT_REFINE_BUDGET_BYTES = 256 * 1024;
    public static final float DEFAULT_MIN_JPEG_QUALITY = 0.5f;
    public static final long DEFAULT_LAG_HIGH_NS = 200_000_000L;
    public static final long DEFAULT_LAG_LOW_NS = 80_000_000L;

    public EncoderConfig {
        if (zlibLevel < 1 || zlibLevel > 9) throw new IllegalArgumentException("zlib-level must be 1..9: " + zlibLevel);
        if (!(jpegQuality >= 0.05f && jpegQuality <= 1.0f)) {
            throw new IllegalArgumentException("jpeg-quality must be 0.05..1.0: " + jpegQuality);
        }
        if (photoDistinctColours < 1 || photoDistinctColours >= MAX_COUNTED_COLOURS) {
            throw new IllegalArgumentException("photo-distinct-colours must be 1.." + (MAX_COUNTED_COLOURS - 1) + ": " + photoDistinctColours);
        }
        if (!(lossyRatio > 0 && lossyRatio <= 1.0)) throw new IllegalArgumentException("lossy-ratio must be in (0, 1]: " + lossyRatio);
        if (maxRunTiles < 1 || maxRunTiles > 64) throw new IllegalArgumentException("max-run-tiles must be 1..64: " + maxRunTiles);
        if (paletteMaxColours < 0 || paletteMaxColours > 256) {
            throw new IllegalArgumentException("palette-max-colours must be 0..256: " + paletteMaxColours);
        }
        if (jpegLibrary == null) throw new IllegalArgumentException("jpeg-library must be auto, turbo or jdk");
        if (parallelThresholdTiles < 0) {
            throw new IllegalArgumentException("parallel-threshold-tiles must be 0 (never) or more: " + parallelThresholdTiles);
        }
        if (lossyChanges < 1 || lossyChanges > 16) throw new IllegalArgumentException("lossy-changes must be 1..16: " + lossyChanges);
        if (lossyWindowNs <= 0) throw new IllegalArgumentException("lossy-window must be positive: " + lossyWindowNs + " ns");
        if (refineAfterNs <= 0) throw new IllegalArgumentException("refine-after must be positive: " + refineAfterNs + " ns");
        if (refineBudgetBytes < 1) throw new IllegalArgumentException("refine-budget-bytes must be at least 1: " + refineBudgetBytes);
        if (!(minJpegQuality >= 0.05f && minJpegQuality <= jpegQuality)) {
            throw new IllegalArgumentException("min-jpeg-quality must be 0.05..jpeg-quality (" + jpegQuality + "): " + minJpegQuality);
        }
        if (lagLowNs <= 0 || lagHighNs <= lagLowNs) {
            throw new IllegalArgumentException("lag-low must be positive and below lag-high: " + lagLowNs + " ns, " + lagHighNs + " ns");
        }
    }

    /** The settings before the change history and the lag's quality: every new one at its default. */
    public EncoderConfig(int zlibLevel, float jpegQuality, boolean allowLossy, int photoDistinctColours,
                         double lossyRatio, int maxRunTiles, int paletteMaxColours, boolean motionDetection,
                         JpegLibrary jpegLibrary, int parallelThresholdTiles) {
        this(zlibLevel, jpegQuality, allowLossy, photoDistinctColours, lossyRatio, maxRunTiles, paletteMaxColours, motionDetection,
                jpegLibrary, parallelThresholdTiles, DEFAULT_LOSSY_CHANGES, DEFAULT_LOSSY_WINDOW_NS, DEFAULT_REFINE_AFTER_NS,
                DEFAULT_REFINE_BUDGET_BYTES, Math.min(DEFAULT_MIN_JPEG_QUALITY, jpegQuality), DEFAULT_LAG_HIGH_NS, DEFAULT_LAG_LOW_NS);
    }

    /** The settings before the JPEG library choice and parallel encoding: {@code auto}, the threshold at its default. */
    public EncoderConfig(int zlibLevel, float jpegQuality, boolean allowLossy, int photoDistinctColours,
                         double lossyRatio, int maxRunTiles, int paletteMaxColours, boolean motionDetection) {
        this(zlibLevel, jpegQuality, allowLossy, photoDistinctColours, lossyRatio, maxRunTiles, paletteMaxColours, motionDetection,
                JpegLibrary.AUTO, DEFAULT_PARALLEL_THRESHOLD_TILES);
    }

    /** The settings before palette tiles and motion detection, with both at their defaults. */
    public EncoderConfig(int zlibLevel, float jpegQuality, boolean allowLossy, int photoDistinctColours,
                         double lossyRatio, int maxRunTiles) {
        this(zlibLevel, jpegQuality, allowLossy, photoDistinctColours, lossyRatio, maxRunTiles, 256, true);
    }

    /** Every default. */
    public static EncoderConfig defaults() {
        return builder().build();
    }

    /** A builder holding every default. */
    public static Builder builder() { return new Builder(); }

    /** A builder holding this config's values. */
    public Builder toBuilder() { return new Builder(this); }

    /**
     * Builds an {@link EncoderConfig}, validated by {@link #build()}. The methods marked {@code @JsonProperty} are the
     * keys of a config file's {@code engine.encoder} section (docs/configuration.md).
     */
    public static final class Builder {
        private int zlibLevel = 3;
        private float jpegQuality = 0.85f;
        private boolean allowLossy = true;
        private int photoDistinctColours = 256;
        private double lossyRatio = 0.5;
        private int maxRunTiles = 4;
        private int paletteMaxColours = 256;
        private boolean motionDetection = true;
        private JpegLibrary jpegLibrary = JpegLibrary.AUTO;
        private int parallelThresholdTiles = DEFAULT_PARALLEL_THRESHOLD_TILES;
        private int lossyChanges = DEFAULT_LOSSY_CHANGES;
        private long lossyWindowNs = DEFAULT_LOSSY_WINDOW_NS;
        private long refineAfterNs = DEFAULT_REFINE_AFTER_NS;
        private int refineBudgetBytes = DEFAULT_REFINE_BUDGET_BYTES;
        /** NaN: the default, {@link #DEFAULT_MIN_JPEG_QUALITY} or the JPEG quality if that is lower. */
        private float minJpegQuality = Float.NaN;
        private long lagHighNs = DEFAULT_LAG_HIGH_NS;
        private long lagLowNs = DEFAULT_LAG_LOW_NS;

        private Builder() {}

        private Builder(EncoderConfig c) {
            zlibLevel = c.zlibLevel;
            jpegQuality = c.jpegQuality;
            allowLossy = c.allowLossy;
            photoDistinctColours = c.photoDistinctColours;
            lossyRatio = c.lossyRatio;
            maxRunTiles = c.maxRunTiles;
            paletteMaxColours = c.paletteMaxColours;
            motionDetection = c.motionDetection;
            jpegLibrary = c.jpegLibrary;
            parallelThresholdTiles = c.parallelThresholdTiles;
            lossyChanges = c.lossyChanges;
            lossyWindowNs = c.lossyWindowNs;
            refineAfterNs = c.refineAfterNs;
            refineBudgetBytes = c.refineBudgetBytes;
            minJpegQuality = c.minJpegQuality == Math.min(DEFAULT_MIN_JPEG_QUALITY, c.jpegQuality) ? Float.NaN : c.minJpegQuality;
            lagHighNs = c.lagHighNs;
            lagLowNs = c.lagLowNs;
        }

        @JsonProperty public Builder zlibLevel(int level) { zlibLevel = level; return this; }

        @JsonProperty public Builder jpegQuality(float quality) { jpegQuality = quality; return this; }

        @JsonProperty public Builder allowLossy(boolean lossy) { allowLossy = lossy; return this; }

        @JsonProperty public Builder photoDistinctColours(int colours) { photoDistinctColours = colours; return this; }

        @JsonProperty public Builder lossyRatio(double ratio) { lossyRatio = ratio; return this; }

        @JsonProperty public Builder maxRunTiles(int tiles) { maxRunTiles = tiles; return this; }

        @JsonProperty public Builder paletteMaxColours(int colours) { paletteMaxColours = colours; return this; }

        @JsonProperty public Builder motionDetection(boolean detect) { motionDetection = detect; return this; }

        @JsonProperty public Builder jpegLibrary(JpegLibrary library) { jpegLibrary = library; return this; }
        @JsonProperty public Builder parallelThresholdTiles(int tiles) { parallelThresholdTiles = tiles; return this; }

        @JsonProperty public Builder lossyChanges(int changes) { lossyChanges = changes; return this; }

        public Builder lossyWindowNs(long ns) { lossyWindowNs = ns; return this; }

        @JsonProperty public Builder lossyWindow(Duration d) { return lossyWindowNs(d.toNanos()); }

        public Builder refineAfterNs(long ns) { refineAfterNs = ns; return this; }

        @JsonProperty public Builder refineAfter(Duration d) { return refineAfterNs(d.toNanos()); }

        @JsonProperty public Builder refineBudgetBytes(int bytes) { refineBudgetBytes = bytes; return this; }

        @JsonProperty public Builder minJpegQuality(float quality) { minJpegQuality = quality; return this; }

        public Builder lagHighNs(long ns) { lagHighNs = ns; return this; }

        @JsonProperty public Builder lagHigh(Duration d) { return lagHighNs(d.toNanos()); }

        public Builder lagLowNs(long ns) { lagLowNs = ns; return this; }

        @JsonProperty public Builder lagLow(Duration d) { return lagLowNs(d.toNanos()); }

        /** @throws IllegalArgumentException naming the key of a value out of range */
        public EncoderConfig build() {
            float minQuality = Float.isNaN(minJpegQuality) ? Math.min(DEFAULT_MIN_JPEG_QUALITY, jpegQuality) : minJpegQuality;
            return new EncoderConfig(zlibLevel, jpegQuality, allowLossy, photoDistinctColours, lossyRatio, maxRunTiles,
                    paletteMaxColours, motionDetection, jpegLibrary, parallelThresholdTiles, lossyChanges, lossyWindowNs,
                    refineAfterNs, refineBudgetBytes, minQuality, lagHighNs, lagLowNs);
        }
    }
}
