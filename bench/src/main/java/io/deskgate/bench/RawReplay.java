package io.deskgate.bench;

import io.deskgate.rfb.RfbClient;
import io.deskgate.rfb.RfbEncodings;
import io.deskgate.rfb.RfbListener;
import io.deskgate.testkit.TimedRecording;
import io.deskgate.testkit.TimedRecording.Chunk;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A timed recording re-encoded as Raw + CopyRect, so that it can be replayed in a loop (a ZRLE stream cannot: its
 * zlib state runs across the whole connection) and in the encodings the engine asks a desktop on its own host for
 * ({@code engine.rfb-encodings: auto} on loopback: Raw, CopyRect). The recording is decoded once with a real
 * {@link RfbClient}; each FramebufferUpdate becomes one Raw message holding the same rectangles (ZRLE ones as Raw
 * pixels from the decoded framebuffer, CopyRects as CopyRects), at the time of the chunk its last byte arrived in.
 * Pixels go out as the client's 32-bit little-endian true colour (red-shift 16, what {@link RfbClient} asks).
 * Immutable once built.
 *
 * @param handshake the server's bytes up to and including ServerInit (ProtocolVersion, security None, result)
 * @param updates   the FramebufferUpdates in order, the first the full picture the first request was answered with
 */
public record RawReplay(byte[] handshake, List<Update> updates, long durationMicros) {
    /** One FramebufferUpdate message, due {@code micros} after the connection opened. */
    public record Update(long micros, byte[] message) {}

    public RawReplay {
        if (updates.size() < 2) throw new IllegalArgumentException("a replay needs at least two updates, had " + updates.size());
        handshake = handshake.clone();
        updates = List.copyOf(updates);
    }

    @Override public byte[] handshake() { return handshake.clone(); }

    /** Re-encodes {@code recording} (a ZRLE twin: ZRLE, CopyRect, Raw, DesktopSize, LastRect). */
    public static RawReplay of(TimedRecording recording) {
        Capture capture = new Capture();
        RfbClient client = new RfbClient("", true, capture, RfbEncodings.DEFAULT);
        capture.client = client;
        ByteArrayOutputStream handshake = new ByteArrayOutputStream();
        for (Chunk c : recording.chunks()) {
            capture.micros = c.micros();
            byte[] b = c.bytes();
            if (!capture.ready) {
                // byte by byte until ServerInit is decoded, so the handshake's length is exact
                int i = 0;
                for (; i < b.length && !capture.ready; i++) {
                    handshake.write(b[i]);
                    client.receive(b, i, 1);
                }
                if (i < b.length) client.receive(b, i, b.length - i);
            } else {
                client.receive(b, 0, b.length);
            }
            client.drainOutgoing();
        }
        client.close();
        return new RawReplay(handshake.toByteArray(), capture.updates, recording.durationMicros());
    }

    /** Collects one update's rectangles as the client decodes them. */
    private static final class Capture implements RfbListener {
        RfbClient client;
        boolean ready;
        long micros;
        final List<Update> updates = new ArrayList<>();
        private ByteArrayOutputStream rects = new ByteArrayOutputStream();
        private int count;

        @Override public void onServerInit(int width, int height, String name) { ready = true; }

        @Override public void onRect(int x, int y, int w, int h) {
            header(x, y, w, h, 0);
            int[] px = client.framebuffer().pixels();
            int stride = client.framebuffer().width();
            byte[] row = new byte[w * 4];
            for (int r = 0; r < h; r++) {
                int o = (y + r) * stride + x;
                for (int c = 0; c < w; c++) {
                    int p = px[o + c];
                    row[c * 4] = (byte) p;
                    row[c * 4 + 1] = (byte) (p >> 8);
                    row[c * 4 + 2] = (byte) (p >> 16);
                    row[c * 4 + 3] = 0;
                }
                rects.write(row, 0, row.length);
            }
        }

        @Override public void onCopyRect(int srcX, int srcY, int x, int y, int w, int h) {
            header(x, y, w, h, 1);
            u16(srcX);
            u16(srcY);
        }

        @Override public void onDesktopSize(int width, int height) {
            throw new IllegalArgumentException("the recording resizes the desktop; a looped replay cannot");
        }

        @Override public void onUpdateEnd() {
            ByteArrayOutputStream m = new ByteArrayOutputStream(rects.size() + 4);
            m.write(0); // FramebufferUpdate
            m.write(0);
            m.write(count >> 8);
            m.write(count);
            m.writeBytes(rects.toByteArray());
            updates.add(new Update(micros, m.toByteArray()));
            rects = new ByteArrayOutputStream();
            count = 0;
        }

        private void header(int x, int y, int w, int h, int encoding) {
            if (++count > 0xffff) throw new IllegalArgumentException("an update of more than 65535 rectangles");
            u16(x);
            u16(y);
            u16(w);
            u16(h);
            rects.write(encoding >>> 24);
            rects.write(encoding >>> 16);
            rects.write(encoding >>> 8);
            rects.write(encoding);
        }

        private void u16(int v) {
            rects.write(v >> 8);
            rects.write(v);
        }
    }
}
