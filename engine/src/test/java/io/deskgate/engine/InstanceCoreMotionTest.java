package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.FrameAck;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.Resize;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.TileCanvas;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link InstanceCore} with the encoder's scroll and move detection (docs/architecture.md, "Scroll and move
 * detection"): the core tells the encoder of every COPY_RECT and RESIZE it sends itself, so what a browser draws
 * from the stream stays the desktop's framebuffer, pixel for pixel, frame after frame.
 */
class InstanceCoreMotionTest extends InstanceCoreFixture {
    private static final int LINE = 13; // a text line's height, not a multiple of the tile size
    private final Random random = new Random(8);
    private TileCanvas canvas;

    @BeforeEach
    void textDesktop() {
        desktop.resize(320, 240);
        for (int y = 0; y < desktop.height; y++) textRow(y);
    }

    @Test
    void shouldSendAScrolledTerminalAsACopyAndOnlyTheNewLines() {
        open();
        for (int frame = 1; frame <= 6; frame++) {
            scrollUp(0, desktop.height);
            List<StreamMessage> frameMessages = update(0, 0, desktop.width, desktop.height);
            assertThat(canvas.pixels).as("frame %d", frame).isEqualTo(desktop.pixels);
            assertThat(frameMessages).as("frame %d", frame).anyMatch(m -> m instanceof CopyRect);
            int tilePixels = frameMessages.stream().filter(m -> m instanceof Tile).mapToInt(m -> ((Tile) m).w() * ((Tile) m).h()).sum();
            assertThat(tilePixels).as("frame %d: tiles cover about the new line only", frame)
                    .isLessThan(desktop.width * desktop.height / 4);
        }
    }

    @Test
    void shouldKeepTheCanvasRightWhenTheDesktopsOwnCopyRectComesBeforeTheDetectedScroll() {
        open();
        // The desktop's own CopyRect (already applied to the framebuffer): the top band moves down by 40 rows.
        int[] band = region(0, 0, desktop.width, 60);
        for (int r = 0; r < 60; r++) System.arraycopy(band, r * desktop.width, desktop.pixels, (40 + r) * desktop.width, desktop.width);
        core.onCopyRect(0, 0, 0, 40, desktop.width, 60);
        update(-1, 0, 0, 0);
        assertThat(canvas.pixels).isEqualTo(desktop.pixels);
        // Next frame: the lower half scrolls as a terminal does; the model must include the copy above.
        scrollUp(120, desktop.height);
        update(0, 120, desktop.width, desktop.height - 120);
        assertThat(canvas.pixels).isEqualTo(desktop.pixels);
    }

    @Test
    void shouldRedrawRightAfterARefreshAndAResize() {
        open();
        core.refresh(now);
        drawAndAck();
        desktop.resize(256, 192);
        for (int y = 0; y < desktop.height; y++) textRow(y);
        core.onDesktopSize(desktop.width, desktop.height);
        core.onUpdateEnd(now);
        drawAndAck();
        assertThat(canvas.pixels).isEqualTo(desktop.pixels);
        scrollUp(0, desktop.height);
        update(0, 0, desktop.width, desktop.height);
        assertThat(canvas.pixels).isEqualTo(desktop.pixels);
    }

    /** ServerInit, a browser, the first full update drawn on a fresh canvas. */
    private void open() {
        core.onServerInit(desktop.width, desktop.height, now);
        core.onUpMessage(new RefreshRequest(), now);
        core.onRect(0, 0, desktop.width, desktop.height);
        core.onUpdateEnd(now);
        drawAndAck();
        assertThat(canvas.pixels).isEqualTo(desktop.pixels);
    }

    /** One RFB update damaging the rectangle (none when {@code x} is negative); returns the frame's messages. */
    private List<StreamMessage> update(int x, int y, int w, int h) {
        now += 20 * MS;
        if (x >= 0) core.onRect(x, y, w, h);
        core.onUpdateEnd(now);
        return drawAndAck();
    }

    /** Draws what the core sent as a browser would, acknowledges the frame, and returns what was drawn. */
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

    /** Rows {@code top..bottom-1} move up by one text line; a fresh line of text appears at the bottom. */
    private void scrollUp(int top, int bottom) {
        int w = desktop.width;
        System.arraycopy(desktop.pixels, (top + LINE) * w, desktop.pixels, top * w, (bottom - top - LINE) * w);
        for (int y = bottom - LINE; y < bottom; y++) textRow(y);
    }

    /** A row of a text line: a white background with dark glyph strokes at random columns. */
    private void textRow(int y) {
        int w = desktop.width;
        for (int x = 0; x < w; x++) desktop.pixels[y * w + x] = random.nextInt(5) == 0 ? 0x202020 : 0xffffff;
    }

    private int[] region(int x, int y, int w, int h) {
        int[] out = new int[w * h];
        for (int r = 0; r < h; r++) System.arraycopy(desktop.pixels, (y + r) * desktop.width + x, out, r * w, w);
        return out;
    }
}
