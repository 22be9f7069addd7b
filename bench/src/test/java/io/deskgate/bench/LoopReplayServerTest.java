package io.deskgate.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.bench.workload.Workload.Twin;
import io.deskgate.bench.workload.Workloads;
import io.deskgate.testkit.TimedRecording;
import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The looped replay answers as a VNC server paces itself: the handshake at once, an update only once asked for. */
class LoopReplayServerTest {
    @Test
    void shouldSendTheHandshakeThenAnUpdateOnlyAfterARequest() throws Exception {
        RawReplay replay = RawReplay.of(TimedRecording.load(Workloads.byId("w1").recording(Twin.ZRLE)));
        try (LoopReplayServer server = new LoopReplayServer(replay);
             Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            DataInputStream in = new DataInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            byte[] handshake = new byte[replay.handshake().length];
            in.readFully(handshake);
            assertThat(handshake).isEqualTo(replay.handshake());
            out.write("RFB 003.008\n".getBytes(StandardCharsets.ISO_8859_1));
            out.write(new byte[] {1, 1}); // security None, ClientInit shared
            out.write(new byte[] {2, 0, 0, 1, 0, 0, 0, 0}); // SetEncodings [Raw]
            out.flush();

            s.setSoTimeout(300); // nothing asked yet: 300 ms of silence (a byte sent later would fail the readFully below)
            int early;
            try {
                early = in.read();
            } catch (SocketTimeoutException expected) {
                early = -2;
            }
            assertThat(early).as("no byte (nor end of stream) before a FramebufferUpdateRequest").isEqualTo(-2);
            assertThat(server.updatesSent()).isZero();

            s.setSoTimeout(30_000);
            out.write(new byte[] {3, 0, 0, 0, 0, 0, 5, 0, 3, 32}); // non-incremental FramebufferUpdateRequest 1280x800
            out.flush();
            byte[] first = replay.updates().getFirst().message();
            byte[] got = new byte[first.length];
            in.readFully(got);
            assertThat(got).isEqualTo(first);
            assertThat(server.updatesSent()).isPositive();
            assertThat(server.drainLateness()).hasSize((int) server.updatesSent());
        }
    }
}
