package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.encode.EncoderConfig;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.FrameAck;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.Resize;
import io.deskgate.stream.StreamMessage.Tile;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Frames from the transcoding instance (docs/protocol.md §1.1, §1.2): dirty tiles and FrameEnd, flow control by
 * FrameAck with lag measurement, CopyRect forwarding, refresh, and the stall safety net with its backoff.
 */
class InstanceCoreFlowTest extends InstanceCoreFixture {
    /**
     * These tests damage rectangles without changing their pixels, to see which tiles a frame carries; the
     * encoder's motion detection would rightly send nothing for rows that did not change
     * ({@link InstanceCoreMotionTest} covers the core with it).
     */
    @Override
    EncoderConfig encoderConfig() {
        return EncoderConfig.defaults().toBuilder().motionDetection(false).build();
    }

    // ------------------------------------------------------------ frames and flow control

    @Test
    void shouldSendDirtyTilesThenFrameEndWithTheServerTimeAtUpdateEnd() {
        start();
        core.onRect(10, 10, 5, 5);
        core.onRect(195, 140, 5, 10);
        core.onUpdateEnd(now);
        assertThat(sent).hasSize(3);
        assertThat(tile(0)).extracting(Tile::x, Tile::y, Tile::w, Tile::h).containsExactly(0, 0, 64, 64);
        assertThat(tile(1)).extracting(Tile::x, Tile::y, Tile::w, Tile::h).containsExactly(192, 128, 8, 22);
        assertThat(sent.get(2)).isEqualTo(new FrameEnd(frameBase, now / 1000));
        assertThat(core.framesInFlight()).isEqualTo(1);
        assertThat(desktop.requests).containsExactly(true); // one frame in flight: ask for the next
    }

    @Test
    void shouldStopRequestingUpdatesWithTwoFramesInFlightUntilAnAckArrives() { // docs/protocol.md §1.2
        start();
        frame(0, 0);
        frame(1, 1);
        assertThat(core.framesInFlight()).isEqualTo(2);
        assertThat(desktop.requests).containsExactly(true); // after the first frame only
        assertThat(core.updateRequested()).isFalse();

        now += 30 * MS;
        core.onUpMessage(new FrameAck(frameBase, frameEnds().get(0).serverTimeMicros()), now);
        assertThat(core.framesInFlight()).isEqualTo(1);
        assertThat(desktop.requests).containsExactly(true, true);

        core.onUpMessage(new FrameAck(frameBase, 0), now); // a duplicate changes nothing
        core.onUpMessage(new FrameAck(frameBase + 7, 0), now); // a frame never sent changes nothing
        assertThat(core.framesInFlight()).isEqualTo(1);
        assertThat(desktop.requests).hasSize(2);
    }

    @Test
    void shouldAcknowledgeEveryEarlierFrameWithTheLatestAck() {
        start();
        frame(0, 0);
        frame(1, 1);
        core.onUpMessage(new FrameAck(frameBase + 1, 0), now);
        assertThat(core.framesInFlight()).isZero();
    }

    @Test
    void shouldMeasureLagFromTheEchoedTimestampAndKeepAMovingAverage() {
        start();
        frame(0, 0);
        long sentAt = frameEnds().get(0).serverTimeMicros();
        now += 40 * MS;
        core.onUpMessage(new FrameAck(frameBase, sentAt), now);
        assertThat(core.flow().lagMicros()).isEqualTo(40_000);
        assertThat(core.flow().averageLagMicros()).isEqualTo(40_000 / 8); // start() acknowledged its frame with no lag

        frame(1, 1);
        long sentAt2 = frameEnds().get(1).serverTimeMicros();
        now += 120 * MS;
        core.onUpMessage(new FrameAck(frameBase + 1, sentAt2), now);
        assertThat(core.flow().lagMicros()).isEqualTo(120_000);
        assertThat(core.flow().averageLagMicros()).isEqualTo(5_000 + (120_000 - 5_000) / 8);
        assertThat(lags).as("every lag measured is handed to whoever chooses quality")
                .extracting(l -> l[0] + "/" + l[1]).containsExactly("0/0", "40000/5000", "120000/" + (5_000 + (120_000 - 5_000) / 8));
    }

