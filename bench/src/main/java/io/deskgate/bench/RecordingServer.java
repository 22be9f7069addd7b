package io.deskgate.bench;

import io.deskgate.common.RateLimitedLog;
import io.deskgate.testkit.TimedRecording;
import io.deskgate.testkit.TimedRecording.Chunk;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a recorded RFB stream ({@link TimedRecording}) to RFB clients on 127.0.0.1, for benchmarks that need many
 * desktops without Xvnc ({@code bench sessions}, later): each connection gets the recording's server bytes from its
 * first byte (ProtocolVersion, security None, ServerInit, the updates), each chunk at its recorded time after the
 * connection opens (times divided by {@code speed}; 0 = as fast as the socket takes them), then the connection stays
 * open, silent, until the client closes it. It is a replay, not a VNC server: what the client sends is read and
 * dropped, so a client must ask what the recorder's client asked (security None, 32-bit true colour,
 * {@code WorkloadRecorder.encodings} of the twin) to decode it. Thread-safe; one virtual thread per connection.
 */
public final class RecordingServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RecordingServer.class);
    private static final RateLimitedLog dropped = new RateLimitedLog(log);

    private final TimedRecording recording;
    private final double speed;
    private final ServerSocket server;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;

    /** Listens on 127.0.0.1, a free port. */
    public RecordingServer(TimedRecording recording, double speed) throws IOException {
        if (!(speed >= 0)) throw new IllegalArgumentException("speed must be >= 0 (0: as fast as possible), was " + speed);
        this.recording = recording;
        this.speed = speed;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        acceptor = Thread.ofPlatform().daemon().name("recording-server").start(this::acceptLoop);
    }

    public int port() { return server.getLocalPort(); }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (!server.isClosed()) dropped.warn("accept failed", "recording server: accept failed: {}", e.toString());
                continue;
            }
            open.add(s);
            Thread.ofVirtual().name("recording-drain").start(() -> drain(s));
            Thread.ofVirtual().name("recording-serve").start(() -> serve(s));
        }
    }

    /** Reads and drops what the client sends; closes the connection when the client does. */
    private void drain(Socket s) {
        byte[] buf = new byte[8192];
        try (InputStream in = s.getInputStream()) {
            while (in.read(buf) >= 0) {
                // dropped: the recording already holds the server's answers
            }
        } catch (IOException e) {
            // the connection closed under us
        } finally {
            closeQuietly(s);
        }
    }

    private void serve(Socket s) {
        long startNs = System.nanoTime();
        try {
            s.setTcpNoDelay(true);
            OutputStream out = s.getOutputStream();
            for (Chunk c : recording.chunks()) {
                if (speed > 0) {
                    long wait = startNs + (long) (c.micros() * 1000 / speed) - System.nanoTime();
                    if (wait > 0) Thread.sleep(Duration.ofNanos(wait));
                }
                out.write(c.bytes());
            }
            out.flush();
        } catch (IOException e) {
            dropped.info("client left", "recording server: client left during the replay: {}", e.toString());
            closeQuietly(s);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(s);
        }
    }

    private void closeQuietly(Socket s) {
        open.remove(s);
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override public void close() throws IOException {
        server.close();
        for (Socket s : open) closeQuietly(s);
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
