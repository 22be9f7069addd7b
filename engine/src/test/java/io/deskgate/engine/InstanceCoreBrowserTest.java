package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.stream.StreamMessage.Cursor;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.Resize;
import io.deskgate.stream.StreamMessage.ResizeRequest;
import org.junit.jupiter.api.Test;

/**
 * What {@link InstanceCore} does for the browser's local cursor and window size (docs/protocol.md §1): the desktop's
 * cursor goes down as {@code CURSOR} (RGBA, hot spot) and again with every refresh; {@code RESIZE_REQUEST} becomes a
 * bounded, rate-limited SetDesktopSize once the desktop has offered ExtendedDesktopSize.
 */
class InstanceCoreBrowserTest extends InstanceCoreFixture {
    @Test
    void shouldForwardTheCursorAsRgbaAndResendItWithARefresh() {
        start();
        core.onCursor(2, 1, 1, 0, new int[] {0xff102030, 0x00405060}, now);
        Cursor expected = new Cursor(1, 0, 2, 1, new byte[] {0x10, 0x20, 0x30, (byte) 0xff, 0x40, 0x50, 0x60, 0});
        assertThat(sent).containsExactly(expected);
        sent.clear();
        core.onUpMessage(new RefreshRequest(), now);
        assertThat(sent.get(0)).isEqualTo(new Resize(200, 150));
        assertThat(sent.get(1)).isEqualTo(expected);
    }

    @Test
    void shouldKeepACursorThatArrivesBeforeABrowserForItsFirstRefresh() {
        core.onServerInit(200, 150, now);
        sent.clear();
        core.onCursor(0, 0, 0, 0, new int[0], now);
        assertThat(sent).isEmpty();
        core.onUpMessage(new RefreshRequest(), now);
        assertThat(sent).contains(new Cursor(0, 0, 0, 0, new byte[0]));
    }

    @Test
    void shouldKeepAResizeRequestUntilTheDesktopOffersExtendedDesktopSize() {
        start();
        core.onUpMessage(new ResizeRequest(1024, 700), now);
        core.onUpMessage(new ResizeRequest(800, 600), now);
        core.tick(now + DesktopResizer.ANSWER_DEADLINE_NS);
        assertThat(desktop.inputs).as("nothing before the offer").isEmpty();
        core.onExtendedDesktopSize(false, 0, 200, 150, now);
        assertThat(desktop.inputs).as("the latest wish, asked for once the desktop offers resizing").containsExactly("set-desktop-size 800x600");
    }

    @Test
    void shouldKeepAResizeRequestThatCameBeforeTheDesktopWasReady() {
        core.onUpMessage(new ResizeRequest(800, 600), now);
        core.onServerInit(200, 150, now);
        core.onExtendedDesktopSize(false, 0, 200, 150, now);
        assertThat(desktop.inputs).containsExactly("set-desktop-size 800x600");
    }

    @Test
    void shouldClampTheRequestedSize() {
        start();
        core.onExtendedDesktopSize(false, 0, 200, 150, now);
        core.onUpMessage(new ResizeRequest(10, 65535), now);
        assertThat(desktop.inputs).containsExactly("set-desktop-size " + DesktopResizer.MIN_WIDTH + "x" + DesktopResizer.MAX_HEIGHT);
    }

    @Test
    void shouldAskOnceAtATimeAndOnlyForTheLatestWish() {
        start();
        core.onExtendedDesktopSize(false, 0, 200, 150, now);
        core.onUpMessage(new ResizeRequest(800, 600), now);
        for (int w = 801; w <= 900; w++) core.onUpMessage(new ResizeRequest(w, 600), now);
        assertThat(desktop.inputs).containsExactly("set-desktop-size 800x600");
        // The desktop's answer: the new size (DesktopSize first), then ExtendedDesktopSize for this client.
        desktop.resize(800, 600);
        core.onDesktopSize(800, 600);
        core.onExtendedDesktopSize(true, 0, 800, 600, now);
        core.onUpdateEnd(now);
        assertThat(sent).first().isEqualTo(new Resize(800, 600));
        assertThat(desktop.inputs).as("the next request waits for the minimum interval").hasSize(1);
        now += DesktopResizer.MIN_INTERVAL_NS;
        core.tick(now);
        assertThat(desktop.inputs).containsExactly("set-desktop-size 800x600", "set-desktop-size 900x600");
    }

    @Test
    void shouldAskAgainAfterTheAnswerDeadlineWhenTheDesktopNeverAnswers() {
        start();
        core.onExtendedDesktopSize(false, 0, 200, 150, now);
        core.onUpMessage(new ResizeRequest(800, 600), now);
        core.onUpMessage(new ResizeRequest(640, 480), now);
        now += DesktopResizer.ANSWER_DEADLINE_NS - 1;
        core.tick(now);
        assertThat(desktop.inputs).hasSize(1);
        now += 1;
        core.tick(now);
        assertThat(desktop.inputs).containsExactly("set-desktop-size 800x600", "set-desktop-size 640x480");
    }

    @Test
    void shouldSendNothingForARefusedResizeOrTheCurrentSize() {
        start();
        core.onExtendedDesktopSize(false, 0, 200, 150, now);
        core.onUpMessage(new ResizeRequest(320, 200), now);
        core.onExtendedDesktopSize(true, 1, 200, 150, now); // prohibited
        core.onUpdateEnd(now);
        assertThat(sent.stream().filter(m -> m instanceof Resize)).as("a refusal changes nothing in the browser").isEmpty();
        now += DesktopResizer.MIN_INTERVAL_NS;
        core.onUpMessage(new ResizeRequest(200, 150), now); // clamped to the minimum
        assertThat(desktop.inputs).containsExactly("set-desktop-size 320x200", "set-desktop-size 320x200");
        desktop.resize(320, 200);
        core.onDesktopSize(320, 200);
        core.onExtendedDesktopSize(true, 0, 320, 200, now);
        now += DesktopResizer.MIN_INTERVAL_NS;
        core.onUpMessage(new ResizeRequest(320, 200), now);
        assertThat(desktop.inputs).as("the size the desktop has already").hasSize(2);
        core.onUpdateEnd(now);
        assertThat(sent).contains(new Resize(320, 200));
    }
}
