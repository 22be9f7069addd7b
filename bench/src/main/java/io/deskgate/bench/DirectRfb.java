package io.deskgate.bench;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.rfb.RfbClient;
import io.deskgate.rfb.RfbEncodings;
import io.deskgate.rfb.RfbListener;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

/**
 * A direct RFB client on a desktop, the reference of the live input latency: a shared connection (the engine's stays
 * connected) that, while {@linkplain #watch watching}, asks for an incremental update after each one and notes when
 * an update changed the framebuffer's pixels. {@link #pressAndAwaitChange} sends a key press and release and returns
 * the time from writing the press to the end of the first FramebufferUpdate that changed pixels.
 *
 * <p>Threads: one platform thread owns the socket and the {@link RfbClient} (a single-threaded core); other threads
 * hand it commands through a queue and read what it noted under this object's lock.
 */
final class DirectRfb implements AutoCloseable {
    private static final int READ_TIMEOUT_MS = 2;

    private final Socket socket;
    private final RfbClient client;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Consumer<RfbClient>> commands = new ConcurrentLinkedQueue<>();
    private volatile boolean closing;
    private volatile boolean watching;
    // Under this object's lock:
    private boolean ready;
    private int[] lastPixels = new int[0];
    private long changes;
    private long lastChangeNs;
    private long lastWriteNs;
    private String failure = "";

    private DirectRfb(Socket socket, String password) {
        this.socket = socket;
        this.client = new RfbClient(password, true, new Listener(), RfbEncodings.DEFAULT);
        this.thread = Thread.ofPlatform().daemon().name("bench-direct-rfb").unstarted(this::run);
    }

    /**
     * Connects to {@code host:port} with the desktop's one-time {@code password} and waits for the first full update.
     *
     * @throws DeskgateException when the desktop refuses or nothing arrives within {@code timeout}
     */
    static DirectRfb connect(String host, int port, String password, Duration timeout) {
        Socket socket;
        try {
            socket = new Socket(host, port);
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(READ_TIMEOUT_MS);
        } catch (IOException e) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the direct RFB reference cannot connect to " + host + ":" + port
                    + ": " + e.getMessage());
        }
        DirectRfb rfb = new DirectRfb(socket, password);
        rfb.thread.start();
        long end = System.nanoTime() + timeout.toNanos();
        synchronized (rfb) {
            while (!rfb.ready && rfb.failure.isEmpty()) {
                long left = end - System.nanoTime();
                if (left <= 0) break;
                try {
                    rfb.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (!rfb.ready) {
                String why = rfb.failure.isEmpty() ? "no first update within " + timeout.toMillis() + " ms" : rfb.failure;
                rfb.close();
                throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the direct RFB reference did not start: " + why);
            }
        }
        return rfb;
    }

    /** Starts or stops asking for updates (stopped, the desktop sends this connection nothing and it costs nothing). */
    void watch(boolean on) {
        watching = on;
        if (on) commands.add(c -> c.requestUpdate(false));
    }

    /** Updates that changed pixels so far, and when the last did. */
    synchronized long changes() { return changes; }

    /**
     * Sends {@code keysym} pressed and released, then waits for an update that changed pixels; returns the nanoseconds
     * from writing the press to that update's end.
     *
     * @throws DeskgateException when no change comes within {@code timeout}
     */
    long pressAndAwaitChange(long keysym, Duration timeout) {
        long before;
        synchronized (this) {
            before = changes;
            lastWriteNs = 0;
        }
        commands.add(c -> {
            c.keyEvent(true, keysym);
            c.keyEvent(false, keysym);
        });
        long end = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while (changes == before || lastWriteNs == 0) {
                if (!failure.isEmpty()) throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the direct RFB reference failed: " + failure);
                long left = end - System.nanoTime();
                if (left <= 0) throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the direct RFB reference saw no change within "
                        + timeout.toMillis() + " ms of a key press");
                try {
                    wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new DeskgateException(Status.INTERNAL_ERROR, "interrupted while waiting for the direct RFB reference");
                }
            }
            return lastChangeNs - lastWriteNs;
        }
    }

    /** Waits until no update changed pixels for {@code quiet} (bounded by {@code timeout}); false if it stayed busy. */
    boolean awaitQuiet(Duration quiet, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            long since;
            synchronized (this) {
                since = System.nanoTime() - lastChangeNs;
            }
            if (since >= quiet.toNanos()) return true;
            try {
                Thread.sleep(Math.max(1, (quiet.toNanos() - since) / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    private void run() {
        byte[] buf = new byte[1 << 16];
        try (socket) {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            while (!closing) {
                Consumer<RfbClient> c;
                boolean input = false;
                while ((c = commands.poll()) != null) {
                    if (client.isReady()) c.accept(client);
                    input = true;
                }
                byte[] outgoing = client.drainOutgoing();
                if (outgoing.length > 0) {
                    out.write(outgoing);
                    out.flush();
                    if (input) {
                        synchronized (this) {
                            lastWriteNs = System.nanoTime();
                        }
                    }
                }
                int n;
                try {
                    n = in.read(buf);
                } catch (SocketTimeoutException e) {
                    continue;
                }
                if (n < 0) {
                    fail("the desktop closed the connection");
                    return;
                }
                client.receive(buf, 0, n);
            }
        } catch (IOException | RuntimeException e) {
            if (!closing) fail(e.getMessage() == null ? e.toString() : e.getMessage());
        } finally {
            client.close();
        }
    }

    private synchronized void fail(String why) {
        failure = why;
        notifyAll();
    }

    @Override
    public void close() {
        closing = true;
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
        try {
            thread.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private final class Listener implements RfbListener {
        @Override
        public void onServerInit(int width, int height, String name) {
            client.requestUpdate(false);
        }

        /** Called on the I/O thread from {@link RfbClient#receive}. */
        @Override
        public void onUpdateEnd() {
            int[] pixels = client.framebuffer().pixels();
            long now = System.nanoTime();
            synchronized (DirectRfb.this) {
                if (!ready) {
                    ready = true;
                    lastPixels = pixels.clone();
                    lastChangeNs = now;
                } else if (!Arrays.equals(pixels, lastPixels)) {
                    lastPixels = pixels.clone();
                    changes++;
                    lastChangeNs = now;
                }
                DirectRfb.this.notifyAll();
            }
            if (watching) client.requestUpdate(true);
        }
    }
}
