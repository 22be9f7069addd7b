package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.engine.InstanceCoreFixture.FakeDesktop;
import org.junit.jupiter.api.Test;

/** {@link Viewers} as a set: each viewer's grace and held input on its own (docs/protocol.md §1.2). */
class ViewersTest {
    static final long MS = 1_000_000L;
    static final long GRACE = InstanceLimits.DEFAULT_VIEWER_GRACE_NS;
    final FakeDesktop desktop = new FakeDesktop(200, 150);
    final Viewers viewers = new Viewers(desktop, InstanceLimits.defaults());
    long now = 7_000 * MS;

    @Test
    void shouldKeepTheInstanceWhileOneOfTwoViewersStays() {
        viewers.onReady(now);
        assertThat(viewers.attach(1, now)).isTrue();
        assertThat(viewers.attach(2, now)).isTrue();
        assertThat(viewers.attach(2, now)).as("already attached").isFalse();
        viewers.leave(1, now);
        viewers.tick(now + 10 * GRACE);
        assertThat(viewers.endReason()).isEmpty();
        assertThat(viewers.size()).as("viewer 1's place is gone after its grace").isEqualTo(1);
        assertThat(viewers.attached(2)).isTrue();
        assertThat(viewers.anyAttached()).isTrue();
    }

    @Test
    void shouldEndOnlyWhenTheLastViewersGracePasses() {
        viewers.onReady(now);
        viewers.attach(1, now);
        viewers.attach(2, now);
        viewers.leave(1, now);
        viewers.leave(2, now + GRACE / 2);
        viewers.tick(now + GRACE);
        assertThat(viewers.endReason()).as("viewer 2 is still in its grace").isEmpty();
        assertThat(viewers.anyAttached()).isFalse();
        viewers.tick(now + GRACE / 2 + GRACE);
        assertThat(viewers.endReason()).map(EndReason::cause).contains(EndReason.Cause.VIEWER_GONE);
        assertThat(viewers.attach(1, now + 2 * GRACE)).as("sticky: too late").isFalse();
    }

    @Test
    void shouldReleaseOnlyTheHeldInputOfTheViewerThatLeft() {
        viewers.onReady(now);
        viewers.attach(1, now);
        viewers.attach(2, now);
        viewers.onKey(1, true, 0x61);
        viewers.onKey(2, true, 0x62);
        viewers.onPointer(2, 10, 20, 1);
        viewers.leave(2, now);
        assertThat(desktop.inputs).containsExactly("key up 62", "pointer 10,20 0");
        viewers.onPeerTimeout(true, now);
        viewers.onPeerTimeout(true, now + InstanceLimits.DEFAULT_PEER_LOST_NS);
        assertThat(viewers.endReason()).map(EndReason::cause).contains(EndReason.Cause.GATEWAY_LOST);
        assertThat(desktop.inputs).containsExactly("key up 62", "pointer 10,20 0", "key up 61");
    }

    @Test
    void shouldRefuseViewersBeyondItsBound() {
        for (int v = 0; v < Viewers.MAX_VIEWERS; v++) assertThat(viewers.attach(v, now)).isTrue();
        assertThat(viewers.attach(Viewers.MAX_VIEWERS, now)).isFalse();
        assertThat(viewers.size()).isEqualTo(Viewers.MAX_VIEWERS);
    }
}
