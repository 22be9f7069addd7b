package io.deskgate.gateway;

import io.deskgate.common.Status;
import io.deskgate.stream.StreamMessage;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import java.util.concurrent.TimeUnit;

/**
 * One browser's WebSocket attached to one session. Thread-safe: every method may be called from any
 * thread (Netty queues the work on the channel's event loop).
 */
final class BrowserLink {
    /** How long a refused browser may go on sending before its socket is closed. */
    static final long LINGER_MS = 2_000;

    private final Channel channel;
    private final SessionKey session;

    BrowserLink(Channel channel, SessionKey session) {
        this.channel = channel;
        this.session = session;
    }

    SessionKey session() { return session; }

    Channel channel() { return channel; }

    /** Queues one down message; {@link DownstreamFlowHandler} turns it into one binary frame. */
    void send(StreamMessage message) {
        channel.writeAndFlush(message, channel.voidPromise());
    }

    /** Sends a close frame with {@code code} and a short reason, then closes the connection. */
    void close(int code, String reason) {
        close(channel, code, reason);
    }

    void close(Status status, String reason) {
        close(status.wsCloseCode(), reason);
    }

    static void close(Channel channel, int code, String reason) {
        if (!channel.isActive()) return;
        channel.writeAndFlush(new CloseWebSocketFrame(code, reason)).addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * Closes after a refused frame the peer may still be sending (e.g. one over the size limit): sends the
     * close frame, shuts down output, and closes the socket only when the peer closes or after
     * {@link #LINGER_MS}, so that the peer reads the close code instead of a TCP reset caused by its
     * unread bytes. Meanwhile the failed frame decoder discards whatever arrives.
     */
    static void lingerClose(Channel channel, int code, String reason) {
        if (!channel.isActive()) return;
        channel.writeAndFlush(new CloseWebSocketFrame(code, reason)).addListener(done -> {
            if (channel instanceof DuplexChannel duplex) {
                duplex.shutdownOutput();
                channel.eventLoop().schedule(() -> { channel.close(); }, LINGER_MS, TimeUnit.MILLISECONDS);
            } else {
                channel.close();
            }
        });
    }
}
