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
 * update) for a number of seconds, then asks for one last full (non-incremental) update and stops at its end,
 * so the recording ends on a message boundary with the whole desktop in its last update; writes every byte
 * the server sent, gzipped, and prints a hash of the final framebuffer (two recorders on the same idle
 * desktop, one asking for ZRLE and one for lossless Tight, must print the same hash).
 *
 * <p>Usage: {@code RfbRecorder <port> <seconds> <out.rfb.gz> [password] [encodings]}, encodings a comma list
 * of names ({@code tight,hextile,zrle,copyrect,raw,desktopsize,lastrect,cursor,extendeddesktopsize,fence,
 * continuousupdates}), {@code q0..q9} (Tight JPEG quality), {@code c0..c9} (compression level) or numbers;
 * default {@link RfbEncodings#DEFAULT}. A tool run by hand; not a test.
 */
public final class RfbRecorder {
    private RfbRecorder() {}

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        long seconds = Long.parseLong(args[1]);
        Path outFile = Path.of(args[2]);
        String password = args.length > 3 ? args[3] : "";
        RfbEncodings encodings = args.length > 4 ? encodings(args[4]) : RfbEncodings.DEFAULT;
        long[] counts = new long[3]; // updates, rects, updates ended since the final full request
        boolean[] finalRequested = new boolean[1];
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
                if (finalRequested[0]) {
                    counts[2]++;
                } else {
                    holder[0].requestUpdate(true);
                }
            }
        }, encodings);
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
            long finalDeadline = deadline + 10_000_000_000L;
            long lastDataNs = System.nanoTime();
            // The final request is answered by the second update after it, or merged by the server with the
            // incremental one outstanding: then nothing more comes, and 2 s of silence after an update ends it.
            while (counts[2] < 2 && System.nanoTime() < finalDeadline
                    && !(counts[2] == 1 && client.pendingInputBytes() == 0 && System.nanoTime() - lastDataNs > 2_000_000_000L)) {
                if (!finalRequested[0] && System.nanoTime() >= deadline && client.isReady()) {
                    // One incremental request is outstanding; the full one after it carries the whole desktop.
                    finalRequested[0] = true;
                    client.requestUpdate(false);
                    out.write(client.drainOutgoing());
                }
                int n;
                try {
                    n = in.read(buf);
                } catch (SocketTimeoutException e) {
                    continue;
                }
                if (n < 0) break;
                lastDataNs = System.nanoTime();
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
                + counts[1] + " rectangles" + (counts[2] > 0 ? "" : " (the final full update did not end in time)"));
        if (client.isReady()) System.out.println("final framebuffer hash " + java.util.Arrays.hashCode(client.framebuffer().pixels()));
    }

    static RfbEncodings encodings(String list) {
        java.util.List<Integer> codes = new java.util.ArrayList<>();
        for (String name : list.split(",")) {
            String n = name.trim().toLowerCase(java.util.Locale.ROOT);
            codes.add(switch (n) {
                case "raw" -> RfbEncodings.RAW;
                case "copyrect" -> RfbEncodings.COPY_RECT;
                case "hextile" -> RfbEncodings.HEXTILE;
                case "tight" -> RfbEncodings.TIGHT;
                case "zrle" -> RfbEncodings.ZRLE;
                case "desktopsize" -> RfbEncodings.DESKTOP_SIZE;
                case "lastrect" -> RfbEncodings.LAST_RECT;
                case "cursor" -> RfbEncodings.CURSOR;
                case "extendeddesktopsize" -> RfbEncodings.EXTENDED_DESKTOP_SIZE;
                case "fence" -> RfbEncodings.FENCE;
                case "continuousupdates" -> RfbEncodings.CONTINUOUS_UPDATES;
                default -> n.matches("q[0-9]") ? RfbEncodings.jpegQuality(n.charAt(1) - '0')
                        : n.matches("c[0-9]") ? RfbEncodings.compressLevel(n.charAt(1) - '0') : Integer.parseInt(n);
            });
        }
        return new RfbEncodings(codes);
    }
}
