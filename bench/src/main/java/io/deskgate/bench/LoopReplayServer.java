package io.deskgate.bench;

import io.deskgate.common.RateLimitedLog;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a {@link RawReplay} in a loop to any number of RFB clients on 127.0.0.1, all from one platform thread (so
 * that its CPU time can be told apart from the engine's, {@link #cpuNs()}). Unlike {@link RecordingServer} it answers
 * as a VNC server paces itself: an update becomes due at its recorded time (pass k adds k times the recording's
 * duration; passes after the first leave out the first update, the full picture) and is written only once the
 * client has asked (FramebufferUpdateRequest); updates that came due meanwhile go out together with it. How late
 * each update went out after its due time is its <em>lateness</em>: a client that keeps up asks again within a frame,
 * so lateness beyond that is the client falling behind the desktop. What the client sends is parsed only as far as
 * needed to find its requests (RFC 6143 §7.5); a malformed client message closes that connection.
 */
final class LoopReplayServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LoopReplayServer.class);
    private static final RateLimitedLog dropped = new RateLimitedLog(log);

    private final RawReplay replay;
    private final ServerSocketChannel server;
    private final Selector selector;
    private final Thread thread;
    private final List<Conn> conns = new ArrayList<>(); // the thread's only
    private volatile boolean closing;
    private final Object samplesLock = new Object();
    private long[] lateness = new long[1024]; // guarded by samplesLock
    private int latenessCount; // guarded by samplesLock
    private long updatesSent; // guarded by samplesLock
    private volatile long threadId = -1;

    LoopReplayServer(RawReplay replay) throws IOException {
        this.replay = replay;
        server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        server.configureBlocking(false);
        selector = Selector.open();
        server.register(selector, SelectionKey.OP_ACCEPT);
        thread = Thread.ofPlatform().daemon().name("loop-replay").start(this::loop);
    }

    int port() { return ((InetSocketAddress) server.socket().getLocalSocketAddress()).getPort(); }

    /** CPU time of the server's thread so far, ns. */
    long cpuNs() {
        long id = threadId;
        return id < 0 ? 0 : Math.max(0, ManagementFactory.getThreadMXBean().getThreadCpuTime(id));
    }

    /** The lateness of every update written since the last call, ns, and how many updates that was. */
    long[] drainLateness() {
        synchronized (samplesLock) {
            long[] out = java.util.Arrays.copyOf(lateness, latenessCount);
            latenessCount = 0;
            return out;
        }
    }

    long updatesSent() {
        synchronized (samplesLock) {
            return updatesSent;
        }
    }

    private void loop() {
        threadId = Thread.currentThread().threadId();
        try {
            while (!closing) {
                long now = System.nanoTime();
                long next = now + 50_000_000L;
                for (Conn c : conns) {
                    if (c.open) {
                        c.serve(now);
                        if (c.open) next = Math.min(next, c.nextDueNs());
                    }
                }
                conns.removeIf(c -> !c.open);
                long waitMs = Math.max(1, (next - System.nanoTime() + 999_999) / 1_000_000);
                selector.select(waitMs);
                for (SelectionKey k : selector.selectedKeys()) {
                    if (!k.isValid()) continue;
                    if (k.isAcceptable()) accept();
                    else {
                        Conn c = (Conn) k.attachment();
                        if (k.isReadable()) c.read();
                        if (c.open && k.isValid() && k.isWritable()) c.flush();
                    }
                }
                selector.selectedKeys().clear();
            }
        } catch (IOException e) {
            if (!closing) dropped.warn("loop failed", "loop replay server stopped: {}", e.toString());
        }
    }

    private void accept() throws IOException {
        SocketChannel ch;
        while ((ch = server.accept()) != null) {
            ch.configureBlocking(false);
            ch.socket().setTcpNoDelay(true);
            Conn c = new Conn(ch, System.nanoTime());
            c.key = ch.register(selector, SelectionKey.OP_READ, c);
            conns.add(c);
            c.queue(ByteBuffer.wrap(replay.handshake()));
        }
    }

    /** One client: the replay position, its requests, what is waiting to be written. */
    private final class Conn {
        final SocketChannel ch;
        final long startNs;
        SelectionKey key;
        boolean open = true;
        int pass;
        int index;
        boolean requested;
        final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
        final ByteBuffer in = ByteBuffer.allocate(64 * 1024);
        int clientPhase; // 0 version (12), 1 security choice (1), 2 ClientInit (1), 3 messages

        Conn(SocketChannel ch, long startNs) {
            this.ch = ch;
            this.startNs = startNs;
        }

        long dueNs(int pass, int index) {
            return startNs + (pass * replay.durationMicros() + replay.updates().get(index).micros()) * 1000;
        }

        long nextDueNs() { return requested ? dueNs(pass, index) : Long.MAX_VALUE; }

        void serve(long now) {
            if (!requested || !out.isEmpty()) return;
            int sent = 0;
            long[] late = new long[8];
            while (dueNs(pass, index) <= now) {
                if (sent == late.length) late = java.util.Arrays.copyOf(late, sent * 2);
                late[sent++] = now - dueNs(pass, index);
                out.add(ByteBuffer.wrap(replay.updates().get(index).message()));
                if (++index == replay.updates().size()) {
                    pass++;
                    index = 1; // later passes leave out the first, full, picture
                }
            }
            if (sent == 0) return;
            requested = false;
            synchronized (samplesLock) {
                if (latenessCount + sent > lateness.length) lateness = java.util.Arrays.copyOf(lateness, Math.max(lateness.length * 2, latenessCount + sent));
                System.arraycopy(late, 0, lateness, latenessCount, sent);
                latenessCount += sent;
                updatesSent += sent;
            }
            flush();
        }

        void queue(ByteBuffer b) {
            out.add(b);
            flush();
        }

        void flush() {
            try {
                while (!out.isEmpty()) {
                    ByteBuffer b = out.peek();
                    ch.write(b);
                    if (b.hasRemaining()) break;
                    out.poll();
                }
                key.interestOps(out.isEmpty() ? SelectionKey.OP_READ : SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            } catch (IOException e) {
                close();
            }
        }

        void read() {
            try {
                if (ch.read(in) < 0) {
                    close();
                    return;
                }
            } catch (IOException e) {
                close();
                return;
            }
            in.flip();
            try {
                while (parseOne()) {
                    // each parsed message consumed
                }
            } catch (IllegalStateException e) {
                dropped.warn("bad client", "loop replay server: closing a client: {}", e.getMessage());
                close();
                return;
            }
            in.compact();
        }

        /** Consumes one client message if it is whole; false when more bytes are needed. */
        private boolean parseOne() {
            int n = in.remaining();
            switch (clientPhase) {
                case 0 -> { if (n < 12) return false; in.position(in.position() + 12); clientPhase = 1; return true; }
                case 1, 2 -> { if (n < 1) return false; in.get(); clientPhase++; return true; }
                default -> { }
            }
            if (n < 1) return false;
            int p = in.position();
            int type = in.get(p) & 0xff;
            int len = switch (type) {
                case 0 -> 20; // SetPixelFormat
                case 2 -> n < 4 ? -1 : 4 + 4 * (in.getShort(p + 2) & 0xffff); // SetEncodings
                case 3 -> 10; // FramebufferUpdateRequest
                case 4 -> 8; // KeyEvent
                case 5 -> 6; // PointerEvent
                case 6 -> n < 8 ? -1 : 8 + in.getInt(p + 4); // ClientCutText
                default -> throw new IllegalStateException("unknown RFB client message type " + type);
            };
            if (len > in.capacity() || (type == 6 && n >= 8 && len < 8)) {
                throw new IllegalStateException("RFB client message type " + type + " of " + len + " bytes (at most " + in.capacity() + ")");
            }
            if (len < 0 || n < len) return false;
            if (type == 3) requested = true;
            in.position(p + len);
            return true;
        }

        void close() {
            open = false;
            key.cancel();
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    @Override public void close() throws IOException {
        closing = true;
        selector.wakeup();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Conn c : conns) c.close();
        selector.close();
        server.close();
    }
}
