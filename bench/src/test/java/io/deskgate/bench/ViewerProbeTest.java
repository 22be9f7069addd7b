package io.deskgate.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.Status;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.Cursor;
import io.deskgate.stream.StreamMessage.FrameAck;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.Resize;
import io.deskgate.stream.StreamMessage.StatusMessage;
import io.deskgate.stream.StreamMessage.Tile;
import org.junit.jupiter.api.Test;

/** The headless viewer's bookkeeping (docs/protocol.md §1): acknowledgements, first frame, complete picture. */
class ViewerProbeTest {

    private static Tile fill(int x, int y, int w, int h) {
        return new Tile(x, y, w, h, Tile.FORMAT_FILL, new byte[] {1, 2, 3});
    }

    @Test
    void shouldAcknowledgeEveryFrameEndEchoingItsIdAndServerTime() {
        ViewerProbe probe = new ViewerProbe(4, 4);

        assertThat(probe.onDown(fill(0, 0, 4, 4), 10)).isEmpty();
        assertThat(probe.onDown(new FrameEnd(7, 123_456_789L), 20)).containsExactly(new FrameAck(7, 123_456_789L));
        assertThat(probe.onDown(new FrameEnd(8, 5), 30)).containsExactly(new FrameAck(8, 5));
        assertThat(probe.framesReceived()).isEqualTo(2);
    }

    @Test
    void shouldCompleteThePictureOnlyAtTheFrameEndAfterEveryPixelWasPainted() {
        ViewerProbe probe = new ViewerProbe(4, 4);

        probe.onDown(fill(0, 0, 4, 2), 10);
        probe.onDown(new FrameEnd(0, 0), 11);
        assertThat(probe.firstFrameNs()).hasValue(11);
        assertThat(probe.complete()).isFalse();

        probe.onDown(fill(0, 2, 4, 2), 20);
        assertThat(probe.complete()).as("complete only at a frame end").isFalse();
        probe.onDown(new FrameEnd(1, 0), 21);
        assertThat(probe.fullPictureNs()).hasValue(21);
        assertThat(probe.firstFrameNs()).hasValue(11);

        probe.onDown(fill(0, 0, 1, 1), 30);
        probe.onDown(new FrameEnd(2, 0), 31);
        assertThat(probe.fullPictureNs()).as("the first complete frame end is kept").hasValue(21);
    }

    @Test
    void shouldCountOverlappingTilesOnce() {
        ViewerProbe probe = new ViewerProbe(4, 4);

        probe.onDown(fill(0, 0, 4, 3), 1);
        probe.onDown(fill(0, 0, 4, 3), 2);
        probe.onDown(new FrameEnd(0, 0), 3);

        assertThat(probe.complete()).isFalse();
    }

    @Test
    void shouldStartCoverageAgainAfterAResize() {
        ViewerProbe probe = new ViewerProbe(4, 4);
        probe.onDown(fill(0, 0, 4, 4), 1);

        probe.onDown(new Resize(8, 4), 2);
        probe.onDown(fill(0, 0, 4, 4), 3);
        probe.onDown(new FrameEnd(0, 0), 4);
        assertThat(probe.complete()).as("the right half of the resized canvas is blank").isFalse();

        probe.onDown(fill(4, 0, 4, 4), 5);
        probe.onDown(new FrameEnd(1, 0), 6);
        assertThat(probe.fullPictureNs()).hasValue(6);
    }

    @Test
    void shouldIgnoreTilesOutsideTheCanvas() {
        ViewerProbe probe = new ViewerProbe(4, 4);

        probe.onDown(fill(0, 0, 4, 2), 1);
        probe.onDown(fill(0, 2, 4, 3), 2); // one row too tall: ignored whole, as the browser does
        probe.onDown(new FrameEnd(0, 0), 3);

        assertThat(probe.complete()).isFalse();
    }

    @Test
    void shouldPaintACopyRectDestinationOnlyFromAPaintedSource() {
        ViewerProbe probe = new ViewerProbe(4, 2);
        probe.onDown(fill(0, 0, 2, 1), 1);

        probe.onDown(new CopyRect(0, 0, 2, 2, 2, 0), 2); // source half blank: destination stays blank
        probe.onDown(fill(0, 1, 2, 1), 3);
        probe.onDown(new FrameEnd(0, 0), 4);
        assertThat(probe.complete()).isFalse();

        probe.onDown(new CopyRect(0, 0, 2, 2, 2, 0), 5);
        probe.onDown(new FrameEnd(1, 0), 6);
        assertThat(probe.fullPictureNs()).hasValue(6);
    }

    @Test
    void shouldNotCountTheCursorAsPicture() {
        ViewerProbe probe = new ViewerProbe(2, 2);

        probe.onDown(new Cursor(0, 0, 2, 2, new byte[16]), 1);
        probe.onDown(new FrameEnd(0, 0), 2);

        assertThat(probe.complete()).isFalse();
        assertThat(probe.firstFrameNs()).hasValue(2);
    }

    @Test
    void shouldReportTheFirstNonOkStatusAsAFailure() {
        ViewerProbe probe = new ViewerProbe(2, 2);

        probe.onDown(new StatusMessage(Status.OK.protocolCode(), "fine"), 1);
        assertThat(probe.failure()).isEmpty();

        StreamMessage ended = new StatusMessage(Status.SESSION_ENDED.protocolCode(), "the desktop went away");
        probe.onDown(ended, 2);
        probe.onDown(new StatusMessage(Status.INTERNAL_ERROR.protocolCode(), "later"), 3);
        assertThat(probe.failure()).hasValueSatisfying(f -> assertThat(f).contains("the desktop went away").doesNotContain("later"));
    }
}
