package io.deskgate.gateway;

import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamMessage;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import java.util.ArrayDeque;

/**
 * Turns each outbound {@link StreamMessage} into one binary WebSocket frame, and bounds what waits for
 * a slow browser: while the channel is not writable, messages wait in a small queue; past its bound
 * the queue is dropped whole (and every message after it until the channel drains), and once the
 * channel is writable again {@code resync} runs so the engine sends the whole picture. Never an
 * unbounded queue. Runs on the WebSocket channel's event loop; other outbound objects pass through.
 */
final class DownstreamFlowHandler extends ChannelDuplexHandler {
    static final int MAX_QUEUED_MESSAGES = 256;
    static final long MAX_QUEUED_BYTES = 4L << 20;

    private final Runnable resync;
    private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
    private long queuedBytes;
    private boolean overflowed;

    /** @param resync run on this channel's event loop when frames were dropped and the channel drained */
    DownstreamFlowHandler(Runnable resync) {
        this.resync = resync;
    }

    @Override public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof StreamMessage m)) {
            ctx.write(msg, promise);
            return;
        }
        byte[] frame = StreamCodec.encode(m);
        if (!overflowed && queue.isEmpty() && ctx.channel().isWritable()) {
            ctx.write(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(frame)), promise);
            return;
        }
        promise.trySuccess(); // queued or dropped: the caller does not wait on browser frames
        if (overflowed) return;
        queue.add(frame);
        queuedBytes += frame.length;
        if (queue.size() > MAX_QUEUED_MESSAGES || queuedBytes > MAX_QUEUED_BYTES) {
            queue.clear();
            queuedBytes = 0;
            overflowed = true;
        }
    }

    @Override public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) drain(ctx);
        ctx.fireChannelWritabilityChanged();
    }

    /** Number of messages waiting; for tests. */
    int queued() { return queue.size(); }

    boolean overflowed() { return overflowed; }

    private void drain(ChannelHandlerContext ctx) {
        if (overflowed) {
            overflowed = false;
            resync.run();
            return;
        }
        boolean wrote = false;
        while (!queue.isEmpty() && ctx.channel().isWritable()) {
            byte[] frame = queue.poll();
            queuedBytes -= frame.length;
            ctx.write(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(frame)), ctx.voidPromise());
            wrote = true;
        }
        if (wrote) ctx.flush();
    }
}
