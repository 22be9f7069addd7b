package io.deskgate.rfb;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.testkit.Recordings;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The "RFB decode cost" numbers of docs/benchmarks.md, behind the engine's {@code rfb-encodings: auto} choice on one
 * host: the recorded TigerVNC session {@code xterm-zrle.rfb.gz} decoded as recorded (ZRLE), and the same updates
 * re-sent as Raw (every ZRLE rectangle's decoded pixels, CopyRects kept), through {@link RfbClient} on one thread:
 * CPU ms per pass and bytes. As a floor of what the desktop's ZRLE encoding costs, the rectangles' pixels are also
 * deflated once (3 bytes a pixel, zlib levels 1 and 6; Xvnc's palette and run analysis come on top).
 * Runs only with {@code -Ddeskgate.bench=true}; writes {@code target/rfb-decode-cost.txt}.
 */
@EnabledIfSystemProperty(named = "deskgate.bench", matches = "true", disabledReason = "a benchmark: run with -Ddeskgate.bench=true")
class RfbDecodeCostBench {
    static final int PASSES = 15, WARMUP = 5;

    /** One rectangle of an update: pixels (Raw) or a copy. */
    record Rect(int x, int y, int w, int h, int[] pixels, int srcX, int srcY) {}

    @Test
    void shouldMeasureZrleAgainstRawDecodeCpu() throws IOException {
        byte[] zrle = Recordings.load("xterm-zrle.rfb.gz");
        List<List<Rect>> updates = new ArrayList<>();
        int[] size = new int[2];
        RfbClient[] holder = new RfbClient[1];
        RfbListener capture = new RfbListener() {
            List<Rect> current = new ArrayList<>();

            @Override public void onServerInit(int width, int height, String name) { size[0] = width; size[1] = height; }

            @Override public void onRect(int x, int y, int w, int h) {
                int[] fb = holder[0].framebuffer().pixels();
                int stride = holder[0].framebuffer().width();
                int[] px = new int[w * h];
                for (int r = 0; r < h; r++) System.arraycopy(fb, (y + r) * stride + x, px, r * w, w);
                current.add(new Rect(x, y, w, h, px, 0, 0));
            }

            @Override public void onCopyRect(int srcX, int srcY, int x, int y, int w, int h) { current.add(new Rect(x, y, w, h, null, srcX, srcY)); }

            @Override public void onUpdateEnd() {
                updates.add(current);
                current = new ArrayList<>();
            }
        };
        holder[0] = new RfbClient("", true, capture);
        holder[0].receive(zrle, 0, zrle.length);
        int[] zrleFinal = holder[0].framebuffer().pixels().clone();
        holder[0].close();

        RfbServerBytes raw = RfbServerBytes.handshake(size[0], size[1]);
        long pixels = 0;
        for (List<Rect> update : updates) {
            raw.framebufferUpdate(update.size());
            for (Rect r : update) {
                if (r.pixels() == null) {
                    raw.copyRect(r.srcX(), r.srcY(), r.x(), r.y(), r.w(), r.h());
                } else {
                    raw.raw(r.x(), r.y(), r.w(), r.h(), r.pixels());
                    pixels += (long) r.w() * r.h();
                }
            }
        }
        byte[] rawBytes = raw.toByteArray();
        RfbClient check = new RfbClient("", true, new RfbListener() { });
        check.receive(rawBytes, 0, rawBytes.length);
        assertThat(check.framebuffer().pixels()).as("the Raw stream draws what the ZRLE one does").isEqualTo(zrleFinal);
        check.close();

        double zrleMs = decodeMs(zrle), rawMs = decodeMs(rawBytes);
        double deflate1Ms = deflateMs(updates, 1), deflate6Ms = deflateMs(updates, 6);
        List<String> lines = List.of(
                String.format("updates %d, pixels in rectangles %d", updates.size(), pixels),
                String.format("ZRLE  decode %8.1f ms CPU per pass, %,d bytes", zrleMs, zrle.length),
                String.format("Raw   decode %8.1f ms CPU per pass, %,d bytes", rawMs, rawBytes.length),
                String.format("floor of the server's ZRLE encode (deflate of 3-byte pixels): level 1 %8.1f ms CPU, level 6 %8.1f ms CPU",
                        deflate1Ms, deflate6Ms));
        Files.createDirectories(Path.of("target"));
        Files.write(Path.of("target/rfb-decode-cost.txt"), lines);
        assertThat(zrleMs).isPositive();
        assertThat(rawMs).isPositive();
    }

    private static double decodeMs(byte[] stream) {
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        long total = 0;
        for (int pass = 0; pass < WARMUP + PASSES; pass++) {
            long start = cpu.getCurrentThreadCpuTime();
            RfbClient client = new RfbClient("", true, new RfbListener() { });
            client.receive(stream, 0, stream.length);
            client.close();
            if (pass >= WARMUP) total += cpu.getCurrentThreadCpuTime() - start;
        }
        return total / 1e6 / PASSES;
    }

    private static double deflateMs(List<List<Rect>> updates, int level) {
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        byte[] out = new byte[1 << 16];
        long total = 0;
        for (int pass = 0; pass < 3; pass++) {
            Deflater deflater = new Deflater(level);
            long start = cpu.getCurrentThreadCpuTime();
            for (List<Rect> update : updates) {
                for (Rect r : update) {
                    if (r.pixels() == null) continue;
                    byte[] rgb = new byte[r.pixels().length * 3];
                    int o = 0;
                    for (int p : r.pixels()) {
                        rgb[o++] = (byte) p;
                        rgb[o++] = (byte) (p >> 8);
                        rgb[o++] = (byte) (p >> 16);
                    }
                    deflater.setInput(rgb);
                    while (!deflater.needsInput()) deflater.deflate(out, 0, out.length, Deflater.SYNC_FLUSH);
                }
            }
            if (pass > 0) total += cpu.getCurrentThreadCpuTime() - start;
            deflater.end();
        }
        return total / 1e6 / 2;
    }

}