    @Test
    void shouldIgnoreAnEchoedTimestampFromTheFuture() {
        start();
        frame(0, 0);
        now += 25 * MS;
        core.onUpMessage(new FrameAck(frameBase, now / 1000 + 1_000_000), now);
        assertThat(core.framesInFlight()).isZero();
        assertThat(core.flow().lagMicros()).isZero(); // still the lag of start()'s frame
    }

    @Test
    void shouldLetOneMoreFrameThroughWhenAcksStallForTheSafetyTimeout() {
        start();
        frame(0, 0);
        frame(1, 1);
        now += 999 * MS;
        core.tick(now);
        assertThat(desktop.requests).containsExactly(true);
        now += MS;
        core.tick(now);
        assertThat(core.framesInFlight()).isEqualTo(1);
        assertThat(desktop.requests).containsExactly(true, true);
    }

    // ------------------------------------------------------------ CopyRect

    @Test
    void shouldForwardCopyRectsThatComeBeforeAnyOtherDamage() {
        start();
        core.onCopyRect(0, 0, 64, 64, 32, 32);
        core.onCopyRect(100, 0, 0, 100, 10, 10); // still no other damage: the canvas holds the source
        core.onRect(0, 0, 1, 1);
        core.onUpdateEnd(now);
        assertThat(sent.subList(0, 2)).containsExactly(new CopyRect(0, 0, 32, 32, 64, 64), new CopyRect(100, 0, 10, 10, 0, 100));
        assertThat(sent.get(2)).isInstanceOf(Tile.class);
        assertThat(sent).hasSize(4);
    }

    @Test
    void shouldTurnACopyRectAfterOtherDamageIntoDamageOfItsDestination() {
        start();
        core.onRect(0, 0, 1, 1);
        core.onCopyRect(0, 0, 130, 70, 10, 10); // the source tile is dirty: the canvas does not hold it yet
        core.onUpdateEnd(now);
        assertThat(sent).noneMatch(m -> m instanceof CopyRect);
        assertThat(sent).filteredOn(m -> m instanceof Tile).map(m -> ((Tile) m).x() + "," + ((Tile) m).y())
                .containsExactly("0,0", "128,64");
    }

    @Test
    void shouldTreatACopyRectOutsideTheFramebufferAsDamage() {
        start();
        core.onCopyRect(190, 0, 0, 0, 20, 10);
        core.onUpdateEnd(now);
        assertThat(sent).noneMatch(m -> m instanceof CopyRect);
        assertThat(tile(0)).extracting(Tile::x, Tile::y).containsExactly(0, 0);
    }

    // ------------------------------------------------------------ refresh

    @Test
    void shouldSendTheWholeFramebufferOnRefreshRequest() {
        start();
        core.onUpMessage(new RefreshRequest(), now);
        assertThat(sent.get(0)).isEqualTo(new Resize(200, 150));
        assertThat(sent.getLast()).isEqualTo(new FrameEnd(frameBase, now / 1000));
        long area = sent.stream().filter(m -> m instanceof Tile).mapToLong(m -> (long) ((Tile) m).w() * ((Tile) m).h()).sum();
        assertThat(area).isEqualTo(200 * 150);
        assertThat(core.framesInFlight()).isEqualTo(1);
    }

    @Test
    void shouldDropPendingCopyRectsAndDamageWhenARefreshInterruptsAnUpdate() {
        start();
        core.onCopyRect(0, 0, 64, 0, 10, 10);
        core.onRect(100, 100, 1, 1);
        core.refresh(now); // the full picture already holds both
        sent.clear();
        core.onUpdateEnd(now);
        assertThat(sent).isEmpty();
    }

    @Test
    void shouldSendNoFrameForAnEmptyUpdateButAskAgain() {
        start();
        core.onUpdateEnd(now);
        assertThat(sent).isEmpty();
        assertThat(core.framesSent()).isEqualTo(frameBase);
        assertThat(desktop.requests).containsExactly(true);
    }

    // ------------------------------------------------------------ stall safety net (§1.2)

    @Test
    void shouldForgetFramesInFlightOnTheBrowsersRefreshRequest() {
        start();
        frame(0, 0);
        frame(1, 1);
        desktop.requests.clear();
        core.onUpMessage(new RefreshRequest(), now); // the gateway dropped queued frames: they are lost
        assertThat(core.framesInFlight()).as("only the refresh frame").isEqualTo(1);
        assertThat(desktop.requests).containsExactly(true);
        core.onUpMessage(new FrameAck(frameBase, 0), now); // a late ack of a superseded frame changes nothing
        assertThat(core.framesInFlight()).isEqualTo(1);
    }

