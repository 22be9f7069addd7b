package io.deskgate.testkit;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An in-process RFB 3.8 server on 127.0.0.1 port 0 for tests that need a desktop an engine can connect to
 * without starting Xvnc: security type None, a ServerInit of the given size (32 bpp true colour), then it
 * reads and discards whatever the client sends and never sends an update. Counts its open connections (one
 * per transcoding instance connected to it). Test fixture; thread-safe.
 */
public final class RfbTestDesktop implements AutoCloseable {
    private final ServerSocket server;
    private final int width;
    private final int height;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();

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

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                open.add(s);
                Thread.ofVirtual().name("rfb-test-desktop-conn").start(() -> serve(s));
            } catch (IOException e) {
                // closed: the loop ends
            }
        }
    }

    private void serve(Socket s) {
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
            in.readUnsignedByte();           // ClientInit (shared flag)
            out.writeShort(width);
            out.writeShort(height);
            out.write(new byte[] {32, 24, 0, 1, 0, (byte) 255, 0, (byte) 255, 0, (byte) 255, 16, 8, 0, 0, 0, 0});
            byte[] name = "rfb-test-desktop".getBytes(StandardCharsets.US_ASCII);
            out.writeInt(name.length);
            out.write(name);
            out.flush();
            InputStream raw = s.getInputStream();
            byte[] sink = new byte[8192];
            while (raw.read(sink) >= 0) {
                // discarded: the client's SetPixelFormat, SetEncodings, update requests and input
            }
        } catch (IOException e) {
            // the client went away
        } finally {
            open.remove(s);
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : open) s.close();
    }
}
