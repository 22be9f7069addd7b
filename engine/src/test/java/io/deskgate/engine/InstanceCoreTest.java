package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.Status;
import io.deskgate.encode.EncoderConfig;
import io.deskgate.wire.StreamMessage;
import io.deskgate.wire.StreamMessage.ClientClipboard;
import io.deskgate.wire.StreamMessage.CopyRect;
import io.deskgate.wire.StreamMessage.FrameAck;
import io.deskgate.wire.StreamMessage.FrameEnd;
import io.deskgate.wire.StreamMessage.Key;
import io.deskgate.wire.StreamMessage.Pointer;
import io.deskgate.wire.StreamMessage.RefreshRequest;
import io.deskgate.wire.StreamMessage.Resize;
import io.deskgate.wire.StreamMessage.ResizeRequest;
import io.deskgate.wire.StreamMessage.ServerClipboard;
import io.deskgate.wire.StreamMessage.StatusMessage;
import io.deskgate.wire.StreamMessage.Tile;
import io.deskgate.wire.StreamMessage.ViewerLeft;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The transcoding instance's protocol logic with a fake desktop and a fake clock (docs/protocol.md §1). */
class InstanceCoreTest {
    static final long MS = 1_000_000L;
    static final long GRACE = InstanceCore.DEFAULT_VIEWER_GRACE_NS;
    static final long ATTACH_GRACE = InstanceCore.DEFAULT_ATTACH_GRACE_NS;
    static final long PEER_LOST = InstanceCore.DEFAULT_PEER_LOST_NS;
    static final long SECOND = 1_000 * MS;

    final FakeDesktop desktop = new FakeDesktop(200, 150);
    final List<StreamMessage> sent = new ArrayList<>();
    final InstanceCore core = new InstanceCore(desktop, (m, now) -> sent.add(m), EncoderConfig.defaults());
    long now = 5_000 * MS;

    @AfterEach
    void close() {
        core.close();
    }

    @Test
    void shouldAnnounceTheSizeAndAskForTheWholePictureOnServerInit() {
        core.onServerInit(200, 150, now);
        assertThat(sent).containsExactly(new Resize(200, 150));
        assertThat(desktop.requests).containsExactly(false);
        assertThat(core.isReady()).isTrue();
    }

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
        assertThat(core.lagMicros()).isEqualTo(40_000);
        assertThat(core.averageLagMicros()).isEqualTo(40_000 / 8); // start() acknowledged its frame with no lag

