package io.deskgate.engine;

import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.FrameAck;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.Resize;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.StreamSession;
import io.deskgate.stream.StreamSessionConfig;
import io.deskgate.stream.TileCanvas;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;

/**
 * Plays the gateway for one session on 127.0.0.1: receives the engine's datagrams with a real
 * {@link StreamSession}, draws tiles on a {@link TileCanvas}, acknowledges frames and sends input up.
 * Like the real gateway with a browser waiting, it attaches (sends a REFRESH_REQUEST up) when it first
 * hears the engine, unless built not to. Single-threaded: driven by the test through {@link #pumpUntil}.
 */
final class TestGateway implements AutoCloseable {
    final DatagramChannel channel;
    final Selector selector;
    final StreamSession session;
    final List<StreamMessage> received = new ArrayList<>();
    final ByteBuffer buffer = ByteBuffer.allocate(65_536);
    final boolean attach;
    SocketAddress engine;
    TileCanvas canvas;
    int tiles;
    int frames;
    long lastTileNs;

    TestGateway(int tenant, UUID sessionId, byte[] key) throws IOException {
        this(tenant, sessionId, key, true);
    }

    /** @param attach whether to attach a browser (REFRESH_REQUEST up) once the engine is heard */
    TestGateway(int tenant, UUID sessionId, byte[] key, boolean attach) throws IOException {
        this.attach = attach;
        channel = DatagramChannel.open();
        channel.setOption(StandardSocketOptions.SO_RCVBUF, 8 << 20);
        channel.bind(new InetSocketAddress("127.0.0.1", 0));
        channel.configureBlocking(false);
        selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
        session = new StreamSession(StreamSession.Side.GATEWAY, tenant, sessionId, key, StreamSessionConfig.defaults());
    }

    int port() throws IOException {
        return ((InetSocketAddress) channel.getLocalAddress()).getPort();
    }

    void send(StreamMessage up) throws IOException {
        if (engine == null) throw new AssertionError("the engine has not sent anything yet");
        sendAll(session.send(up, System.nanoTime()));
    }

    /** Pumps datagrams until {@code condition} holds; false if {@code timeout} passed first. */
    boolean pumpUntil(BooleanSupplier condition, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) return false;
            pumpOnce();
        }
        return true;
    }

    private void pumpOnce() throws IOException {
        selector.select(10);
        selector.selectedKeys().clear();
        SocketAddress from;
        while ((from = channel.receive(buffer.clear())) != null) {
            boolean first = engine == null;
            engine = from;
            handle(session.receive(buffer.array(), buffer.position(), System.nanoTime()));
            if (first && attach) send(new RefreshRequest());
        }
        if (engine != null) handle(session.tick(System.nanoTime()));
    }

    private void handle(StreamSession.Receipt receipt) throws IOException {
        sendAll(receipt.replies());
        for (StreamMessage m : receipt.delivered()) {
            received.add(m);
            switch (m) {
                case Resize r -> canvas = new TileCanvas(r.w(), r.h());
                case Tile t -> {
                    canvas.paint(t);
                    tiles++;
                    lastTileNs = System.nanoTime();
                }
                case CopyRect c -> canvas.copy(c);
                case FrameEnd f -> {
                    frames++;
                    send(new FrameAck(f.frameId(), f.serverTimeMicros()));
                }
                default -> { }
            }
        }
        if (receipt.refreshNeeded()) send(new RefreshRequest());
    }

    private void sendAll(List<byte[]> datagrams) throws IOException {
        for (byte[] d : datagrams) channel.send(ByteBuffer.wrap(d), engine);
    }

    @Override public void close() throws IOException {
        selector.close();
        channel.close();
    }
}
