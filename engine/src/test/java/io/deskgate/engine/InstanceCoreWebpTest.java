package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.encode.EncoderConfig;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.ClientCapabilities;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.FrameAck;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.Resize;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.StreamMessage.ViewerLeft;
import io.deskgate.stream.TileCanvas;
import io.deskgate.stream.WebpTile;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link InstanceCore} and CLIENT_CAPABILITIES (docs/protocol.md §1.2): a changing photo goes lossy as JPEG to a client
 * that said nothing, as WEBP (format 7) once it said it decodes WebP, is refined pixel-exact like JPEG, and goes back to
 * JPEG after VIEWER_LEFT or when a browser without WebP takes over (which also gets the whole picture again).
 */
class InstanceCoreWebpTest extends InstanceCoreFixture {
    private static final int VIDEO = 128;
    private TileCanvas canvas;
    private int frame;

    @BeforeEach
    void desktopWithAVideo() {
        if (!WebpTile.Decoder.shared().available() && !"true".equals(System.getenv("CI"))) {
            Assumptions.abort("libwebp not available (apt-get install libwebp7)");
        }
        desktop.resize(256, 192);
        java.util.Arrays.fill(desktop.pixels, 0xd0d0d0);
        video();
    }

    @Test
    void shouldSendJpegToAClientThatSaidNothing() {
        open();
        assertThat(lossyFormats(play(4))).containsOnly(Tile.FORMAT_JPEG);
    }

    @Test
    void shouldSendWebpOnceTheClientSaysItDecodesItAndRefineItPixelExact() {
        open();
        core.onUpMessage(new ClientCapabilities(ClientCapabilities.WEBP), now);
        assertThat(sent).as("no frame of its own").isEmpty();
        assertThat(lossyFormats(play(4))).containsOnly(Tile.FORMAT_WEBP);
        assertThat(canvas.pixels).as("lossy while it plays").isNotEqualTo(desktop.pixels);
        now += EncoderConfig.DEFAULT_REFINE_AFTER_NS;
        core.tick(now);
        drawAndAck();
        assertThat(canvas.pixels).as("refined pixel-exact like JPEG").isEqualTo(desktop.pixels);
    }

    @Test
    void shouldForgetTheCapabilityWhenTheViewerLeaves() {
        open();
        core.onUpMessage(new ClientCapabilities(ClientCapabilities.WEBP), now);
        assertThat(lossyFormats(play(3))).containsOnly(Tile.FORMAT_WEBP);
        core.onUpMessage(new ViewerLeft(), now);
        core.onUpMessage(new RefreshRequest(), now); // another browser attaches and says nothing
        drawAndAck();
        assertThat(lossyFormats(play(3))).containsOnly(Tile.FORMAT_JPEG);
    }

    @Test
    void shouldResendTheWholePictureWhenABrowserWithoutWebpTakesOver() {
        open();
        core.onUpMessage(new ClientCapabilities(ClientCapabilities.WEBP), now);
        play(3);
        core.onUpMessage(new ClientCapabilities(0), now);
        List<StreamMessage> whole = drawAndAck();
        assertThat(whole).filteredOn(m -> m instanceof Tile).isNotEmpty()
                .noneMatch(m -> ((Tile) m).format() == Tile.FORMAT_WEBP);
        long area = whole.stream().filter(m -> m instanceof Tile).mapToLong(m -> (long) ((Tile) m).w() * ((Tile) m).h()).sum();
        assertThat(area).as("the whole picture again: nothing WEBP left on its canvas").isGreaterThanOrEqualTo((long) desktop.width * desktop.height);
        assertThat(lossyFormats(play(3))).containsOnly(Tile.FORMAT_JPEG);
    }

    // ------------------------------------------------------------ helpers

    private void video() {
        Random random = new Random(frame);
        int shift = frame * 7;
        for (int y = 0; y < VIDEO; y++) {
            for (int x = 0; x < VIDEO; x++) {
                int r = Math.min(255, (x + shift) % 200 + random.nextInt(16));
                int g = Math.min(255, y + random.nextInt(16));
                desktop.pixels[y * desktop.width + x] = r << 16 | g << 8 | ((x + y + shift) & 0xff);
            }
        }
    }

    /** {@code frames} video frames 40 ms apart, each drawn and acknowledged; returns their messages. */
    private List<StreamMessage> play(int frames) {
        List<StreamMessage> all = new java.util.ArrayList<>();
        for (int f = 0; f < frames; f++) {
            now += 40 * MS;
            frame++;
            video();
            core.onRect(0, 0, VIDEO, VIDEO);
            core.onUpdateEnd(now);
            all.addAll(drawAndAck());
        }
        return all;
    }

    private static List<Integer> lossyFormats(List<StreamMessage> messages) {
        List<Integer> formats = messages.stream().filter(m -> m instanceof Tile t
                && (t.format() == Tile.FORMAT_JPEG || t.format() == Tile.FORMAT_WEBP)).map(m -> ((Tile) m).format()).toList();
        assertThat(formats).as("the playing video goes lossy").isNotEmpty();
        return formats;
    }

    private void open() {
        core.onServerInit(desktop.width, desktop.height, now);
        core.onUpMessage(new RefreshRequest(), now);
        core.onRect(0, 0, desktop.width, desktop.height);
        core.onUpdateEnd(now);
        drawAndAck();
    }

    private List<StreamMessage> drawAndAck() {
        List<StreamMessage> drawn = List.copyOf(sent);
        for (StreamMessage m : drawn) {
            switch (m) {
                case Resize r -> canvas = new TileCanvas(r.w(), r.h());
                case CopyRect c -> canvas.copy(c);
                case Tile t -> canvas.paint(t);
                default -> { }
            }
        }
        sent.clear();
        core.onUpMessage(new FrameAck(core.framesSent() - 1, now / 1000), now);
        return drawn;
    }
}
