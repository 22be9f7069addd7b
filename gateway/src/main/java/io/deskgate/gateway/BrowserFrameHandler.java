package io.deskgate.gateway;

import io.deskgate.common.ProtocolException;
import io.deskgate.common.RateLimitedLog;
import io.deskgate.common.Status;
import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.ViewerLeft;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.util.function.Consumer;

/**
 * Reads an attached browser's frames: each binary frame is one up stream message, decoded and passed
 * to {@code upward} (which hops to the UDP event loop). A down message, a VIEWER_LEFT (only the gateway
 * itself sends that one), a text or fragmented frame, or malformed bytes close this WebSocket with
 * PROTOCOL_ERROR; other browsers are unaffected. Frames
 * over the size limit are refused by Netty's decoder with 1009 before they get here. Runs on the
 * channel's event loop; frames are released by {@link SimpleChannelInboundHandler} after reading. Each
 * refusal is one short line, rate-limited per reason and without a stack ({@link RateLimitedLog}).
 */
final class BrowserFrameHandler extends SimpleChannelInboundHandler<WebSocketFrame> {
    private final SessionKey session;
    private final RateLimitedLog refusals;
    private final Consumer<StreamMessage> upward;
    private final Runnable onClosed;

    /**
     * @param upward   receives each decoded up message, on this channel's event loop
     * @param onClosed runs once when the connection closes
     * @param refusals the gateway's log of refused frames, shared by every browser
     */
    BrowserFrameHandler(SessionKey session, Consumer<StreamMessage> upward, Runnable onClosed, RateLimitedLog refusals) {
        super(WebSocketFrame.class, true);
        this.refusals = refusals;
        this.session = session;
        this.upward = upward;
        this.onClosed = onClosed;
    }

    @Override protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
        switch (frame) {
            case BinaryWebSocketFrame b when b.isFinalFragment() -> {
                StreamMessage m;
                try {
                    m = StreamCodec.decode(ByteBufUtil.getBytes(b.content()));
                    if (!m.isUp()) throw new ProtocolException("down message type " + m.type() + " from a browser");
                    if (m instanceof ViewerLeft) throw new ProtocolException("VIEWER_LEFT from a browser: only a gateway sends it");
                } catch (ProtocolException e) {
                    refusals.warn("malformed message", "session {}: closing browser: {}", session, e.getMessage());
                    BrowserLink.close(ctx.channel(), e.status().wsCloseCode(), "malformed stream message");
                    return;
                }
                upward.accept(m);
            }
            case PingWebSocketFrame p -> ctx.writeAndFlush(new PongWebSocketFrame(p.content().retain()));
            case PongWebSocketFrame p -> { }
            case CloseWebSocketFrame c -> ctx.writeAndFlush(new CloseWebSocketFrame(Status.OK.wsCloseCode(), "bye"))
                    .addListener(f -> ctx.close());
            default -> {
                refusals.warn("unexpected frame", "session {}: closing browser: unexpected {} frame", session,
                        frame.getClass().getSimpleName());
                BrowserLink.close(ctx.channel(), Status.PROTOCOL_ERROR.wsCloseCode(), "only whole binary frames");
            }
        }
    }

    @Override public void channelInactive(ChannelHandlerContext ctx) {
        onClosed.run();
        ctx.fireChannelInactive();
    }

    @Override public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof CorruptedWebSocketFrameException c) {
            refusals.warn("frame refused", "session {}: browser frame refused: {}", session, c.getMessage());
            BrowserLink.lingerClose(ctx.channel(), c.closeStatus().code(), c.closeStatus().reasonText());
        } else {
            refusals.warn("connection failed", "session {}: browser connection failed: {}", session, cause);
            ctx.close();
        }
    }
}
