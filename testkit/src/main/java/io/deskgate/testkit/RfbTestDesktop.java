package io.deskgate.testkit;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-process RFB 3.8 server on 127.0.0.1 port 0 for tests that need a desktop an engine can connect to
 * without starting Xvnc: security type None, a ServerInit of the given size (32 bpp true colour), then it
 * reads the client's messages and never sends an update. Counts its open connections (one per transcoding
 * instance connected to it), records each connection's ClientInit shared flag and every KeyEvent (the
 * client's other messages are read and dropped; after a message type it does not know it discards the rest).
 * Test fixture; thread-safe.
 */
public final class RfbTestDesktop implements AutoCloseable {
    private final ServerSocket server;
    private final int width;
    private final int height;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private final List<Boolean> sharedFlags = new CopyOnWriteArrayList<>();
    private final List<KeyEvent> keyEvents = new CopyOnWriteArrayList<>();

    /** One KeyEvent a client sent; {@code connection} counts the desktop's connections from 1 in accept order. */
    public record KeyEvent(int connection, boolean down, int keysym) {}

    public RfbTestDesktop(int width, int height) throws IOException {
        this.width = width;
        this.height = height;
        server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("rfb-test-desktop").start(this::acceptLoop);
    }

    public String host() { return "127.0.0.1"; }

    public int port() { return server.getLocalPort(); }

    /** Connections open now (clients that connected and did not close). */
    public int connections() {
        return open.size();
    }

    /** The ClientInit shared flag of every connection so far, in the order they sent it. */
    public List<Boolean> sharedFlags() { return List.copyOf(sharedFlags); }

    /** Every KeyEvent received so far, in arrival order. */
    public List<KeyEvent> keyEvents() { return List.copyOf(keyEvents); }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                open.add(s);
                int connection = accepted.incrementAndGet();
                Thread.ofVirtual().name("rfb-test-desktop-conn").start(() -> serve(s, connection));
            } catch (IOException e) {
                // closed: the loop ends
            }
        }
    }

    private void serve(Socket s, int connection) {
        try (s) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            DataInputStream in = new DataInputStream(s.getInputStream());
            out.write("RFB 003.008\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            in.readFully(new byte[12]);      // the client's version
            out.write(new byte[] {1, 1});    // one security type: None
            out.flush();
            in.readUnsignedByte();           // its choice
            out.writeInt(0);                 // SecurityResult: OK
            out.flush();
            sharedFlags.add(in.readUnsignedByte() != 0); // ClientInit: the shared flag
            out.writeShort(width);
            out.writeShort(height);
            out.write(new byte[] {32, 24, 0, 1, 0, (byte) 255, 0, (byte) 255, 0, (byte) 255, 16, 8, 0, 0, 0, 0});
            byte[] name = "rfb-test-desktop".getBytes(StandardCharsets.US_ASCII);
            out.writeInt(name.length);
            out.write(name);
            out.flush();
            readClientMessages(in, connection);
            InputStream raw = s.getInputStream();
            byte[] sink = new byte[8192];
            while (raw.read(sink) >= 0) {
                // discarded: everything after a message type this fixture does not know
            }
        } catch (IOException e) {
            // the client went away
        } finally {
            open.remove(s);
        }
    }

    /** Reads RFB client messages until one of a type it does not know (then returns) or the end of the stream. */
    private void readClientMessages(DataInputStream in, int connection) throws IOException {
        while (true) {
            int type = in.readUnsignedByte();
            switch (type) {
                case 0 -> in.readFully(new byte[19]);                    // SetPixelFormat
                case 2 -> {                                             // SetEncodings
                    in.readUnsignedByte();
                    in.readFully(new byte[4 * in.readUnsignedShort()]);
                }
                case 3 -> in.readFully(new byte[9]);                     // FramebufferUpdateRequest
                case 4 -> {                                             // KeyEvent
                    boolean down = in.readUnsignedByte() != 0;
                    in.readUnsignedShort();
                    keyEvents.add(new KeyEvent(connection, down, in.readInt()));
                }
                case 5 -> in.readFully(new byte[5]);                     // PointerEvent
                case 6 -> {                                             // ClientCutText
                    in.readFully(new byte[3]);
                    long length = in.readInt() & 0xffffffffL;
                    if (length > 1 << 20) return;
                    in.readFully(new byte[(int) length]);
                }
                default -> { return; }
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : open) s.close();
    }
}
