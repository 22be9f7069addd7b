package io.deskgate.rfb;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/**
 * Records the server-to-client bytes of a live RFB session as test data: connects to an RFB server on
 * 127.0.0.1, drives an {@link RfbClient} (one full update request, then an incremental request after each
 * update) for a number of seconds, and writes every byte the server sent, gzipped.
 *
 * <p>Usage: {@code RfbRecorder <port> <seconds> <out.rfb.gz> [password]}. A tool run by hand; not a test.
 */
public final class RfbRecorder {
    private RfbRecorder() {}

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        long seconds = Long.parseLong(args[1]);
        Path outFile = Path.of(args[2]);
        String password = args.length > 3 ? args[3] : "";
        long[] counts = new long[2]; // updates, rects
        RfbClient[] holder = new RfbClient[1];
        RfbClient client = new RfbClient(password, true, new RfbListener() {
            @Override public void onServerInit(int width, int height, String name) {
                System.out.println("ServerInit " + width + "x" + height + " '" + name + "'");
                holder[0].requestUpdate(false);
            }
            @Override public void onRect(int x, int y, int w, int h) { counts[1]++; }
            @Override public void onCopyRect(int srcX, int srcY, int x, int y, int w, int h) { counts[1]++; }
            @Override public void onUpdateEnd() {
                counts[0]++;
                holder[0].requestUpdate(true);
            }
        });
        holder[0] = client;
        long total = 0;
        try (Socket socket = new Socket("127.0.0.1", port);
                OutputStream record = new GZIPOutputStream(Files.newOutputStream(outFile), 1 << 16)) {
            socket.setSoTimeout(50);
            socket.setTcpNoDelay(true);
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            byte[] buf = new byte[1 << 16];
            long deadline = System.nanoTime() + seconds * 1_000_000_000L;
            while (System.nanoTime() < deadline) {
                int n;
                try {
                    n = in.read(buf);
                } catch (SocketTimeoutException e) {
                    continue;
                }
                if (n < 0) break;
                record.write(buf, 0, n);
                total += n;
                client.receive(buf, 0, n);
                byte[] outgoing = client.drainOutgoing();
                if (outgoing.length > 0) out.write(outgoing);
            }
        } finally {
            client.close();
        }
        System.out.println("recorded " + total + " server bytes, " + counts[0] + " FramebufferUpdates, "
                + counts[1] + " rectangles");
    }
}
