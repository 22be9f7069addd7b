package io.deskgate.bench;

import io.deskgate.common.ProtocolException;
import io.deskgate.common.RateLimitedLog;
import io.deskgate.engine.NanoClock;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.FrameAck;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamSession;
import io.deskgate.stream.StreamSessionConfig;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The browser side of {@code bench sessions}: one UDP receiver per session, all on one platform thread (its CPU is
 * {@link #cpuNs()}, not the engine's). Each holds a real {@link StreamSession} (the gateway's side of the leg:
 * decrypts, reassembles, answers), attaches when it first hears the engine (REFRESH_REQUEST up, as the gateway does
 * when a browser waits) and answers every FRAME_END at once with its FRAME_ACK, as a browser does. Tiles are not
 * decoded (a browser's work, not the engine's). A frame's <em>delay</em> is the FRAME_END's arrival here minus its
 * {@code serverTimeMicros} (the engine's clock, which the bench gives the engine and the receivers, at the end of
 * the RFB update the frame carries).
 */
final class AckingReceivers implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AckingReceivers.class);
    private static final RateLimitedLog dropped = new RateLimitedLog(log);

    /** A session's receiving end. */
    final class Receiver {
        final UUID sessionId = UUID.randomUUID();
        final byte[] key;
        final DatagramChannel channel;
        final StreamSession session;
        SocketAddress engine;
        volatile long frames;

        Receiver(int tenant, byte[] key) throws IOException {
            this.key = key.clone();
            channel = DatagramChannel.open();
            channel.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
            channel.bind(new InetSocketAddress("127.0.0.1", 0));
            channel.configureBlocking(false);
            session = new StreamSession(StreamSession.Side.GATEWAY, tenant, sessionId, key, StreamSessionConfig.defaults());
        }

        int port() throws IOException { return ((InetSocketAddress) channel.getLocalAddress()).getPort(); }

        private void receive(ByteBuffer buffer) throws IOException {
            SocketAddress from;
            while ((from = channel.receive(buffer.clear())) != null) {
                boolean first = engine == null;
                engine = from;
                long now = System.nanoTime();
                try {
                    handle(session.receive(buffer.array(), buffer.position(), now), now);
                } catch (ProtocolException e) {
                    dropped.warn("bad datagram", "sessions bench: dropped a datagram: {}", e.getMessage());
                }
                if (first) send(new RefreshRequest(), now);
            }
        }

        private void handle(StreamSession.Receipt r, long now) throws IOException {
            sendAll(r.replies());
            for (StreamMessage m : r.delivered()) {
                if (m instanceof FrameEnd f) {
                    frames++;
                    delays.add(clock.nowNs() / 1000 - f.serverTimeMicros());
                    send(new FrameAck(f.frameId(), f.serverTimeMicros()), now);
                }
            }
            if (r.refreshNeeded()) send(new RefreshRequest(), now);
        }

        private void send(StreamMessage m, long now) throws IOException { sendAll(session.send(m, now)); }

        private void sendAll(List<byte[]> datagrams) throws IOException {
            for (byte[] d : datagrams) channel.send(ByteBuffer.wrap(d), engine);
        }
    }

    private final Selector selector;
    private final ConcurrentLinkedQueue<Receiver> added = new ConcurrentLinkedQueue<>();
    private final List<Receiver> receivers = new ArrayList<>(); // the thread's only
    private final ConcurrentLinkedQueue<Long> delays = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean closing;
    private volatile long threadId = -1;
    private final NanoClock clock;

    /** @param clock the engine's clock: a FRAME_END's serverTime is its value in microseconds */
    AckingReceivers(NanoClock clock) throws IOException {
        this.clock = clock;
        selector = Selector.open();
        thread = Thread.ofPlatform().daemon().name("acking-receivers").start(this::loop);
    }

    /** A new receiver, served from now on. */
    Receiver add(int tenant, byte[] key) throws IOException {
        Receiver r = new Receiver(tenant, key);
        added.add(r);
        selector.wakeup();
        return r;
    }

    /** The delay of every frame since the last call, microseconds, sorted. */
    long[] drainDelaysMicros() {
        List<Long> out = new ArrayList<>();
        Long d;
        while ((d = delays.poll()) != null) out.add(d);
        long[] a = out.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(a);
        return a;
    }

    long cpuNs() {
        long id = threadId;
        return id < 0 ? 0 : Math.max(0, ManagementFactory.getThreadMXBean().getThreadCpuTime(id));
    }

    private void loop() {
        threadId = Thread.currentThread().threadId();
        ByteBuffer buffer = ByteBuffer.allocate(StreamSessionConfig.MAX_DATAGRAM_BYTES);
        long lastTick = System.nanoTime();
        try {
            while (!closing) {
                Receiver r;
                while ((r = added.poll()) != null) {
                    r.channel.register(selector, SelectionKey.OP_READ, r);
                    receivers.add(r);
                }
                selector.select(10);
                for (SelectionKey k : selector.selectedKeys()) ((Receiver) k.attachment()).receive(buffer);
                selector.selectedKeys().clear();
                long now = System.nanoTime();
                if (now - lastTick >= 10_000_000L) {
                    lastTick = now;
                    for (Receiver x : receivers) if (x.engine != null) x.handle(x.session.tick(now), now);
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!closing) dropped.warn("receivers failed", "sessions bench: receivers stopped: {}", e.toString());
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
        for (Receiver r : receivers) r.channel.close();
        for (Receiver r : added) r.channel.close();
        selector.close();
    }
}