        frame(1, 1);
        long sentAt2 = frameEnds().get(1).serverTimeMicros();
        now += 120 * MS;
        core.onUpMessage(new FrameAck(frameBase + 1, sentAt2), now);
        assertThat(core.lagMicros()).isEqualTo(120_000);
        assertThat(core.averageLagMicros()).isEqualTo(5_000 + (120_000 - 5_000) / 8);
    }

    @Test
    void shouldIgnoreAnEchoedTimestampFromTheFuture() {
        start();
        frame(0, 0);
        now += 25 * MS;
        core.onUpMessage(new FrameAck(frameBase, now / 1000 + 1_000_000), now);
        assertThat(core.framesInFlight()).isZero();
        assertThat(core.lagMicros()).isZero(); // still the lag of start()'s frame
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
    void shouldSendNoFrameForAnEmptyUpdateButAskAgain() {
        start();
        core.onUpdateEnd(now);
        assertThat(sent).isEmpty();
        assertThat(core.framesSent()).isEqualTo(frameBase);
        assertThat(desktop.requests).containsExactly(true);
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
        core.end(Status.SESSION_ENDED, "desktop closed the connection", now);
        assertThat(sent).containsExactly(new ServerClipboard("copied"),
                new StatusMessage(Status.SESSION_ENDED.protocolCode(), "desktop closed the connection"));
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
            if (m instanceof CopyRect c) assertThat(c.srcX() + c.w() <= 200 && c.dstY() + c.h() <= 150).as("%s", c).isTrue();
        });
    }

    // ------------------------------------------------------------ viewer presence (docs/protocol.md §1.2)

    @Test
    void shouldReportTheViewerGoneOnlyOnceTheGraceHasPassedAfterViewerLeft() {
        start();
        core.onUpMessage(new ViewerLeft(), now);
        assertThat(core.viewerAttached()).isFalse();
        core.tick(now + GRACE - 1);
        assertThat(core.viewerGone()).isFalse();
        core.tick(now + GRACE);
        assertThat(core.viewerGone()).isTrue();
        assertThat(sent).as("nothing streamed to nobody").isEmpty();
    }

    @Test
    void shouldHonourAConfiguredViewerGrace() {
        try (InstanceCore shortGrace = new InstanceCore(desktop, (m, t) -> sent.add(m), EncoderConfig.defaults(), 200 * MS)) {
            shortGrace.onServerInit(desktop.width, desktop.height, now);
            shortGrace.onUpMessage(new RefreshRequest(), now);
            shortGrace.onUpMessage(new ViewerLeft(), now);
            shortGrace.tick(now + 199 * MS);
            assertThat(shortGrace.viewerGone()).isFalse();
            shortGrace.tick(now + 200 * MS);
            assertThat(shortGrace.viewerGone()).isTrue();
        }
    }

    @Test
    void shouldNeverReportTheViewerGoneWhileABrowserIsAttached() {
        start();
        core.tick(now + 10 * GRACE);
        assertThat(core.viewerAttached()).isTrue();
        assertThat(core.viewerGone()).isFalse();
    }

    @Test
    void shouldCancelTheGraceAndResendTheWholePictureWhenABrowserReattaches() {
        start();
        core.onUpMessage(new ViewerLeft(), now);
        now += GRACE / 2;
        core.onUpMessage(new RefreshRequest(), now);
        assertThat(core.viewerAttached()).isTrue();
        assertThat(sent.getFirst()).isEqualTo(new Resize(200, 150));
        long area = sent.stream().filter(m -> m instanceof Tile).mapToLong(m -> (long) ((Tile) m).w() * ((Tile) m).h()).sum();
        assertThat(area).isEqualTo(200 * 150);
        core.tick(now + GRACE);
        assertThat(core.viewerGone()).isFalse();
    }

    static List<StreamMessage> browserMessages() {
        return List.of(new Key(true, 0x61), new Pointer(1, 1, 0), new FrameAck(0, 0), new ClientClipboard("x"),
                new ResizeRequest(640, 480), new RefreshRequest());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("browserMessages")
    void shouldCancelTheGraceOnAnyUpMessageFromABrowser(StreamMessage fromBrowser) {
        start();
        core.onUpMessage(new ViewerLeft(), now);
        core.onUpMessage(fromBrowser, now + GRACE - 1);
        core.tick(now + 2 * GRACE);
        assertThat(core.viewerAttached()).isTrue();
        assertThat(core.viewerGone()).isFalse();
    }

    @Test
    void shouldCountTheGraceFromTheFirstViewerLeft() {
        start();
        core.onUpMessage(new ViewerLeft(), now);
        core.onUpMessage(new ViewerLeft(), now + GRACE / 2);
        core.tick(now + GRACE);
        assertThat(core.viewerGone()).isTrue();
    }

    @Test
    void shouldStartANewGraceWhenTheViewerLeavesAgainAfterComingBack() {
        start();
        core.onUpMessage(new ViewerLeft(), now);
        core.onUpMessage(new RefreshRequest(), now + GRACE / 2);
        core.onUpMessage(new ViewerLeft(), now + GRACE / 2 + MS);
        core.tick(now + GRACE + GRACE / 2);
        assertThat(core.viewerGone()).isFalse();
        core.tick(now + GRACE + GRACE / 2 + MS);
        assertThat(core.viewerGone()).isTrue();
    }

    @Test
    void shouldStayGoneWhenABrowserComesBackAfterTheGrace() {
        start();
        core.onUpMessage(new ViewerLeft(), now);
        core.tick(now + GRACE);
        core.onUpMessage(new RefreshRequest(), now + GRACE + MS);
        assertThat(core.viewerGone()).isTrue();
        assertThat(core.viewerAttached()).isFalse();
    }

    @Test
    void shouldRequestNoUpdatesAndSendNoFramesWhileNoViewerIsAttached() {
        start();
        frame(0, 0);
        frame(1, 1); // two frames in flight, never to be acknowledged
        desktop.requests.clear();
        sent.clear();
        core.onUpMessage(new ViewerLeft(), now);
        core.onRect(0, 0, 1, 1); // an update requested before the viewer left still arrives
        core.onUpdateEnd(now);
        core.tick(now + 2 * InstanceCore.DEFAULT_STALL_TIMEOUT_NS); // the stall safety net would ask again
        core.refresh(now); // a stream refresh (gateway restart) with nobody to see it
        assertThat(desktop.requests).isEmpty();
        assertThat(core.updateRequested()).isFalse();
        assertThat(sent).isEmpty();

        core.onUpMessage(new RefreshRequest(), now + MS); // re-attach
        assertThat(desktop.requests).containsExactly(true);
        assertThat(sent.getLast()).isInstanceOf(FrameEnd.class);
    }

    @Test
    void shouldSendTheDamageKeptWhileDetachedWhenTheViewerComesBackWithInput() {
        start();
        core.onUpMessage(new ViewerLeft(), now);
        desktop.pixels[70] = 0xabcdef;
        core.onRect(70, 0, 1, 1); // the outstanding update, kept as damage
        core.onUpdateEnd(now);
        assertThat(sent).isEmpty();
        core.onUpMessage(new Key(true, 0x61), now); // back, without a refresh
        assertThat(desktop.requests).containsExactly(true);
        core.onUpdateEnd(now); // the next (empty) update carries the kept damage
        assertThat(tile(0)).extracting(Tile::x, Tile::y).containsExactly(64, 0);
        assertThat(sent.getLast()).isInstanceOf(FrameEnd.class);
    }

    // ------------------------------------------------------------ attach grace and lost gateway (§1.2)

    @Test
    void shouldKeepTheFirstPictureUntilABrowserAttachesThenSendItWhole() {
        core.onServerInit(desktop.width, desktop.height, now);
        core.onRect(0, 0, desktop.width, desktop.height); // the first full update arrives before any browser
        core.onUpdateEnd(now);
        assertThat(sent).containsExactly(new Resize(200, 150));
        assertThat(desktop.requests).as("no incremental update for nobody").containsExactly(false);
        assertThat(core.viewerAttached()).isFalse();

        now += 3_000 * MS;
        core.onUpMessage(new RefreshRequest(), now); // the gateway's attach of the launch's browser
        assertThat(core.viewerAttached()).isTrue();
        assertThat(core.everAttached()).isTrue();
        long area = sent.stream().filter(m -> m instanceof Tile).mapToLong(m -> (long) ((Tile) m).w() * ((Tile) m).h()).sum();
        assertThat(area).isEqualTo(200 * 150);
        assertThat(sent.getLast()).isEqualTo(new FrameEnd(0, now / 1000));
        assertThat(desktop.requests).containsExactly(false, true);
    }

    @Test
    void shouldReportTheViewerGoneWhenNoBrowserAttachesWithinTheAttachGraceOfServerInit() {
        core.tick(now + 10 * ATTACH_GRACE); // not ready yet: the grace has not started
        assertThat(core.viewerGone()).isFalse();
        now += 10 * ATTACH_GRACE;
        core.onServerInit(desktop.width, desktop.height, now);
        core.tick(now + ATTACH_GRACE - 1);
        assertThat(core.viewerGone()).isFalse();
        core.tick(now + ATTACH_GRACE);
        assertThat(core.viewerGone()).isTrue();
        assertThat(core.everAttached()).isFalse();
        assertThat(sent).containsExactly(new Resize(200, 150));
    }

    @Test
    void shouldDefaultTheAttachGraceShorterThanTheViewerGrace() {
        assertThat(ATTACH_GRACE).isEqualTo(30 * SECOND).isLessThan(GRACE);
        assertThat(core.graceNs()).isEqualTo(ATTACH_GRACE);
        start();
        assertThat(core.graceNs()).isEqualTo(GRACE);
    }

    @Test
    void shouldCountTheAttachGraceFromServerInitEvenAfterAViewerLeftFromNobody() {
        core.onServerInit(desktop.width, desktop.height, now);
        core.onUpMessage(new ViewerLeft(), now + ATTACH_GRACE / 2); // no browser was attached: nothing changes
        core.tick(now + ATTACH_GRACE);
        assertThat(core.viewerGone()).isTrue();
    }

    @Test
    void shouldCountABrowserThatSpokeBeforeServerInitAsAttached() {
        core.onUpMessage(new RefreshRequest(), now); // the gateway's attach reached the engine first
        core.onServerInit(desktop.width, desktop.height, now + MS);
        core.tick(now + 10 * GRACE);
        assertThat(core.viewerAttached()).isTrue();
        assertThat(core.viewerGone()).isFalse();
    }

    @Test
    void shouldUseTheViewerGraceNotTheAttachGraceOnceABrowserHasAttached() {
        start();
        core.onUpMessage(new ViewerLeft(), now);
        core.tick(now + ATTACH_GRACE);
        assertThat(core.viewerGone()).isFalse();
        core.tick(now + GRACE);
        assertThat(core.viewerGone()).isTrue();
    }

    @Test
    void shouldHonourAConfiguredAttachGrace() {
        InstanceCore.Limits limits = InstanceCore.Limits.defaults().withAttachGraceNs(300 * MS);
        try (InstanceCore shortAttach = new InstanceCore(desktop, (m, t) -> sent.add(m), EncoderConfig.defaults(), limits)) {
            shortAttach.onServerInit(desktop.width, desktop.height, now);
            shortAttach.tick(now + 299 * MS);
            assertThat(shortAttach.viewerGone()).isFalse();
            shortAttach.tick(now + 300 * MS);
            assertThat(shortAttach.viewerGone()).isTrue();
        }
    }

    @Test
    void shouldReportThePeerLostOnlyOnceTheGatewayStaysTimedOutForPeerLost() {
        start();
        core.onPeerTimeout(false, now);
        core.onPeerTimeout(true, now + SECOND);
        core.onPeerTimeout(true, now + SECOND + PEER_LOST - 1);
        assertThat(core.peerLost()).isFalse();
        core.onPeerTimeout(true, now + SECOND + PEER_LOST);
        assertThat(core.peerLost()).isTrue();
        core.onPeerTimeout(false, now + 2 * PEER_LOST);
        assertThat(core.peerLost()).as("sticky").isTrue();
    }

    @Test
    void shouldRestartThePeerLostClockWhenTheGatewayIsHeardAgain() {
        start();
        core.onPeerTimeout(true, now);
        core.onPeerTimeout(false, now + PEER_LOST - MS);
        core.onPeerTimeout(true, now + PEER_LOST);
        core.onPeerTimeout(true, now + 2 * PEER_LOST - 1);
        assertThat(core.peerLost()).isFalse();
        core.onPeerTimeout(true, now + 2 * PEER_LOST);
        assertThat(core.peerLost()).isTrue();
    }

    // ------------------------------------------------------------ held input

    @Test
    void shouldReleaseHeldKeysAndButtonsWhenTheViewerLeaves() {
        start();
        core.onUpMessage(new Key(true, 0xffe1), now); // Shift
        core.onUpMessage(new Key(true, 0x61), now);
        core.onUpMessage(new Key(true, 0x62), now);
        core.onUpMessage(new Key(false, 0x62), now);
        core.onUpMessage(new Pointer(50, 60, 1), now);
        core.onUpMessage(new Pointer(500, 80, 5), now); // a drag to the right edge
        desktop.inputs.clear();
        core.onUpMessage(new ViewerLeft(), now);
        assertThat(desktop.inputs).containsExactly("key up ffe1", "key up 61", "pointer 199,80 0");
    }

    @Test
    void shouldReleaseNothingWhenNothingIsHeld() {
        start();
        core.onUpMessage(new Key(true, 0x61), now);
        core.onUpMessage(new Key(false, 0x61), now);
        core.onUpMessage(new Pointer(5, 6, 1), now);
        core.onUpMessage(new Pointer(7, 8, 0), now);
        desktop.inputs.clear();
        core.onUpMessage(new ViewerLeft(), now);
        core.tick(now + GRACE);
        assertThat(core.viewerGone()).isTrue();
        assertThat(desktop.inputs).isEmpty();
    }

    @Test
    void shouldReleaseEachHeldKeyOnlyOnceAcrossLeaveAndReattach() {
        start();
        core.onUpMessage(new Key(true, 0x61), now);
        core.onUpMessage(new ViewerLeft(), now);
        core.onUpMessage(new RefreshRequest(), now + SECOND); // a browser re-attaches
        assertThat(desktop.inputs).containsExactly("key down 61", "key up 61");

        core.onUpMessage(new Key(true, 0x63), now + 2 * SECOND); // the new browser holds a key
        core.onUpMessage(new Pointer(10, 20, 4), now + 2 * SECOND);
        core.onUpMessage(new ViewerLeft(), now + 3 * SECOND);
        assertThat(desktop.inputs).endsWith("key up 63", "pointer 10,20 0");
    }

    @Test
    void shouldReleaseHeldInputWhenTheGatewayIsLost() {
        start();
        core.onUpMessage(new Key(true, 0xff0d), now);
        core.onUpMessage(new Pointer(3, 4, 2), now);
        desktop.inputs.clear();
        core.onPeerTimeout(true, now);
        core.onPeerTimeout(true, now + PEER_LOST);
        assertThat(desktop.inputs).containsExactly("key up ff0d", "pointer 3,4 0");
    }

    @Test
    void shouldRememberAtMostABoundedNumberOfHeldKeys() {
        start();
        for (int k = 0; k < 1_000; k++) core.onUpMessage(new Key(true, 0x1000 + k), now);
        assertThat(desktop.inputs).hasSize(1_000); // every press still reaches the desktop
        desktop.inputs.clear();
        core.onUpMessage(new ViewerLeft(), now);
        assertThat(desktop.inputs).hasSize(InstanceCore.MAX_KEYS_HELD).allMatch(in -> in.startsWith("key up "));
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
        assertThat(maxOutstanding).isLessThanOrEqualTo(InstanceCore.DEFAULT_MAX_FRAMES_IN_FLIGHT + safetyFrames);
        assertThat(core.framesSent()).as("the stream keeps moving").isGreaterThan(120 / 5);
    }

    // ------------------------------------------------------------ helpers

    /** The desktop is ready, the gateway attached a browser, the first full update is drawn and acknowledged. */
    void start() {
        core.onServerInit(desktop.width, desktop.height, now);
        core.onUpMessage(new RefreshRequest(), now); // the gateway's attach: the first picture is still on its way
        sent.clear();
        core.onRect(0, 0, desktop.width, desktop.height); // the first full update, as Xvnc sends it
        core.onUpdateEnd(now);
        assertThat(core.viewerAttached()).isTrue();
        core.onUpMessage(new FrameAck(core.framesSent() - 1, now / 1000), now);
        assertThat(core.framesInFlight()).isZero();
        assertThat(core.updateRequested()).isTrue();
        sent.clear();
        desktop.requests.clear();
        frameBase = core.framesSent();
    }

    long frameBase;

    /** One update with one dirty tile; expects its FrameEnd to carry id {@code frameBase + n}. */
    void frame(int n, int tileColumn) {
        now += 10 * MS;
        desktop.pixels[tileColumn * 64] = 0x123456 + n;
        core.onRect(tileColumn * 64, 0, 1, 1);
        core.onUpdateEnd(now);
        assertThat(frameEnds().getLast().frameId()).isEqualTo(frameBase + n);
    }

    List<FrameEnd> frameEnds() {
        return sent.stream().filter(m -> m instanceof FrameEnd).map(FrameEnd.class::cast).toList();
    }

    Tile tile(int index) {
        return (Tile) sent.get(index);
    }

    static final class FakeDesktop implements Desktop {
        int width;
        int height;
        int[] pixels;
        final List<Boolean> requests = new ArrayList<>();
        final List<String> inputs = new ArrayList<>();

        FakeDesktop(int width, int height) {
            resize(width, height);
        }

        void resize(int w, int h) {
            width = w;
            height = h;
            pixels = new int[w * h];
            for (int i = 0; i < pixels.length; i++) pixels[i] = (i % w / 8 + i / w / 8) % 2 == 0 ? 0xffffff : 0x000080;
        }

        @Override public int width() { return width; }
        @Override public int height() { return height; }
        @Override public int[] pixels() { return pixels; }
        @Override public void requestUpdate(boolean incremental) { requests.add(incremental); }
        @Override public void keyEvent(boolean down, long keysym) { inputs.add("key " + (down ? "down " : "up ") + Long.toHexString(keysym)); }
        @Override public void pointerEvent(int x, int y, int buttonMask) { inputs.add("pointer " + x + "," + y + " " + buttonMask); }
        @Override public void clientCutText(String text) { inputs.add("cut " + text); }
    }
}
