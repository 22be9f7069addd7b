package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.encode.EncoderConfig;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.FrameAck;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.Tile;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;

/**
 * The shared fixture of the {@link InstanceCore} tests: a fake desktop, the stream messages the core sent, and a
 * fake clock ({@link #now}) that tests advance by hand (docs/protocol.md §1). JUnit creates a fresh instance, and so a
 * fresh core, for every test; everything runs on the test thread.
 */
abstract class InstanceCoreFixture {
    static final long MS = 1_000_000L;
    static final long GRACE = InstanceLimits.DEFAULT_VIEWER_GRACE_NS;
    static final long ATTACH_GRACE = InstanceLimits.DEFAULT_ATTACH_GRACE_NS;
    static final long PEER_LOST = InstanceLimits.DEFAULT_PEER_LOST_NS;
    static final long SECOND = 1_000 * MS;

    final FakeDesktop desktop = new FakeDesktop(200, 150);
    final List<StreamMessage> sent = new ArrayList<>();
    /** Every lag the core's flow control handed on, as {lag, average} in microseconds. */
    final List<long[]> lags = new ArrayList<>();
    final InstanceCore core = core(InstanceLimits.defaults());
    long now = 5_000 * MS;
    long frameBase;

    @AfterEach
    void close() {
        core.close();
    }

    /** A core on this fixture's desktop, sink and lag list. */
    InstanceCore core(InstanceLimits limits) {
        return new InstanceCore(desktop, (m, t) -> sent.add(m), encoderConfig(), limits, (lag, avg) -> lags.add(new long[] {lag, avg}));
    }

    /** The encoder's config of {@link #core}: the defaults unless a test class needs otherwise (called while constructing). */
    EncoderConfig encoderConfig() {
        return EncoderConfig.defaults();
    }

    /** Why the core wants to end, null while it does not. */
    EndReason.Cause cause() {
        return core.endReason().map(EndReason::cause).orElse(null);
    }

    /** The attach or the viewer grace passed. */
    boolean viewerGone() {
        return cause() == EndReason.Cause.VIEWER_GONE || cause() == EndReason.Cause.NO_BROWSER_ATTACHED;
    }

    boolean peerLost() {
        return cause() == EndReason.Cause.GATEWAY_LOST;
    }

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
        @Override public void setDesktopSize(int w, int h) { inputs.add("set-desktop-size " + w + "x" + h); }
    }
}
