package io.deskgate.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Many slow HTTP clients, as an unauthenticated attacker would run them: each connection sends a login
 * request's headers and the start of a body it promises to be {@link #PROMISED_BODY_BYTES} long, then one
 * more byte every tick, never finishing. A connection the server closes is opened again at the next tick,
 * so {@code count} connections stay open or opening the whole time. One background thread, non-blocking
 * sockets, loopback only. For tests; {@link #close()} stops the thread and closes every connection.
 */
public final class SlowClients implements AutoCloseable {
    public static final int PROMISED_BODY_BYTES = 1000;

    private final InetSocketAddress target;
    private final byte[] head;
    private final SocketChannel[] channels;
    private final Duration tick;
    private final Thread thread;
    private final AtomicLong reopened = new AtomicLong();
    private final AtomicInteger openNow = new AtomicInteger();
    private final AtomicLong ticks = new AtomicLong();
    private volatile boolean running = true;

    private SlowClients(InetSocketAddress target, String path, int count, Duration tick) {
        if (!target.getAddress().isLoopbackAddress()) throw new IllegalArgumentException("loopback targets only");
        this.target = target;
        this.head = ("POST " + path + " HTTP/1.1\r\nHost: " + target.getHostString() + ":" + target.getPort()
                + "\r\nContent-Type: application/json\r\nContent-Length: " + PROMISED_BODY_BYTES
                + "\r\n\r\n{\"username\":\"").getBytes(StandardCharsets.US_ASCII);
        this.channels = new SocketChannel[count];
        this.tick = tick;
        this.thread = new Thread(this::run, "slow-clients");
        this.thread.setDaemon(true);
    }

    /** Opens {@code count} slow connections to {@code path} on {@code target} and keeps them going every {@code tick}. */
    public static SlowClients start(InetSocketAddress target, String path, int count, Duration tick) {
        SlowClients c = new SlowClients(target, path, count, tick);
        for (int i = 0; i < count; i++) c.reopen(i);
        c.thread.start();
        return c;
    }

    /** Connections open at the last tick. */
    public int openNow() { return openNow.get(); }

    /** Connections the server closed and this opened again. */
    public long reopened() { return reopened.get(); }

    public long ticks() { return ticks.get(); }

    private void run() {
        ByteBuffer sink = ByteBuffer.allocate(4096);
        long next = System.nanoTime();
        while (running) {
            int open = 0;
            for (int i = 0; i < channels.length && running; i++) {
                SocketChannel ch = channels[i];
                boolean alive = ch != null;
                if (alive) {
                    try {
                        sink.clear();
                        if (ch.read(sink) < 0) alive = false; // the server closed it (an answer, if any, is dropped)
                        else if (ch.write(ByteBuffer.wrap(new byte[] {'a'})) < 0) alive = false;
                    } catch (IOException e) {
                        alive = false;
                    }
                }
                if (!alive) {
                    reopened.incrementAndGet();
                    alive = reopen(i);
                }
                if (alive) open++;
            }
            openNow.set(open);
            ticks.incrementAndGet();
            next += tick.toNanos();
            long sleep = next - System.nanoTime();
            if (sleep > 0) {
                try {
                    Thread.sleep(Duration.ofNanos(sleep)); // the pace of the attack itself, not a wait for a condition
                } catch (InterruptedException e) {
                    return;
                }
            } else {
                next = System.nanoTime();
            }
        }
    }

    private boolean reopen(int i) {
        closeQuietly(channels[i]);
        channels[i] = null;
        try {
            SocketChannel ch = SocketChannel.open();
            ch.socket().connect(target, 2000);
            ch.configureBlocking(false);
            ByteBuffer b = ByteBuffer.wrap(head);
            ch.write(b);
            channels[i] = ch;
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        if (ch == null) return;
        try {
            ch.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(10_000);
        // A connection whose reopening failed (or was interrupted by this close) left a null slot.
        Arrays.stream(channels).forEach(SlowClients::closeQuietly);
    }
}