    @Test
    void shouldForgetFramesInFlightWhenTheStreamNeedsARefresh() {
        start();
        frame(0, 0);
        frame(1, 1);
        core.refresh(now); // the UDP leg's refreshNeeded
        assertThat(core.framesInFlight()).isEqualTo(1);
        assertThat(core.updateRequested()).isTrue();
    }

    @Test
    void shouldBackOffTheStallSafetyNetExponentiallyUpToItsCap() {
        start();
        List<Long> frameTimes = new ArrayList<>();
        long end = now + 200 * SECOND;
        while (now < end) { // a desktop that always changes, a browser that never acknowledges
            if (core.updateRequested()) {
                desktop.pixels[0]++;
                core.onRect(0, 0, 1, 1);
                core.onUpdateEnd(now);
                frameTimes.add(now);
            }
            now += 10 * MS;
            core.tick(now);
        }
        List<Long> gapsMs = new ArrayList<>();
        for (int i = 2; i < frameTimes.size(); i++) gapsMs.add((frameTimes.get(i) - frameTimes.get(i - 1)) / MS);
        // two frames fill the window; then one safety frame after 1 s, 2 s, 4 s ... capped at 30 s
        assertThat(gapsMs).startsWith(1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 30_000L, 30_000L);
        assertThat(gapsMs.subList(5, gapsMs.size())).containsOnly(30_000L);
    }

    @Test
    void shouldResetTheStallBackoffOnAnAck() {
        start();
        frame(0, 0);
        frame(1, 1);
        for (long step : new long[] {SECOND, 2 * SECOND}) { // two safety frames: the backoff is at 4 s now
            now += step;
            core.tick(now);
            core.onRect(0, 0, 1, 1);
            core.onUpdateEnd(now);
        }
        core.onUpMessage(new FrameAck(core.framesSent() - 2, 0), now); // all but the last acknowledged
        core.onRect(0, 0, 1, 1);
        core.onUpdateEnd(now);
        assertThat(core.framesInFlight()).isEqualTo(2);
        desktop.requests.clear();
        core.tick(now + SECOND - 1);
        assertThat(desktop.requests).isEmpty();
        core.tick(now + SECOND);
        assertThat(desktop.requests).containsExactly(true);
    }

    @Test
    void shouldKeepASlowBrowserBoundedToTheLimitPlusOneSafetyFramePerBackoffPeriod() {
        long ackDelayNs = 5 * SECOND; // a browser that draws each frame 5 s after it was sent
        start();
        java.util.ArrayDeque<long[]> toAck = new java.util.ArrayDeque<>(); // {frameId, serverTimeMicros, dueNs}
        long clientAcked = core.framesSent();
        int maxOutstanding = 0;
        long end = now + 120 * SECOND;
        while (now < end) {
            if (core.updateRequested()) {
                desktop.pixels[0]++;
                core.onRect(0, 0, 1, 1);
                core.onUpdateEnd(now);
                FrameEnd f = frameEnds().getLast();
                if (toAck.isEmpty() || toAck.peekLast()[0] != f.frameId()) toAck.add(new long[] {f.frameId(), f.serverTimeMicros(), now + ackDelayNs});
            }
            while (!toAck.isEmpty() && toAck.peekFirst()[2] <= now) {
                long[] a = toAck.removeFirst();
                core.onUpMessage(new FrameAck(a[0], a[1]), now);
                clientAcked = a[0] + 1;
            }
            maxOutstanding = Math.max(maxOutstanding, (int) (core.framesSent() - clientAcked));
            now += 10 * MS;
            core.tick(now);
        }
        // Backoff periods that fit into one ack delay: 1 s and 2 s (the next, 4 s, ends after 7 s > 5 s).
        int safetyFrames = 0;
        for (long period = SECOND, elapsed = period; elapsed <= ackDelayNs; period *= 2, elapsed += period) safetyFrames++;
        assertThat(safetyFrames).isEqualTo(2);
        assertThat(maxOutstanding).isLessThanOrEqualTo(InstanceLimits.DEFAULT_MAX_FRAMES_IN_FLIGHT + safetyFrames);
        assertThat(core.framesSent()).as("the stream keeps moving").isGreaterThan(120 / 5);
    }
}
