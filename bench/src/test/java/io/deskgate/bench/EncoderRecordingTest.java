package io.deskgate.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.encode.Damage;
import io.deskgate.encode.EncoderConfig;
import io.deskgate.encode.FrameEncoder;
import io.deskgate.rfb.RfbClient;
import io.deskgate.rfb.RfbListener;
import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.TileCanvas;
import io.deskgate.testkit.Recordings;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The encoder on a real desktop's stream: the Xvnc recording {@code xterm-zrle.rfb.gz} (1280x800, 72 updates, an
 * xterm, with 42 CopyRects of TigerVNC's own) replayed through {@link RfbClient}, each update assembled into a frame
 * as the engine's {@code InstanceCore} does (a CopyRect forwarded only while no other damage is pending, otherwise
 * its destination is damage), and encoded by {@link FrameEncoder} with the forwarded copies passed as
 * {@code sentBefore}. After every frame a {@link TileCanvas} fed the messages equals the framebuffer pixel for pixel,
 * with and without motion detection and palette tiles (lossless, so that it can). Writes the bytes and CPU of each to
 * {@code target/encoder-recording.txt} (docs/benchmarks.md, "encoder (synthetic)").
 */
class EncoderRecordingTest {
    record Result(String name, long bytes, int frames, double cpuMs) {
        String line() { return String.format("%-30s %9d bytes in %d frames, %7.1f ms CPU", name, bytes, frames, cpuMs); }
    }

    static Result replay(String name, EncoderConfig config) {
        byte[] recording = Recordings.load(RfbBench.RECORDING);
        try (FrameEncoder encoder = new FrameEncoder(config.toBuilder().parallelThresholdTiles(0).build())) { // thread CPU: all on this thread
            Replay r = new Replay(encoder);
            RfbClient client = new RfbClient("", true, r);
            r.client = client;
            try {
                client.receive(recording, 0, recording.length);
                client.drainOutgoing();
            } finally {
                client.close();
            }
            assertThat(r.frames).isEqualTo(72);
            return new Result(name, r.bytes, r.frames, r.cpuNs / 1e6);
        }
    }

    static final class Replay implements RfbListener {
        final FrameEncoder encoder;
        RfbClient client;
        Damage damage = new Damage(0, 0);
        final List<StreamMessage> pending = new ArrayList<>();
        TileCanvas canvas;
        long bytes;
        long cpuNs;
        int frames;

        Replay(FrameEncoder encoder) { this.encoder = encoder; }

        @Override public void onServerInit(int w, int h, String name) {
            damage.resize(w, h);
            canvas = new TileCanvas(w, h);
        }

        @Override public void onRect(int x, int y, int w, int h) { damage.add(x, y, w, h); }

        @Override public void onCopyRect(int srcX, int srcY, int x, int y, int w, int h) {
            if (damage.isEmpty()) {
                pending.add(new CopyRect(srcX, srcY, w, h, x, y));
            } else {
                damage.add(x, y, w, h);
            }
        }

        @Override public void onUpdateEnd() {
            int w = client.framebuffer().width(), h = client.framebuffer().height();
            long t0 = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
            List<StreamMessage> out = encoder.encode(client.framebuffer().pixels(), w, h, damage.take(), List.copyOf(pending));
            cpuNs += ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - t0;
            List<StreamMessage> all = new ArrayList<>(pending);
            all.addAll(out);
            pending.clear();
            for (StreamMessage m : all) {
                bytes += StreamCodec.encode(m).length;
                switch (m) {
                    case CopyRect c -> canvas.copy(c);
                    case Tile t -> canvas.paint(t);
                    default -> throw new AssertionError("unexpected " + m);
                }
            }
            frames++;
            int[] fb = client.framebuffer().pixels();
            int differ = 0;
            for (int i = 0; i < w * h; i++) if ((fb[i] & 0xffffff) != canvas.pixels[i]) differ++;
            assertThat(differ).as("pixels that differ after frame %d", frames).isZero();
        }
    }

    @Test
    void shouldReproduceTheRecordedXtermPixelExactInFewerBytesWithMotionAndPalette() throws Exception {
        EncoderConfig before = EncoderConfig.builder().allowLossy(false).paletteMaxColours(0).motionDetection(false).build();
        Result zlib = replay("zlib tiles (before)", before);
        Result palette = replay("palette", before.toBuilder().paletteMaxColours(256).build());
        Result motion = replay("motion detection", before.toBuilder().motionDetection(true).build());
        Result both = replay("palette + motion (default)", before.toBuilder().paletteMaxColours(256).motionDetection(true).build());
        StringBuilder out = new StringBuilder();
        for (Result r : List.of(zlib, palette, motion, both)) out.append(r.line()).append('\n');
        Files.writeString(Path.of("target/encoder-recording.txt"), out);
        assertThat(both.bytes).isLessThan(zlib.bytes);
        assertThat(palette.bytes).isLessThan(zlib.bytes);
    }
}
