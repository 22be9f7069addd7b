package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.encode.EncoderConfig;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.FrameAck;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.Resize;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.TileCanvas;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link InstanceCore} with the encoder's lossy/lossless choice (docs/architecture.md, "Lossy or lossless"): a video
 * region goes lossy, and once it is still the core's timer sends its pixel-exact refinement without any damage from
 * the desktop; the lag that acknowledgements measure steps JPEG quality and the frames in flight.
 */
class InstanceCoreRefinementTest extends InstanceCoreFixture {
    private static final int VIDEO = 128; // the video: the top-left 128x128, four tiles
    private TileCanvas canvas;

    @BeforeEach
    void desktopWithAVideo() {
        desktop.resize(256, 192);
        java.util.Arrays.fill(desktop.pixels, 0xd0d0d0);
        video(0);
    }

    @Test
    void shouldRefineAStillVideoPixelExactOnTheTimerWithoutDamage() {
        open();
        long last = playVideo(4);
        assertThat(canvas.pixels).as("lossy while it played").isNotEqualTo(desktop.pixels);
        long due = last + EncoderConfig.DEFAULT_REFINE_AFTER_NS;
        assertThat(core.nextRefinementNs()).hasValue(due);

        core.tick(due - 1);
        assertThat(sent).as("not due yet").isEmpty();
        long framesBefore = core.framesSent();
        now = due;
        core.tick(now);
        List<StreamMessage> refinement = drawAndAck();
        assertThat(refinement).last().isInstanceOf(FrameEnd.class);
        assertThat(refinement).filteredOn(m -> m instanceof Tile).hasSize(4)
                .allSatisfy(m -> assertThat(((Tile) m).format()).isNotEqualTo(Tile.FORMAT_JPEG));
        assertThat(core.framesSent()).isEqualTo(framesBefore + 1);
        assertThat(canvas.pixels).as("pixel-exact within refine-after of the last change").isEqualTo(desktop.pixels);
        assertThat(core.nextRefinementNs()).isEmpty();

        now += SECOND;
        core.tick(now);
        assertThat(sent).as("nothing left to refine: no frame").isEmpty();
    }

    @Test
    void shouldWaitWithTheRefinementWhileFlowControlAllowsNoFrame() {
        open();
        long due = playVideo(3) + EncoderConfig.DEFAULT_REFINE_AFTER_NS;
        // Two frames unacknowledged: the window is full.
        frameWithoutAck(1);
        frameWithoutAck(2);
        assertThat(core.flow().mayRequest()).isFalse();
        sent.clear();
        core.tick(due + 100 * MS);
        assertThat(sent).filteredOn(m -> m instanceof Tile).as("no frame past the window").isEmpty();
        core.onUpMessage(new FrameAck(core.framesSent() - 1, now / 1000), now);
        sent.clear();
        now = due + 200 * MS;
        core.tick(now);
        assertThat(sent).filteredOn(m -> m instanceof Tile).as("refined once a frame may go").isNotEmpty();
    }

    @Test
    void shouldStepJpegQualityDownAndSendFewerFramesWhileTheLagIsHighAndBackUpWhenItFalls() {
        open();
        playVideo(2);
        int before = jpegBytes(playFrame(10, 0));
        // 16 frames acknowledged 400 ms late: the average passes lag-high, quality steps down, one frame in flight.
        for (int f = 11; f < 27; f++) playFrame(f, 400 * MS);
        assertThat(core.flow().window()).isEqualTo(1);
        int congested = jpegBytes(playFrame(27, 400 * MS));
        assertThat(congested).as("a lower quality: fewer bytes").isLessThan(before * 9 / 10);
        // A photo appearing now, still, goes JPEG at once on the congested link (refined later).
        photoAt(128, 64);
        now += 40 * MS;
        core.onRect(128, 64, 128, 128);
        core.onUpdateEnd(now);
        List<StreamMessage> appeared = List.copyOf(sent);
        draw(appeared);
        sent.clear();
        core.onUpMessage(new FrameAck(core.framesSent() - 1, (now - 400 * MS) / 1000), now);
        assertThat(appeared).filteredOn(m -> m instanceof Tile t && t.format() == Tile.FORMAT_JPEG && t.x() >= 128).isNotEmpty();
        // 40 frames acknowledged at once: the lag is low again, quality returns to the config's, two frames may fly.
        for (int f = 28; f < 68; f++) playFrame(f, 0);
        assertThat(core.flow().window()).isEqualTo(InstanceLimits.DEFAULT_MAX_FRAMES_IN_FLIGHT);
        assertThat(jpegBytes(playFrame(68, 0))).as("the config's quality again").isGreaterThan(congested);
    }

