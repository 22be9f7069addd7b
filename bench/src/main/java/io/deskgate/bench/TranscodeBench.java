package io.deskgate.bench;

import io.deskgate.bench.workload.Workload;
import io.deskgate.bench.workload.Workload.Twin;
import io.deskgate.bench.workload.Workloads;
import io.deskgate.encode.EncoderConfig;
import io.deskgate.engine.Desktop;
import io.deskgate.engine.InstanceCore;
import io.deskgate.engine.InstanceLimits;
import io.deskgate.engine.LagObserver;
import io.deskgate.rfb.RfbClient;
import io.deskgate.rfb.RfbListener;
import io.deskgate.stream.StreamCodec;
import io.deskgate.encode.TileEncoder;
import io.deskgate.encode.WebpEncoder;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.ClientCapabilities;
import io.deskgate.stream.StreamMessage.FrameAck;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.WebpTile;
import io.deskgate.testkit.TimedRecording;
import io.deskgate.testkit.TimedRecording.Chunk;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.awt.image.BufferedImage;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32C;
import javax.imageio.ImageIO;

/**
 * {@code deskgate bench transcode}: each recorded workload ({@link Workloads}, W1..W5) replayed through the engine's
 * real path: the replay stream (ZRLE + CopyRect, recorded from Xvnc) fed chunk by chunk, at the recording's own
 * timing (or as fast as possible), to an {@link RfbClient} whose listener drives an {@link InstanceCore} with the
 * default {@link EncoderConfig} (all encoding on this thread, so its CPU time is the engine's); the core's stream
 * messages go to a simulated browser that acknowledges every frame at once. Counts the stream's bytes (each message
 * as {@link StreamCodec} puts it on the wire) and frames, the thread's CPU time, the desktop pixels the engine took in
 * (RFB rectangles and CopyRects), and the PSNR of every lossy (JPEG) tile, decoded from its wire bytes, against the
 * framebuffer it was encoded from. Side by side, in the same run: the bytes TigerVNC's own Tight sent a direct RFB
 * client for the same workload (the twin recording: lossless for text, JPEG quality 6 for W3/W4). Input latency
 * needs a live desktop and browser: {@code n/a}, unless measured live first ({@code --live}, {@link InputLatency}).
 * Single-threaded; a warm-up pass first (see {@link #run}).
 */
public final class TranscodeBench {
    private TranscodeBench() {}

    /**
     * The lossy format the simulated browser takes: {@code WEBP} (it says CLIENT_CAPABILITIES WEBP, as a browser that
     * decodes WebP does: what the product sends it; JPEG anyway without libwebp) or {@code JPEG} (it says nothing, as an
     * older viewer).
     */
    public enum Lossy {
        WEBP, JPEG;

        /** {@code webp} or {@code jpeg}. @throws IllegalArgumentException for anything else */
        public static Lossy of(String name) {
            for (Lossy l : values()) if (l.name().equalsIgnoreCase(name)) return l;
            throw new IllegalArgumentException("--lossy must be webp or jpeg: " + name);
        }
    }

    static {
        // The PSNR measurement decodes JPEG tiles from memory: without a disk cache (ImageIO's default is a temporary file per image).
        ImageIO.setUseCache(false);
    }

