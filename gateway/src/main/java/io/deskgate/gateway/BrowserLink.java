package io.deskgate.gateway;

import io.deskgate.common.Status;
import io.deskgate.wire.StreamMessage;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;

/**
 * One browser's WebSocket attached to one session. Thread-safe: every method may be called from any
 * thread (Netty queues the work on the channel's event loop).
 */
final class BrowserLink {
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
}