    // ------------------------------------------------------------ helpers

    /** Paints frame {@code seed} of the video: a gradient with noise, new content every frame. */
    private void video(long seed) {
        Random random = new Random(seed);
        int shift = (int) (seed * 7);
        for (int y = 0; y < VIDEO; y++) {
            for (int x = 0; x < VIDEO; x++) {
                int r = Math.min(255, (x + shift) % 200 + random.nextInt(16));
                int g = Math.min(255, y + random.nextInt(16));
                desktop.pixels[y * desktop.width + x] = r << 16 | g << 8 | ((x + y + shift) & 0xff);
            }
        }
    }

    /** A still photo of 128x128 at (x, y). */
    private void photoAt(int x0, int y0) {
        Random random = new Random(77);
        for (int y = 0; y < 128; y++) {
            for (int x = 0; x < 128; x++) {
                desktop.pixels[(y0 + y) * desktop.width + x0 + x] = Math.min(255, x * 2 + random.nextInt(16)) << 16 | (y * 2) << 8 | random.nextInt(64);
            }
        }
    }

    /** {@code frames} video frames 40 ms apart, each acknowledged at once; returns the last one's time. */
    private long playVideo(int frames) {
        for (int f = 1; f <= frames; f++) {
            List<StreamMessage> frame = playFrame(f, 0);
            if (f >= 2) assertThat(jpegBytes(frame)).as("frame %d of a changing photo is lossy", f).isPositive();
        }
        return now;
    }

    /** One video frame at now + 40 ms, acknowledged {@code lagNs} after it was sent; returns its messages. */
    private List<StreamMessage> playFrame(int f, long lagNs) {
        now += 40 * MS;
        video(f);
        core.onRect(0, 0, VIDEO, VIDEO);
        core.onUpdateEnd(now);
        long sentAt = now;
        now += lagNs;
        List<StreamMessage> drawn = List.copyOf(sent);
        draw(drawn);
        sent.clear();
        core.onUpMessage(new FrameAck(core.framesSent() - 1, sentAt / 1000), now);
        return drawn;
    }

    /** A frame that changes one pixel of the bottom-right tile (not the video), not acknowledged. */
    private void frameWithoutAck(int f) {
        now += 40 * MS;
        desktop.pixels[desktop.pixels.length - 1] = 0x010101 * f;
        core.onRect(desktop.width - 1, desktop.height - 1, 1, 1);
        core.onUpdateEnd(now);
        draw(List.copyOf(sent));
    }

    private static int jpegBytes(List<StreamMessage> frame) {
        return frame.stream().filter(m -> m instanceof Tile t && t.format() == Tile.FORMAT_JPEG).mapToInt(m -> ((Tile) m).data().length).sum();
    }

    /** ServerInit, a browser, the first full update drawn on a fresh canvas. */
    private void open() {
        core.onServerInit(desktop.width, desktop.height, now);
        core.onUpMessage(new RefreshRequest(), now);
        core.onRect(0, 0, desktop.width, desktop.height);
        core.onUpdateEnd(now);
        drawAndAck();
        assertThat(canvas.pixels).as("a still picture is sent pixel-exact").isEqualTo(desktop.pixels);
    }

    private List<StreamMessage> drawAndAck() {
        List<StreamMessage> drawn = List.copyOf(sent);
        draw(drawn);
        sent.clear();
        core.onUpMessage(new FrameAck(core.framesSent() - 1, now / 1000), now);
        return drawn;
    }

    private void draw(List<StreamMessage> messages) {
        for (StreamMessage m : messages) {
            switch (m) {
                case Resize r -> canvas = new TileCanvas(r.w(), r.h());
                case CopyRect c -> canvas.copy(c);
                case Tile t -> canvas.paint(t);
                default -> { }
            }
        }
    }
}
