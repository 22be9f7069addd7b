package io.deskgate.bench;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.rfb.RfbClient;
import io.deskgate.rfb.RfbListener;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * The physical floor of a first frame: an {@link RfbClient} straight on a desktop's RFB port over TCP,
 * timed from the start of the TCP connect to the end of the first FramebufferUpdate, which answers the
 * non-incremental request for the whole framebuffer sent right after ServerInit (RFC 6143 §7.5.3).
 * Handshake, VNC authentication and ZRLE decoding are inside the time, as they are for the engine.
 *
 * <p>Blocking; runs on the caller's thread and owns its socket for the duration of one call.
 */
final class RfbFirstFrame {
    private static final int READ_BUFFER_BYTES = 64 * 1024;

    private RfbFirstFrame() {}

    /**
     * Connects to {@code host:port}, authenticates with {@code password} and returns the nanoseconds from
     * the connect to the end of the first complete FramebufferUpdate.
     *
     * @param deadlineNs {@link System#nanoTime()} by which it must be done
     * @throws DeskgateException when the deadline passes, the connection fails or the server misbehaves
     */
    static long measureNs(String host, int port, String password, long deadlineNs) {
        UpdateEnd listener = new UpdateEnd();
        RfbClient client = new RfbClient(password, true, listener);
        long startNs = System.nanoTime();
        try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), remainingMs(deadlineNs, host, port));
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            byte[] buffer = new byte[READ_BUFFER_BYTES];
            boolean requested = false;
            while (!listener.ended) {
                socket.setSoTimeout(remainingMs(deadlineNs, host, port));
                int n = in.read(buffer);
                if (n < 0) throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "RFB server at " + host + ":" + port + " closed the connection before the first frame");
                client.receive(buffer, 0, n);
                if (!requested && client.isReady()) {
                    client.requestUpdate(false);
                    requested = true;
                }
                byte[] reply = client.drainOutgoing();
                if (reply.length > 0) out.write(reply);
            }
            return listener.endNs - startNs;
        } catch (SocketTimeoutException e) {
            throw timeout(host, port);
        } catch (IOException e) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "RFB connection to " + host + ":" + port + " failed: " + e.getMessage(), e);
        } finally {
            client.close();
        }
    }

    private static int remainingMs(long deadlineNs, String host, int port) {
        long ms = (deadlineNs - System.nanoTime()) / 1_000_000;
        if (ms <= 0) throw timeout(host, port);
        return (int) Math.min(Integer.MAX_VALUE, ms);
    }

    private static DeskgateException timeout(String host, int port) {
        return new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "no first frame from the RFB server at " + host + ":" + port + " in time");
    }

    /** Notes the end of the first FramebufferUpdate; one is only sent after our request. */
    private static final class UpdateEnd implements RfbListener {
        boolean ended;
        long endNs;

        @Override public void onUpdateEnd() {
            if (!ended) {
                ended = true;
                endNs = System.nanoTime();
            }
        }
    }
}
