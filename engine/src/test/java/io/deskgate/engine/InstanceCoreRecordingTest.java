package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.encode.EncoderConfig;
import io.deskgate.rfb.RfbClient;
import io.deskgate.rfb.RfbListener;
import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.FrameAck;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.Resize;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.TileCanvas;
import io.deskgate.testkit.Recordings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The real TigerVNC recording {@code xterm-zrle.rfb.gz} (1280x800, 72 updates: xterms, {@code top}, a 560x420
 * photographic {@code plasma:fractal} shown for a few seconds) through {@link RfbClient} into a real
 * {@link InstanceCore} with the default encoder, updates 360 ms apart on a fake clock (26 s / 72) with the core's
 * 10 ms timer ticked in between, every frame drawn on a {@link TileCanvas} and acknowledged at once. A desktop that is
 * mostly still goes pixel-exact: the first picture holds no JPEG, and once the last update has been still for
 * {@code refine-after} the canvas is the framebuffer, pixel for pixel. Writes the numbers to
 * {@code target/instance-recording.txt}.
 */
class InstanceCoreRecordingTest {
    static final long MS = 1_000_000L;
    static final long GAP = 360 * MS;

    final List<StreamMessage> sent = new ArrayList<>();
    TileCanvas canvas;
    RfbClient client;
    InstanceCore core;
    long now = 1_000 * MS;
    int updates;
    long bytes;
    long jpegTiles;
    long jpegBytes;
    long refinementFrames;
    int firstPictureJpegs = -1;

    @Test
    void shouldSendTheRecordedDesktopPixelExactOnceStill() throws Exception {
        byte[] recording = Recordings.load("xterm-zrle.rfb.gz");
        client = new RfbClient("", true, new Listener());
        core = new InstanceCore(new ClientDesktop(), (m, t) -> sent.add(m), EncoderConfig.defaults(), InstanceLimits.defaults(), LagObserver.NONE);
        try {
            client.receive(recording, 0, recording.length);
            assertThat(updates).isEqualTo(72);
            long end = now + EncoderConfig.DEFAULT_REFINE_AFTER_NS + 200 * MS;
            while (now < end) tick();
            assertThat(core.nextRefinementNs()).as("nothing left to refine").isEmpty();
            int[] fb = client.framebuffer().pixels();
            int differ = 0;
            for (int i = 0; i < fb.length; i++) if ((fb[i] & 0xffffff) != canvas.pixels[i]) differ++;
            assertThat(differ).as("pixels that differ once the desktop is still").isZero();
            assertThat(firstPictureJpegs).as("JPEG tiles in the first picture of the recorded desktop").isZero();
            Files.createDirectories(Path.of("target"));
            Files.writeString(Path.of("target/instance-recording.txt"), String.format(
                    "updates %d, stream bytes %d, JPEG tiles %d (%d bytes), refinement-only frames %d, first picture JPEG tiles %d%n",
                    updates, bytes, jpegTiles, jpegBytes, refinementFrames, firstPictureJpegs));
        } finally {
            core.close();
            client.close();
        }
    }

    /** One 10 ms tick of the core's timer; a frame it sends (a refinement) is drawn and acknowledged. */
    private void tick() {
        now += 10 * MS;
        core.tick(now);
        if (!sent.isEmpty()) {
            refinementFrames++;
            drawAndAck();
        }
    }

    private int drawAndAck() {
        int jpegs = 0;
        for (StreamMessage m : sent) {
            bytes += StreamCodec.encode(m).length;
            switch (m) {
                case Resize r -> canvas = new TileCanvas(r.w(), r.h());
                case CopyRect c -> canvas.copy(c);
                case Tile t -> {
                    canvas.paint(t);
                    if (t.format() == Tile.FORMAT_JPEG) {
                        jpegs++;
                        jpegBytes += t.data().length;
                    }
                }
                default -> { }
            }
        }
        jpegTiles += jpegs;
        boolean frame = sent.stream().anyMatch(m -> m instanceof FrameEnd);
        sent.clear();
        if (frame) core.onUpMessage(new FrameAck(core.framesSent() - 1, now / 1000), now);
        return jpegs;
    }

    private final class Listener implements RfbListener {
        @Override public void onServerInit(int width, int height, String name) {
            core.onServerInit(width, height, now);
            core.onUpMessage(new RefreshRequest(), now); // a browser attaches
            drawAndAck();
        }

        @Override public void onRect(int x, int y, int w, int h) { core.onRect(x, y, w, h); }

        @Override public void onCopyRect(int srcX, int srcY, int x, int y, int w, int h) { core.onCopyRect(srcX, srcY, x, y, w, h); }

        @Override public void onDesktopSize(int width, int height) { core.onDesktopSize(width, height); }

        @Override public void onUpdateEnd() {
            long next = now + GAP;
            core.onUpdateEnd(now);
            int jpegs = drawAndAck();
            if (updates++ == 0) firstPictureJpegs = jpegs;
            while (now + 10 * MS < next) tick();
            now = next;
        }
    }

    private final class ClientDesktop implements Desktop {
        @Override public int width() { return client.framebuffer().width(); }

        @Override public int height() { return client.framebuffer().height(); }

        @Override public int[] pixels() { return client.framebuffer().pixels(); }

        @Override public void requestUpdate(boolean incremental) { client.requestUpdate(incremental); }

        @Override public void keyEvent(boolean down, long keysym) { }

        @Override public void pointerEvent(int x, int y, int buttonMask) { }

        @Override public void clientCutText(String text) { }
    }
}