    /** One workload's numbers. */
    public record Result(Workload workload, long streamBytes, long frames, long cpuNs, long pixelsIn, double seconds,
            long tightBytes, double lossySquaredError, long lossyPixels, long copyRectsIn, long copyRectsSent,
            long tilesSent, long losslessDataBytes, long losslessPixels, long[] zstreamBytes, long lossyTiles, long lossyBytes, int streamCrc) {
        double kbytePerSecond() { return streamBytes / 1000.0 / seconds; }

        double fps() { return frames / seconds; }

        String line() {
            return String.format(Locale.ROOT, "%s-%s: stream_bytes=%d frames=%d seconds=%.2f kbyte_s=%.1f fps=%.1f cpu_ms=%.1f"
                            + " cpu_pct=%.2f tight_%s_bytes=%d ratio_vs_tight=%.3f lossy_mpix=%.2f copyrects_in=%d copyrects_sent=%d",
                    workload.id(), workload.name(), streamBytes, frames, seconds, kbytePerSecond(), fps(), cpuNs / 1e6,
                    100.0 * cpuNs / (seconds * 1e9), workload.tightTwin().suffix, tightBytes, (double) streamBytes / tightBytes, lossyPixels / 1e6,
                    copyRectsIn, copyRectsSent) + zstreamFields()
                    + String.format(Locale.ROOT, " lossy_tiles=%d lossy_bytes=%d lossy_psnr_db=%s", lossyTiles, lossyBytes,
                            lossyPixels == 0 ? "n/a" : fmt1(psnr(lossySquaredError, lossyPixels)))
                    + String.format(Locale.ROOT, " mpix_in=%.2f cpu_us_per_frame=%.1f cpu_ms_per_mpix=%.2f stream_crc32c=%08x",
                            pixelsIn / 1e6, frames == 0 ? 0.0 : cpuNs / 1e3 / frames, pixelsIn == 0 ? 0.0 : cpuNs / 1e6 / (pixelsIn / 1e6), streamCrc);
        }

        /** The {@link ZstreamEstimate} at each of its levels: the stream's bytes and their ratio to Tight's. */
        private String zstreamFields() {
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT,  " tiles_sent=%d lossless_mpix=%.2f lossless_data_bytes=%d",
                    tilesSent, losslessPixels / 1e6, losslessDataBytes));
            for (int i = 0; i < zstreamBytes.length; i++) {
                b.append(String.format(Locale.ROOT, " est_zstream_l%d_bytes=%d est_zstream_l%d_ratio_vs_tight=%.3f",
                        ZstreamEstimate.LEVELS[i], zstreamBytes[i], ZstreamEstimate.LEVELS[i], (double) zstreamBytes[i] / tightBytes));
            }
            return b.toString();
        }
    }

    /**
     * Runs every workload and returns the {@code transcode: ...} line; progress lines go to {@code progress}. With
     * {@code warmUp}, every workload is first replayed once as fast as possible, unmeasured, so that the measured
     * CPU is the warm engine's, not the JIT's.
     */
    public static String run(List<Workload> workloads, boolean realTime, boolean warmUp, PrintStream progress) {
        return run(workloads, realTime, warmUp, java.util.Optional.empty(), Lossy.WEBP, TileEncoder.DEFAULT_WEBP_METHOD,
                WebpEncoder.Tuning.TILES, progress);
    }

    /**
     * As {@link #run(List, boolean, boolean, PrintStream)}, with the simulated browser's lossy format and libwebp's
     * method, and the two input latency fields taken from a live measurement ({@code --live}: {@link InputLatency} on
     * a {@link LiveDesktop}, run before the replay); empty: n/a.
     */
    public static String run(List<Workload> workloads, boolean realTime, boolean warmUp,
                             java.util.Optional<InputLatency.Result> latency, Lossy lossy, int webpMethod,
                             WebpEncoder.Tuning tuning, PrintStream progress) {
        if (warmUp) for (Workload w : workloads) replay(w, false, lossy, webpMethod, tuning);
        List<Result> results = new ArrayList<>();
        for (Workload w : workloads) {
            Result r = replay(w, realTime, lossy, webpMethod, tuning);
            progress.println(r.line());
            results.add(r);
        }
        return line(results, latency);
    }

    static String line(List<Result> results) {
        return line(results, java.util.Optional.empty());
    }

    static String line(List<Result> results, java.util.Optional<InputLatency.Result> latency) {
        Result w1 = find(results, "w1"), w2 = find(results, "w2");
        long textStream = 0, textTight = 0, photoStream = 0, photoTight = 0, pixels = 0, cpu = 0, lossyPixels = 0;
        double squared = 0;
        for (Result r : results) {
            if (r.workload().textLike()) { textStream += r.streamBytes(); textTight += r.tightBytes(); }
            else { photoStream += r.streamBytes(); photoTight += r.tightBytes(); }
            pixels += r.pixelsIn();
            cpu += r.cpuNs();
            squared += r.lossySquaredError();
            lossyPixels += r.lossyPixels();
        }
        return "transcode:"
                + " w1_kbyte_s=" + (w1 == null ? "n/a" : fmt1(w1.kbytePerSecond()))
                + " w1_fps=" + (w1 == null ? "n/a" : fmt1(w1.fps()))
                + " w2_kbyte_s=" + (w2 == null ? "n/a" : fmt1(w2.kbytePerSecond()))
                + " bytes_ratio_vs_tight_text=" + (textTight == 0 ? "n/a" : String.format(Locale.ROOT, "%.3f", (double) textStream / textTight))
                + " bytes_ratio_vs_tight_photo=" + (photoTight == 0 ? "n/a" : String.format(Locale.ROOT, "%.3f", (double) photoStream / photoTight))
                + " psnr_db=" + (lossyPixels == 0 ? "n/a" : fmt1(psnr(squared, lossyPixels)))
                + " mpix_per_s_per_core=" + (cpu == 0 ? "n/a" : fmt1(pixels / 1e6 / (cpu / 1e9)))
                + " engine_cpu_pct_w1=" + (w1 == null ? "n/a" : String.format(Locale.ROOT, "%.2f", 100.0 * w1.cpuNs() / (w1.seconds() * 1e9)))
                + " added_input_latency_p50_ms=" + latency.map(l -> fmt1(l.addedP50Ms())).orElse("n/a")
                + " added_input_latency_p99_ms=" + latency.map(l -> fmt1(l.addedP99Ms())).orElse("n/a");
    }

    /** PSNR in dB over 8-bit channels, from the summed squared error of {@code pixels} pixels (3 channels each). */
    static double psnr(double squaredError, long pixels) {
        double mse = squaredError / (3.0 * pixels);
        return mse == 0 ? 99.0 : 10 * Math.log10(255.0 * 255.0 / mse);
    }

    private static String fmt1(double v) { return String.format(Locale.ROOT, "%.1f", v); }

    private static Result find(List<Result> results, String id) {
        for (Result r : results) if (r.workload().id().equals(id)) return r;
        return null;
    }

    /** One workload through the engine's path. */
    public static Result replay(Workload workload, boolean realTime) {
        return replay(workload, realTime, Lossy.WEBP, TileEncoder.DEFAULT_WEBP_METHOD, WebpEncoder.Tuning.TILES);
    }

    /** One workload through the engine's path, to a browser that takes {@code lossy} tiles. */
    public static Result replay(Workload workload, boolean realTime, Lossy lossy, int webpMethod, WebpEncoder.Tuning tuning) {
        TimedRecording recording = TimedRecording.load(workload.recording(Twin.ZRLE));
        long tightBytes = TimedRecording.load(workload.recording(workload.tightTwin())).totalBytes();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Engine e = new Engine(lossy, webpMethod, tuning);
        long cpu0 = threads.getCurrentThreadCpuTime();
        long wall0 = System.nanoTime();
        try {
            for (Chunk c : recording.chunks()) {
                if (realTime) {
                    long wait = wall0 + c.micros() * 1000 - System.nanoTime();
                    if (wait > 0) {
                        try {
                            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                        } catch (InterruptedException ie) {
                            Thread.currentThread().interrupt();
                            throw new IllegalStateException("interrupted", ie);
                        }
                    }
                }
                e.nowNs = c.micros() * 1000;
                e.client.receive(c.bytes(), 0, c.bytes().length);
                e.client.drainOutgoing(); // the recording holds the server's answers already
                e.deliverAcks();
            }
        } finally {
            e.close();
        }
        long cpu = threads.getCurrentThreadCpuTime() - cpu0 - e.psnrCpuNs;
        double seconds = Math.max(1e-3, recording.durationMicros() / 1e6);
        long[] zstream = new long[ZstreamEstimate.LEVELS.length];
        for (int i = 0; i < zstream.length; i++) zstream[i] = e.zstream.streamBytes(e.streamBytes, i);
        return new Result(workload, e.streamBytes, e.frames, cpu, e.pixelsIn, seconds, tightBytes, e.squaredError, e.lossyPixels, e.copyRectsIn, e.copyRectsSent,
                e.tilesSent, e.zstream.tileDataBytes(), e.zstream.pixels(), zstream, e.lossyTiles, e.lossyBytes, (int) e.crc.getValue());
    }

    /** The RFB client, the core and the simulated browser of one replay. */
    private static final class Engine implements RfbListener, Desktop {
        final RfbClient client;
        final InstanceCore core;
        final List<FrameAck> acks = new ArrayList<>();
        final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long nowNs;
        long streamBytes;
        long frames;
        long pixelsIn;
        double squaredError;
        long lossyPixels;
        long copyRectsIn;
        long copyRectsSent;
        /** CPU spent on the bench's own PSNR and {@link ZstreamEstimate} measurements, not the engine's. */
        long psnrCpuNs;
        final ZstreamEstimate zstream = new ZstreamEstimate();
        long tilesSent;
        long lossyTiles;
        long lossyBytes;
        final Lossy lossy;
        /** Every down message's wire bytes, in order: equal digests mean the same stream, byte for byte. */
        final CRC32C crc = new CRC32C();

        Engine(Lossy lossy, int webpMethod, WebpEncoder.Tuning tuning) {
            this.lossy = lossy;
            EncoderConfig config = EncoderConfig.defaults().toBuilder().parallelThresholdTiles(0).build();
            core = new InstanceCore(this, this::onMessage, config, InstanceLimits.defaults(), LagObserver.NONE);
            core.webpMethod(webpMethod);
            core.webpTuning(tuning);
            client = new RfbClient("", true, this);
        }

        void onMessage(StreamMessage m, long ns) {
            byte[] wire = StreamCodec.encode(m);
            streamBytes += wire.length;
            crc.update(wire);
            if (m instanceof StreamMessage.CopyRect) copyRectsSent++;
            if (m instanceof Tile) tilesSent++;
            if (m instanceof FrameEnd end) {
                frames++;
                acks.add(new FrameAck(end.frameId(), end.serverTimeMicros()));
            } else if (m instanceof Tile t && (t.format() == Tile.FORMAT_JPEG || t.format() == Tile.FORMAT_WEBP)) {
                lossyTiles++;
                lossyBytes += wire.length;
                long t0 = threads.getCurrentThreadCpuTime();
                measure((Tile) StreamCodec.decode(wire));
                psnrCpuNs += threads.getCurrentThreadCpuTime() - t0;
            } else if (m instanceof Tile t && (t.format() == Tile.FORMAT_PALETTE || t.format() == Tile.FORMAT_ZLIB_RGB)) {
                long t0 = threads.getCurrentThreadCpuTime();
                zstream.add(t);
                psnrCpuNs += threads.getCurrentThreadCpuTime() - t0;
            }
        }

        /** Adds the squared error of the lossy tile against the framebuffer it was encoded from (unchanged until the frame ends). */
        private void measure(Tile t) {
            int[] decoded = t.format() == Tile.FORMAT_WEBP ? WebpTile.Decoder.shared().decode(t, width(), height()) : decodeJpeg(t);
            int[] fb = pixels();
            int width = width();
            for (int r = 0; r < t.h(); r++) {
                for (int c = 0; c < t.w(); c++) {
                    int a = decoded[r * t.w() + c], b = fb[(t.y() + r) * width + t.x() + c];
                    int dr = (a >> 16 & 255) - (b >> 16 & 255), dg = (a >> 8 & 255) - (b >> 8 & 255), db = (a & 255) - (b & 255);
                    squaredError += dr * dr + dg * dg + db * db;
                }
            }
            lossyPixels += (long) t.w() * t.h();
        }

        private static int[] decodeJpeg(Tile t) {
            BufferedImage img;
            try {
                img = ImageIO.read(new ByteArrayInputStream(t.data()));
            } catch (IOException ex) {
                throw new UncheckedIOException("bad JPEG tile " + t, ex);
            }
            if (img == null || img.getWidth() != t.w() || img.getHeight() != t.h()) throw new IllegalStateException("unreadable JPEG tile " + t);
            return img.getRGB(0, 0, t.w(), t.h(), null, 0, t.w());
        }

        void deliverAcks() {
            while (!acks.isEmpty()) {
                List<FrameAck> now = new ArrayList<>(acks);
                acks.clear();
                for (FrameAck a : now) core.onUpMessage(a, nowNs);
            }
        }

        void close() {
            core.close();
            client.close();
            zstream.close();
        }

        // RfbListener: what TranscodingInstance's listener does
        @Override public void onServerInit(int width, int height, String name) {
            core.onServerInit(width, height, nowNs);
            core.onUpMessage(new RefreshRequest(), nowNs); // the browser attaches and asks for the whole picture
            if (lossy == Lossy.WEBP) core.onUpMessage(new ClientCapabilities(ClientCapabilities.WEBP), nowNs); // and says it decodes WebP
        }

        @Override public void onRect(int x, int y, int w, int h) {
            pixelsIn += (long) w * h;
            core.onRect(x, y, w, h);
        }

        @Override public void onCopyRect(int srcX, int srcY, int x, int y, int w, int h) {
            pixelsIn += (long) w * h;
            copyRectsIn++;
            core.onCopyRect(srcX, srcY, x, y, w, h);
        }

        @Override public void onDesktopSize(int width, int height) { core.onDesktopSize(width, height); }

        @Override public void onUpdateEnd() { core.onUpdateEnd(nowNs); }

        // Desktop: the client's framebuffer; the replay answers no request and sends no input
        @Override public int width() { return client.framebuffer().width(); }

        @Override public int height() { return client.framebuffer().height(); }

        @Override public int[] pixels() { return client.framebuffer().pixels(); }

        @Override public void requestUpdate(boolean incremental) { }

        @Override public void keyEvent(boolean down, long keysym) { }

        @Override public void pointerEvent(int x, int y, int buttonMask) { }

        @Override public void clientCutText(String text) { }
    }
}
