package io.deskgate.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.bench.workload.Workload;
import io.deskgate.bench.workload.Workload.Twin;
import io.deskgate.bench.workload.Workloads;
import io.deskgate.encode.EncoderConfig;
import io.deskgate.engine.Desktop;
import io.deskgate.engine.InstanceCore;
import io.deskgate.engine.InstanceLimits;
import io.deskgate.engine.LagObserver;
import io.deskgate.rfb.RfbClient;
import io.deskgate.rfb.RfbListener;
import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.FrameAck;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.TileCanvas;
import io.deskgate.testkit.TimedRecording;
import io.deskgate.testkit.TimedRecording.Chunk;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The recorded text workloads (W1 scroll, W2 base64) through the engine's path as {@link TranscodeBench} replays them
 * (RFB client, {@link InstanceCore}, the default encoder, every frame acknowledged at once), every down message drawn on
 * a {@link TileCanvas} from its wire bytes: after every frame the canvas is the framebuffer, pixel for pixel (text is
 * lossless), and the stream carries well under the bytes of TigerVNC's lossless Tight twin (issue 10's text target is
 * 0.8; before GLYPHS tiles W1 was 1.21x and W2 1.25x).
 */
class TextWorkloadsTest {
    record Run(long streamBytes, long tightBytes, int frames, int exactFrames, long glyphTiles) {}

    static Run replay(Workload w) {
        TimedRecording recording = TimedRecording.load(w.recording(Twin.ZRLE));
        long tight = TimedRecording.load(w.recording(w.tightTwin())).totalBytes();
        long[] bytes = {0, 0};
        int[] frames = {0, 0};
        List<FrameAck> acks = new ArrayList<>();
        RfbClient[] client = new RfbClient[1];
        TileCanvas[] canvas = new TileCanvas[1];
        long[] now = {0};
        Desktop desktop = new Desktop() {
            @Override public int width() { return client[0].framebuffer().width(); }
            @Override public int height() { return client[0].framebuffer().height(); }
            @Override public int[] pixels() { return client[0].framebuffer().pixels(); }
            @Override public void requestUpdate(boolean incremental) { }
            @Override public void keyEvent(boolean down, long keysym) { }
            @Override public void pointerEvent(int x, int y, int buttonMask) { }
            @Override public void clientCutText(String text) { }
        };
        EncoderConfig config = EncoderConfig.defaults().toBuilder().parallelThresholdTiles(0).build();
        InstanceCore core = new InstanceCore(desktop, (StreamMessage m, long ns) -> {
            byte[] wire = StreamCodec.encode(m);
            bytes[0] += wire.length;
            switch (m) {
                case Tile t -> {
                    canvas[0].paint((Tile) StreamCodec.decode(wire));
                    if (t.format() == Tile.FORMAT_GLYPHS) bytes[1]++;
                }
                case CopyRect c -> canvas[0].copy(c);
                case FrameEnd end -> {
                    frames[0]++;
                    int[] fb = client[0].framebuffer().pixels();
                    boolean exact = true;
                    for (int i = 0; i < canvas[0].width * canvas[0].height && exact; i++) exact = (fb[i] & 0xffffff) == canvas[0].pixels[i];
                    if (exact) frames[1]++;
                    acks.add(new FrameAck(end.frameId(), end.serverTimeMicros()));
                }
                default -> { }
            }
        }, config, InstanceLimits.defaults(), LagObserver.NONE);
        client[0] = new RfbClient("", true, new RfbListener() {
            @Override public void onServerInit(int width, int height, String name) {
                canvas[0] = new TileCanvas(width, height);
                core.onServerInit(width, height, now[0]);
                core.onUpMessage(new RefreshRequest(), now[0]);
            }
            @Override public void onRect(int x, int y, int width, int height) { core.onRect(x, y, width, height); }
            @Override public void onCopyRect(int srcX, int srcY, int x, int y, int width, int height) { core.onCopyRect(srcX, srcY, x, y, width, height); }
            @Override public void onDesktopSize(int width, int height) { core.onDesktopSize(width, height); }
            @Override public void onUpdateEnd() { core.onUpdateEnd(now[0]); }
        });
        try {
            for (Chunk c : recording.chunks()) {
                now[0] = c.micros() * 1000;
                client[0].receive(c.bytes(), 0, c.bytes().length);
                client[0].drainOutgoing();
                while (!acks.isEmpty()) {
                    List<FrameAck> due = new ArrayList<>(acks);
                    acks.clear();
                    for (FrameAck a : due) core.onUpMessage(a, now[0]);
                }
            }
        } finally {
            core.close();
            client[0].close();
        }
        return new Run(bytes[0], tight, frames[0], frames[1], bytes[1]);
    }

    @ParameterizedTest
    @ValueSource(strings = {"w1", "w2"})
    void shouldSendTheTextWorkloadPixelExactInHalfOfTightsBytes(String id) {
        Run r = replay(Workloads.byId(id));
        assertThat(r.frames()).isGreaterThan(100);
        assertThat(r.exactFrames()).as("frames drawn pixel-exact").isEqualTo(r.frames());
        assertThat(r.glyphTiles()).as("GLYPHS tiles").isPositive();
        assertThat(r.streamBytes()).as("stream bytes against Tight's %d", r.tightBytes()).isLessThan(r.tightBytes() / 2);
    }

    @Test
    void shouldKeepTheTypingWorkloadPixelExact() {
        Run r = replay(Workloads.byId("w5"));
        assertThat(r.exactFrames()).isEqualTo(r.frames()).isPositive();
        assertThat(r.streamBytes()).isLessThan(r.tightBytes());
    }
}
