package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.Status;
import io.deskgate.stream.StreamMessage.ClientClipboard;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.FrameAck;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.Key;
import io.deskgate.stream.StreamMessage.Pointer;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.Resize;
import io.deskgate.stream.StreamMessage.ResizeRequest;
import io.deskgate.stream.StreamMessage.ServerClipboard;
import io.deskgate.stream.StreamMessage.StatusMessage;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.StreamMessage.ViewerLeft;
import org.junit.jupiter.api.Test;

/**
 * The transcoding instance's protocol logic with a fake desktop and a fake clock (docs/protocol.md §1): server init,
 * desktop resize, input and clipboard, and invariants under random events. Frames and flow control are in
 * {@link InstanceCoreFlowTest}; viewer presence and held input in {@link InstanceCoreViewerTest}.
 */
class InstanceCoreTest extends InstanceCoreFixture {
    @Test
    void shouldAnnounceTheSizeAndAskForTheWholePictureOnServerInit() {
        core.onServerInit(200, 150, now);
        assertThat(sent).containsExactly(new Resize(200, 150));
        assertThat(desktop.requests).containsExactly(false);
        assertThat(core.isReady()).isTrue();
    }

    @Test
    void shouldNotRefreshBeforeServerInit() {
        core.refresh(now);
        core.onUpMessage(new Key(true, 0x61), now);
        core.onUpMessage(new Pointer(1, 1, 0), now);
        assertThat(sent).isEmpty();
        assertThat(desktop.inputs).isEmpty();
    }

    @Test
    void shouldResizeAndResendEveryTileOnDesktopSize() {
        start();
        desktop.resize(100, 70);
        core.onDesktopSize(100, 70);
        core.onUpdateEnd(now);
        assertThat(sent.get(0)).isEqualTo(new Resize(100, 70));
        long area = sent.stream().filter(m -> m instanceof Tile).mapToLong(m -> (long) ((Tile) m).w() * ((Tile) m).h()).sum();
        assertThat(area).isEqualTo(100 * 70);
        assertThat(sent.getLast()).isInstanceOf(FrameEnd.class);
    }

    @Test
    void shouldPassInputToTheDesktopClampingThePointer() {
        start();
        core.onUpMessage(new Key(true, 0xff0d), now);
        core.onUpMessage(new Key(false, 0xff0d), now);
        core.onUpMessage(new Pointer(500, 149, 1), now);
        core.onUpMessage(new ClientClipboard("hello"), now);
        core.onUpMessage(new ResizeRequest(800, 600), now);
        assertThat(desktop.inputs).containsExactly("key down ff0d", "key up ff0d", "pointer 199,149 1", "cut hello");
        assertThat(sent).isEmpty();
    }

    @Test
    void shouldForwardServerClipboardAndEndStatus() {
        start();
        core.onServerCutText("copied", now);
        core.end(EndReason.desktopClosed(), now);
        assertThat(sent).containsExactly(new ServerClipboard("copied"),
                new StatusMessage(Status.SESSION_ENDED.protocolCode(), "the desktop closed the connection"));
    }

    @Test
    void shouldKeepItsInvariantsUnderRandomUpMessagesAndRfbEvents() {
        java.util.Random random = new java.util.Random(2024);
        start();
        for (int i = 0; i < 5_000; i++) {
            now += random.nextInt(50) * MS;
            switch (random.nextInt(10)) {
                case 0 -> core.onUpMessage(new FrameAck(random.nextLong(0, 1L << 32), random.nextLong(0, Long.MAX_VALUE)), now);
                case 1 -> core.onUpMessage(new FrameAck(core.framesSent() - 1 - random.nextInt(3), now / 1000 - random.nextInt(1000)), now);
                case 2 -> core.onUpMessage(new Pointer(random.nextInt(1 << 16), random.nextInt(1 << 16), random.nextInt(256)), now);
                case 3 -> core.onRect(random.nextInt(400) - 100, random.nextInt(400) - 100, random.nextInt(300), random.nextInt(300));
                case 4 -> core.onCopyRect(random.nextInt(300) - 50, random.nextInt(300) - 50, random.nextInt(300) - 50,
                        random.nextInt(300) - 50, random.nextInt(100), random.nextInt(100));
                case 5 -> core.onUpdateEnd(now);
                case 6 -> core.tick(now);
                case 7 -> core.onUpMessage(new RefreshRequest(), now);
                case 8 -> core.onUpMessage(new ViewerLeft(), now);
                default -> core.onUpMessage(new Key(random.nextBoolean(), random.nextLong(0, 1L << 32)), now);
            }
            assertThat(core.framesInFlight()).isBetween(0, (int) core.framesSent());
        }
        assertThat(desktop.inputs).allSatisfy(in -> {
            if (in.startsWith("pointer ")) {
                String[] xy = in.substring(8, in.indexOf(' ', 8)).split(",");
                assertThat(Integer.parseInt(xy[0])).isBetween(0, desktop.width - 1);
                assertThat(Integer.parseInt(xy[1])).isBetween(0, desktop.height - 1);
            }
        });
        // every tile and copy lies inside the desktop (docs/protocol.md §1.1)
        assertThat(sent).allSatisfy(m -> {
            if (m instanceof Tile t) assertThat(t.x() + t.w() <= 200 && t.y() + t.h() <= 150).as("%s", t).isTrue();
            if (m instanceof CopyRect c) {
                assertThat(c.w()).as("%s", c).isPositive();
                assertThat(c.h()).as("%s", c).isPositive();
                assertThat(c.srcX()).as("%s", c).isBetween(0, 200 - c.w());
                assertThat(c.dstX()).as("%s", c).isBetween(0, 200 - c.w());
                assertThat(c.srcY()).as("%s", c).isBetween(0, 150 - c.h());
                assertThat(c.dstY()).as("%s", c).isBetween(0, 150 - c.h());
            }
        });
    }
}
