package io.deskgate.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.bench.workload.Workload.Twin;
import io.deskgate.bench.workload.Workloads;
import io.deskgate.rfb.RfbClient;
import io.deskgate.rfb.RfbEncodings;
import io.deskgate.rfb.RfbListener;
import io.deskgate.testkit.TimedRecording;
import io.deskgate.testkit.TimedRecording.Chunk;
import org.junit.jupiter.api.Test;

/** W1 re-encoded as Raw + CopyRect decodes, by a client that asked only those, to the ZRLE recording's framebuffer. */
class RawReplayTest {
    private static final RfbListener NONE = new RfbListener() {};

    @Test
    void shouldDecodeToTheRecordingsFramebufferPixelForPixel() {
        TimedRecording recording = TimedRecording.load(Workloads.byId("w1").recording(Twin.ZRLE));
        RawReplay replay = RawReplay.of(recording);

        RfbClient zrle = new RfbClient("", true, NONE, RfbEncodings.DEFAULT);
        for (Chunk c : recording.chunks()) zrle.receive(c.bytes(), 0, c.bytes().length);

        RfbClient raw = new RfbClient("", true, NONE, RfbEncodings.of(RfbEncodings.RAW, RfbEncodings.COPY_RECT));
        byte[] hs = replay.handshake();
        raw.receive(hs, 0, hs.length);
        long previous = -1;
        for (RawReplay.Update u : replay.updates()) {
            assertThat(u.micros()).isGreaterThanOrEqualTo(previous);
            previous = u.micros();
            raw.receive(u.message(), 0, u.message().length);
        }
        assertThat(raw.pendingInputBytes()).isZero();
        assertThat(replay.updates()).hasSize(609); // the recordings README: W1's ZRLE twin holds 609 updates
        assertThat(raw.framebuffer().width()).isEqualTo(1280);
        assertThat(low24(raw.framebuffer().pixels())).isEqualTo(low24(zrle.framebuffer().pixels()));
    }

    private static int[] low24(int[] pixels) {
        return java.util.Arrays.stream(pixels).map(p -> p & 0xFFFFFF).toArray();
    }
}
