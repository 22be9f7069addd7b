package io.deskgate.gateway;

import io.deskgate.stream.StreamKeys;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamSession;
import io.deskgate.stream.StreamSessionConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.IntPredicate;

/**
 * The engine's end of one session for tests: a plain java.nio DatagramChannel on loopback and a
 * {@link StreamSession} (ENGINE), driven on the test thread. Not thread-safe.
 */
final class FakeEngine implements AutoCloseable {
    final StreamSession session;
    final List<StreamMessage> received = new ArrayList<>();
    int refreshes;
    private final DatagramChannel channel;
    private final Selector selector;
    private final InetSocketAddress gateway;
    private final ByteBuffer in = ByteBuffer.allocate(65_536);
    private IntPredicate dropFirstSend = i -> false;
    private int sentCount;

    FakeEngine(InetSocketAddress gateway, int tenant, UUID sessionId, byte[] key) throws IOException {
        this.gateway = gateway;
        this.session = new StreamSession(StreamSession.Side.ENGINE, tenant, sessionId, key, StreamSessionConfig.defaults());
        this.channel = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        channel.configureBlocking(false);
        this.selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
    }

    static FakeEngine of(Gateway g, byte[] master, int tenant, UUID sessionId) throws IOException {
        return new FakeEngine(g.udpAddress(), tenant, sessionId, new StreamKeys(master).derive(tenant, sessionId.toString()));
    }

    /** Drops the n-th datagram (counting from 0) of first transmissions when the predicate says so. */
    FakeEngine dropping(IntPredicate firstSendIndex) {
        this.dropFirstSend = firstSendIndex;
        return this;
    }

    void send(StreamMessage m) throws IOException {
        for (byte[] d : session.send(m, System.nanoTime())) {
            if (!dropFirstSend.test(sentCount++)) write(d);
        }
    }

    void sendRaw(byte[] datagram) throws IOException { write(datagram); }

    /** Announces the engine with a keepalive, so the gateway learns its address. */
    void hello() throws IOException { write(session.probe(System.nanoTime())); }

    /** Reads what arrived (waiting at most {@code waitMs}), answers NACKs and runs the timers. */
    void pump(long waitMs) throws IOException {
        selector.select(Math.max(1, waitMs));
        selector.selectedKeys().clear();
        long now = System.nanoTime();
        while (true) {
            in.clear();
            if (channel.receive(in) == null) break;
            StreamSession.Receipt r = session.receive(in.array(), in.position(), now);
            received.addAll(r.delivered());
            if (r.refreshNeeded()) refreshes++;
            for (byte[] d : r.replies()) write(d);
        }
        StreamSession.Receipt t = session.tick(now);
        received.addAll(t.delivered());
        if (t.refreshNeeded()) refreshes++;
        for (byte[] d : t.replies()) write(d);
    }

    private void write(byte[] d) throws IOException { channel.send(ByteBuffer.wrap(d), gateway); }

    @Override public void close() throws IOException {
        selector.close();
        channel.close();
    }
}
