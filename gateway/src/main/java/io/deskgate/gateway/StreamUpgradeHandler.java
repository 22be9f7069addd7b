package io.deskgate.gateway;

import io.deskgate.common.Status;
import io.deskgate.common.TokenClaims;
import io.deskgate.common.TokenSigner;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One-shot handler for the HTTP request that opens a browser's stream: {@code GET /stream?token=...}
 * with a WebSocket upgrade. Any other path is 404, a request without an upgrade 400. The upgrade is
 * always completed; a token that does not verify as a STREAM token (bad, expired, unknown) or that was
 * used before (STREAM tokens are single-use: see {@link SpentTokens}) is then answered with close code
 * 4401, so the browser sees one clear reason. With a good token the handler hands the channel to
 * {@code attach} and removes itself. Runs on the channel's event loop; the request is released by
 * {@link SimpleChannelInboundHandler}. Never logs the token or the URI that holds it.
 */
final class StreamUpgradeHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    /** Called on the channel's event loop once the upgrade is done and the token verified. */
    interface Attach {
        void attach(ChannelHandlerContext ctx, SessionKey session);
    }

    static final String PATH = "/stream";
    private static final Logger LOG = LoggerFactory.getLogger(StreamUpgradeHandler.class);

    /**
     * A verified, first-use token's session, or why the browser is refused: {@code why} for the log,
     * {@code reason} for the close frame; neither holds the token.
     */
    private record Verdict(Optional<SessionKey> session, String why, String reason) {
        static Verdict refused(String why, String reason) { return new Verdict(Optional.empty(), why, reason); }
    }

    private final TokenSigner tokens;
    private final SpentTokens spent;
    private final Clock clock;
    private final int maxFrameBytes;
    private final Attach attach;

    /** @param spent the gateway's single-use record, shared by every connection */
    StreamUpgradeHandler(TokenSigner tokens, SpentTokens spent, Clock clock, int maxFrameBytes, Attach attach) {
        super(FullHttpRequest.class, true);
        this.tokens = tokens;
        this.spent = spent;
        this.clock = clock;
        this.maxFrameBytes = maxFrameBytes;
        this.attach = attach;
    }

    @Override protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        QueryStringDecoder query = new QueryStringDecoder(req.uri());
        if (!query.path().equals(PATH)) {
            respond(ctx, HttpResponseStatus.NOT_FOUND);
            return;
        }
        if (!req.method().equals(HttpMethod.GET) || !req.headers().containsValue(HttpHeaderNames.UPGRADE, "websocket", true)) {
            respond(ctx, HttpResponseStatus.BAD_REQUEST);
            return;
        }
        WebSocketDecoderConfig decoder = WebSocketDecoderConfig.newBuilder().maxFramePayloadLength(maxFrameBytes)
                .allowExtensions(false).closeOnProtocolViolation(false).build(); // BrowserFrameHandler closes: see lingerClose
        WebSocketServerHandshaker handshaker = new WebSocketServerHandshakerFactory(PATH, null, decoder).newHandshaker(req);
        if (handshaker == null) {
            WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
            return;
        }
        Verdict verdict = verify(query.parameters().getOrDefault("token", List.of()));
        Optional<SessionKey> session = verdict.session();
        Channel ch = ctx.channel();
        handshaker.handshake(ch, req).addListener(done -> {
            if (!done.isSuccess()) {
                LOG.warn("WebSocket upgrade from {} failed: {}", ch.remoteAddress(), done.cause().toString());
                ch.close();
                return;
            }
            if (session.isEmpty()) {
                LOG.warn("browser from {} refused: {}", ch.remoteAddress(), verdict.why());
                BrowserLink.close(ch, Status.UNAUTHORIZED.wsCloseCode(), verdict.reason());
                return;
            }
            ctx.pipeline().remove(this);
            attach.attach(ctx, session.get());
        });
    }

    private Verdict verify(List<String> token) {
        Verdict invalid = Verdict.refused("invalid or expired stream token", "invalid or expired token");
        if (token.size() != 1) return invalid;
        Instant now = clock.instant();
        Optional<TokenClaims> claims = tokens.verify(token.getFirst(), TokenClaims.STREAM, now);
        if (claims.isEmpty()) return invalid;
        SessionKey session;
        try {
            session = new SessionKey(claims.get().tenant(), UUID.fromString(claims.get().sessionId()));
        } catch (IllegalArgumentException e) {
            return invalid; // signed, but not for a session this gateway can serve
        }
        return switch (spent.spend(token.getFirst(), claims.get().expiresAt(), now)) {
            case FIRST -> new Verdict(Optional.of(session), "", "");
            case REUSED -> Verdict.refused("stream token for session " + session + " already used (tokens are single-use)",
                    "token already used");
            case FULL -> Verdict.refused("stream token for session " + session + " not accepted: too many unexpired tokens"
                    + " spent recently", "gateway busy, try again");
        };
    }

    private static void respond(ChannelHandlerContext ctx, HttpResponseStatus status) {
        DefaultFullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(status.reasonPhrase() + "\n", StandardCharsets.US_ASCII));
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain").setInt(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes());
        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
    }

    @Override public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.warn("HTTP connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
