package io.deskgate.rfb;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.testkit.Recordings;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Replays the real Xvnc recording (testkit {@code recordings/xterm-zrle.rfb.gz}) in fragments of many sizes. */
class RfbRecordingReplayTest {
    private static byte[] recording;
    private static Replay whole;

    record Replay(int framebufferHash, int width, int height, long updates, long rects, long copyRects, long rectPixels) {}

    @BeforeAll
    static void replayWhole() {
        recording = Recordings.load("xterm-zrle.rfb.gz");
        whole = replay(new int[] {recording.length});
    }

    /** Feeds the recording in fragments whose sizes cycle through {@code sizes}. */
    private static Replay replay(int[] sizes) {
        EventLog log = new EventLog();
        RfbClient client = new RfbClient("", true, log);
        int i = 0;
        for (int off = 0; off < recording.length; i++) {
            int n = Math.min(sizes[i % sizes.length], recording.length - off);
            client.receive(recording, off, n);
            off += n;
        }
        assertThat(client.pendingInputBytes()).as("recording ends on a message boundary").isZero();
        Framebuffer fb = client.framebuffer();
        client.close();
        return new Replay(Arrays.hashCode(fb.pixels()), fb.width(), fb.height(), log.updates, log.rects, log.copyRects, log.rectPixels);
    }

    @Test
    void shouldDecodeTheWholeXvncRecording_rfc6143_7_7_6() {
        // Numbers from the recording's README: 72 updates, 1,458 ZRLE rectangles, 42 CopyRects.
        assertThat(whole.width()).isEqualTo(1280);
        assertThat(whole.height()).isEqualTo(800);
        assertThat(whole.updates()).isEqualTo(72);
        assertThat(whole.rects()).isEqualTo(1458);
        assertThat(whole.copyRects()).isEqualTo(42);
        assertThat(whole.rectPixels()).isEqualTo(5_963_690);
    }

    @Test
    void shouldDecodeIdenticallyInFragmentsOfEverySizeFrom1To64() {
        for (int size = 1; size <= 64; size++) {
            assertThat(replay(new int[] {size})).as("fragment size %d", size).isEqualTo(whole);
        }
    }

    @Test
    void shouldDecodeIdenticallyInLargeAndIrregularFragments() {
        for (int size : new int[] {1000, 4093, 65_536, 1 << 20}) {
            assertThat(replay(new int[] {size})).as("fragment size %d", size).isEqualTo(whole);
        }
        Random random = new Random(6143);
        int[] sizes = new int[997];
        for (int i = 0; i < sizes.length; i++) sizes[i] = 1 + random.nextInt(random.nextBoolean() ? 16 : 20_000);
        assertThat(replay(sizes)).isEqualTo(whole);
    }
}
