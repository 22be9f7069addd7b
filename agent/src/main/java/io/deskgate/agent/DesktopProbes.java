package io.deskgate.agent;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Whether a desktop's Xvnc is ready: it speaks RFB on its port and accepts an X client with its cookie. Stateless. */
final class DesktopProbes {
    static final String RFB_VERSION_PREFIX = "RFB 003.";
    /** Length of the RFB ProtocolVersion message, RFC 6143 §7.1.1. */
    static final int RFB_VERSION_BYTES = 12;
    /** X11 connection setup reply: first byte 1 means Success (X11 protocol, chapter 8). */
    static final int X11_SETUP_SUCCESS = 1;

    private DesktopProbes() {}

    /** Whether a TCP connect to the RFB port succeeds and the server sends "RFB 003.00x". */
    static boolean rfbBanner(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            s.setSoTimeout(1000);
            InputStream in = s.getInputStream();
            byte[] version = in.readNBytes(RFB_VERSION_BYTES);
            return new String(version, StandardCharsets.US_ASCII).startsWith(RFB_VERSION_PREFIX);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Whether the X server on the Unix socket {@code socket} completes a connection setup with
     * {@code cookie} within {@code timeout}; false when it refuses, closes, or stays silent that long.
     */
    static boolean x11Accepts(Path socket, byte[] cookie, Duration timeout) {
        if (!Files.exists(socket)) return false;
        long deadline = System.nanoTime() + timeout.toNanos();
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
             Selector selector = Selector.open()) {
            ch.configureBlocking(false);
            byte[] name = XAuthority.COOKIE_NAME.getBytes(StandardCharsets.US_ASCII);
            ByteBuffer setup = ByteBuffer.allocate(12 + pad4(name.length) + pad4(cookie.length))
                    .order(ByteOrder.LITTLE_ENDIAN);
            setup.put((byte) 'l').put((byte) 0).putShort((short) 11).putShort((short) 0)
                    .putShort((short) name.length).putShort((short) cookie.length).putShort((short) 0);
            setup.put(name).position(12 + pad4(name.length)).put(cookie).position(setup.capacity()).flip();
            ByteBuffer reply = ByteBuffer.allocate(1);
            SelectionKey key = ch.register(selector, 0);
            boolean connected = ch.connect(UnixDomainSocketAddress.of(socket));
            while (true) {
                if (!connected) {
                    key.interestOps(SelectionKey.OP_CONNECT);
                } else if (setup.hasRemaining()) {
                    ch.write(setup);
                    key.interestOps(SelectionKey.OP_WRITE);
                } else {
                    int n = ch.read(reply);
                    if (n < 0) return false;
                    if (n == 1) return reply.get(0) == X11_SETUP_SUCCESS;
                    key.interestOps(SelectionKey.OP_READ);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                selector.selectedKeys().clear();
                if (selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))) > 0 && key.isConnectable()) {
                    connected = ch.finishConnect();
                }
            }
        } catch (IOException e) {
            return false;
        }
    }

    private static int pad4(int n) {
        return (n + 3) & ~3;
    }
}
