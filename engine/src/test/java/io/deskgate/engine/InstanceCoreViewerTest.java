package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.ClientClipboard;
import io.deskgate.stream.StreamMessage.FrameAck;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.Key;
import io.deskgate.stream.StreamMessage.Pointer;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.Resize;
import io.deskgate.stream.StreamMessage.ResizeRequest;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.StreamMessage.ViewerLeft;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Viewer presence at the transcoding instance (docs/protocol.md §1.2): the viewer grace after ViewerLeft, the
 * attach grace after server init, a lost gateway, and the release of held keys and buttons.
 */
class InstanceCoreViewerTest extends InstanceCoreFixture {
    // ------------------------------------------------------------ viewer presence (docs/protocol.md §1.2)

    @Test
    void shouldReportTheViewerGoneOnlyOnceTheGraceHasPassedAfterViewerLeft() {
        start();
        core.onUpMessage(new ViewerLeft(), now);
        assertThat(core.viewerAttached()).isFalse();
        core.tick(now + GRACE - 1);
        assertThat(viewerGone()).isFalse();
        core.tick(now + GRACE);
        assertThat(cause()).isEqualTo(EndReason.Cause.VIEWER_GONE);
        assertThat(core.endReason().orElseThrow().statusText()).isEqualTo("no viewer");
        assertThat(sent).as("nothing streamed to nobody").isEmpty();
    }

    @Test
    void shouldHonourAConfiguredViewerGrace() {
        try (InstanceCore shortGrace = core(InstanceLimits.builder().viewerGraceNs(200 * MS).build())) {
            shortGrace.onServerInit(desktop.width, desktop.height, now);
            shortGrace.onUpMessage(new RefreshRequest(), now);
            shortGrace.onUpMessage(new ViewerLeft(), now);
            shortGrace.tick(now + 199 * MS);
            assertThat(shortGrace.endReason()).isEmpty();
            shortGrace.tick(now + 200 * MS);
            assertThat(shortGrace.endReason()).map(EndReason::cause).contains(EndReason.Cause.VIEWER_GONE);
        }
    }

    @Test
    void shouldNeverReportTheViewerGoneWhileABrowserIsAttached() {
        start();
        core.tick(now + 10 * GRACE);
        assertThat(core.viewerAttached()).isTrue();
        assertThat(viewerGone()).isFalse();
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
        assertThat(viewerGone()).isFalse();
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
        assertThat(viewerGone()).isFalse();
    }

    @Test
    void shouldCountTheGraceFromTheFirstViewerLeft() {
        start();
        core.onUpMessage(new ViewerLeft(), now);
        core.onUpMessage(new ViewerLeft(), now + GRACE / 2);
        core.tick(now + GRACE);
        assertThat(viewerGone()).isTrue();
    }

    @Test
    void shouldStartANewGraceWhenTheViewerLeavesAgainAfterComingBack() {
        start();
        core.onUpMessage(new ViewerLeft(), now);
        core.onUpMessage(new RefreshRequest(), now + GRACE / 2);
        core.onUpMessage(new ViewerLeft(), now + GRACE / 2 + MS);
        core.tick(now + GRACE + GRACE / 2);
        assertThat(viewerGone()).isFalse();
        core.tick(now + GRACE + GRACE / 2 + MS);
        assertThat(viewerGone()).isTrue();
    }

    @Test
    void shouldStayGoneWhenABrowserComesBackAfterTheGrace() {
        start();
        core.onUpMessage(new ViewerLeft(), now);
        core.tick(now + GRACE);
        core.onUpMessage(new RefreshRequest(), now + GRACE + MS);
        assertThat(viewerGone()).isTrue();
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
        core.tick(now + 2 * InstanceLimits.DEFAULT_STALL_TIMEOUT_NS); // the stall safety net would ask again
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
        // The tile holds the changed pixel (the encoder sends only the part of a dirty tile that differs).
        assertThat(tile(0)).satisfies(t -> {
            assertThat(t.x()).isLessThanOrEqualTo(70);
            assertThat(t.x() + t.w()).isGreaterThan(70);
            assertThat(t.y()).isZero();
        });
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
        assertThat(core.viewers().everAttached()).isTrue();
        long area = sent.stream().filter(m -> m instanceof Tile).mapToLong(m -> (long) ((Tile) m).w() * ((Tile) m).h()).sum();
        assertThat(area).isEqualTo(200 * 150);
        assertThat(sent.getLast()).isEqualTo(new FrameEnd(0, now / 1000));
        assertThat(desktop.requests).containsExactly(false, true);
    }

