package io.deskgate.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.bench.workload.Workload.Twin;
import io.deskgate.bench.workload.Workloads;
import io.deskgate.rfb.RfbClient;
import io.deskgate.rfb.RfbListener;
import io.deskgate.testkit.TimedRecording;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import org.junit.jupiter.api.Test;

/**
 * {@link RecordingServer}: a real {@link RfbClient} over loopback TCP gets the recorded W5 and W1 streams whole,
 * two clients at once at the recording's timing and one as fast as possible: the same updates and the same final
 * framebuffer as decoding the file directly.
 */
class RecordingServerTest {
    record Seen(int updates, int[] pixels) {}

    /** Decodes the recording in memory. */
    static Seen direct(TimedRecording r) {
        int[] updates = new int[1];
        RfbClient c = new RfbClient("", true, new RfbListener() {
            @Override public void onUpdateEnd() { updates[0]++; }
        });
        try {
            byte[] b = r.bytes();
            c.receive(b, 0, b.length);
            return new Seen(updates[0], c.framebuffer().pixels().clone());
        } finally {
            c.close();
        }
    }

    /** Connects and decodes until {@code updates} updates came (a deadline of 60 s, not a timing assertion). */
    static Seen over(int port, int updates) throws Exception {
        int[] count = new int[1];
        RfbClient c = new RfbClient("", true, new RfbListener() {
            @Override public void onUpdateEnd() { count[0]++; }
        });
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(200);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[1 << 16];
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (count[0] < updates && System.nanoTime() < deadline) {
                out.write(c.drainOutgoing());
                int n;
                try {
                    n = in.read(buf);
                } catch (SocketTimeoutException e) {
                    continue;
                }
                if (n < 0) break;
                c.receive(buf, 0, n);
            }
            assertThat(c.pendingInputBytes()).isZero();
            return new Seen(count[0], c.framebuffer().pixels().clone());
        } finally {
            c.close();
        }
    }

    @Test
    void shouldServeTheRecordingToRfbClientsAsRecorded() throws Exception {
        TimedRecording typing = TimedRecording.load(Workloads.byId("w5").recording(Twin.ZRLE));
        Seen expected = direct(typing);
        try (RecordingServer server = new RecordingServer(typing, 4.0)) {
            Seen[] got = new Seen[2];
            Thread other = Thread.ofPlatform().start(() -> {
                try {
                    got[1] = over(server.port(), expected.updates());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            got[0] = over(server.port(), expected.updates());
            other.join(90_000);
            for (Seen s : got) {
                assertThat(s.updates()).isEqualTo(expected.updates());
                assertThat(s.pixels()).isEqualTo(expected.pixels());
            }
        }
        TimedRecording scroll = TimedRecording.load(Workloads.byId("w1").recording(Twin.ZRLE));
        Seen expectedScroll = direct(scroll);
        try (RecordingServer server = new RecordingServer(scroll, 0)) {
            Seen s = over(server.port(), expectedScroll.updates());
            assertThat(s.updates()).isEqualTo(expectedScroll.updates());
            assertThat(s.pixels()).isEqualTo(expectedScroll.pixels());
        }
    }
}