    @Test
    void shouldReportTheViewerGoneWhenNoBrowserAttachesWithinTheAttachGraceOfServerInit() {
        core.tick(now + 10 * ATTACH_GRACE); // not ready yet: the grace has not started
        assertThat(viewerGone()).isFalse();
        now += 10 * ATTACH_GRACE;
        core.onServerInit(desktop.width, desktop.height, now);
        core.tick(now + ATTACH_GRACE - 1);
        assertThat(viewerGone()).isFalse();
        core.tick(now + ATTACH_GRACE);
        assertThat(cause()).isEqualTo(EndReason.Cause.NO_BROWSER_ATTACHED);
        assertThat(core.viewers().everAttached()).isFalse();
        assertThat(sent).containsExactly(new Resize(200, 150));
    }

    @Test
    void shouldDefaultTheAttachGraceShorterThanTheViewerGrace() {
        assertThat(ATTACH_GRACE).isEqualTo(30 * SECOND).isLessThan(GRACE);
        assertThat(InstanceLimits.defaults()).extracting(InstanceLimits::attachGraceNs, InstanceLimits::viewerGraceNs)
                .containsExactly(ATTACH_GRACE, GRACE);
    }

    @Test
    void shouldCountTheAttachGraceFromServerInitEvenAfterAViewerLeftFromNobody() {
        core.onServerInit(desktop.width, desktop.height, now);
        core.onUpMessage(new ViewerLeft(), now + ATTACH_GRACE / 2); // no browser was attached: nothing changes
        core.tick(now + ATTACH_GRACE);
        assertThat(viewerGone()).isTrue();
    }

    @Test
    void shouldCountABrowserThatSpokeBeforeServerInitAsAttached() {
        core.onUpMessage(new RefreshRequest(), now); // the gateway's attach reached the engine first
        core.onServerInit(desktop.width, desktop.height, now + MS);
        core.tick(now + 10 * GRACE);
        assertThat(core.viewerAttached()).isTrue();
        assertThat(viewerGone()).isFalse();
    }

    @Test
    void shouldUseTheViewerGraceNotTheAttachGraceOnceABrowserHasAttached() {
        start();
        core.onUpMessage(new ViewerLeft(), now);
        core.tick(now + ATTACH_GRACE);
        assertThat(viewerGone()).isFalse();
        core.tick(now + GRACE);
        assertThat(viewerGone()).isTrue();
    }

    @Test
    void shouldHonourAConfiguredAttachGrace() {
        try (InstanceCore shortAttach = core(InstanceLimits.builder().attachGraceNs(300 * MS).build())) {
            shortAttach.onServerInit(desktop.width, desktop.height, now);
            shortAttach.tick(now + 299 * MS);
            assertThat(shortAttach.endReason()).isEmpty();
            shortAttach.tick(now + 300 * MS);
            assertThat(shortAttach.endReason()).map(EndReason::cause).contains(EndReason.Cause.NO_BROWSER_ATTACHED);
        }
    }

    @Test
    void shouldReportThePeerLostOnlyOnceTheGatewayStaysTimedOutForPeerLost() {
        start();
        core.onPeerTimeout(false, now);
        core.onPeerTimeout(true, now + SECOND);
        core.onPeerTimeout(true, now + SECOND + PEER_LOST - 1);
        assertThat(peerLost()).isFalse();
        core.onPeerTimeout(true, now + SECOND + PEER_LOST);
        assertThat(peerLost()).isTrue();
        core.onPeerTimeout(false, now + 2 * PEER_LOST);
        assertThat(peerLost()).as("sticky").isTrue();
    }

    @Test
    void shouldRestartThePeerLostClockWhenTheGatewayIsHeardAgain() {
        start();
        core.onPeerTimeout(true, now);
        core.onPeerTimeout(false, now + PEER_LOST - MS);
        core.onPeerTimeout(true, now + PEER_LOST);
        core.onPeerTimeout(true, now + 2 * PEER_LOST - 1);
        assertThat(peerLost()).isFalse();
        core.onPeerTimeout(true, now + 2 * PEER_LOST);
        assertThat(peerLost()).isTrue();
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
        assertThat(viewerGone()).isTrue();
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
        assertThat(desktop.inputs).hasSize(Viewers.MAX_KEYS_HELD).allMatch(in -> in.startsWith("key up "));
    }
}
