package io.deskgate.gateway;

import io.deskgate.common.RateLimitedLog;
import io.deskgate.common.Status;
import io.deskgate.stream.StreamIds;
import io.deskgate.tokens.SignedToken;
import io.deskgate.tokens.TokenClaims;
import io.deskgate.tokens.TokenSigner;
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

/**
 * One-shot handler for the HTTP request that opens a browser's stream: {@code GET /stream?token=...}
 * with a WebSocket upgrade. Any other path is 404, a request without an upgrade 400. The upgrade is
 * always completed; a token that does not verify as a STREAM token (bad, expired, unknown) or that was
 * used before (STREAM tokens are single-use: see {@link SpentTokens}) is then answered with close code
 * 4401, so the browser sees one clear reason. A token is spent only once the handshake has succeeded, so
 * a failed upgrade does not burn it. With a good token the handler hands the channel to {@code attach}
 * and removes itself. Runs on the channel's event loop; the request is released by
 * {@link SimpleChannelInboundHandler}. Every refusal is one short line, rate-limited per reason
 * ({@link RateLimitedLog}), without a stack trace. Never logs the token or the URI that holds it.
 */
final class StreamUpgradeHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    /** Called on the channel's event loop once the upgrade is done and the token verified. */
    interface Attach {
        void attach(ChannelHandlerContext ctx, SessionKey session);
    }

    static final String PATH = "/stream";

    /**
     * A verified token and its session, or why the browser is refused: {@code why} for the log,
     * {@code reason} for the close frame; neither holds the token.
     */
    private record Verdict(Optional<SignedToken> token, Optional<SessionKey> session, String why, String reason) {
        static Verdict refused(String why, String reason) {
            return new Verdict(Optional.empty(), Optional.empty(), why, reason);
        }
    }

    private final TokenSigner tokens;
    private final SpentTokens spent;
    private final Clock clock;
    private final int maxFrameBytes;
    private final Attach attach;
    private final RateLimitedLog refusals;

    /**
     * @param spent    the gateway's single-use record, shared by every connection
     * @param refusals the gateway's log of refused connections, shared by every connection
     */
    StreamUpgradeHandler(TokenSigner tokens, SpentTokens spent, Clock clock, int maxFrameBytes, Attach attach,
                         RateLimitedLog refusals) {
        super(FullHttpRequest.class, true);
        this.refusals = refusals;
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
        Verdict checked = verify(query.parameters().getOrDefault("token", List.of()));
        Channel ch = ctx.channel();
        handshaker.handshake(ch, req).addListener(done -> {
            if (!done.isSuccess()) {
                refusals.warn("upgrade failed", "WebSocket upgrade from {} failed: {}", ch.remoteAddress(), done.cause());
                ch.close();
                return;
            }
            Verdict verdict = checked.token().isPresent() ? spend(checked) : checked;
            if (verdict.session().isEmpty()) {
                refusals.warn(verdict.reason(), "browser from {} refused: {}", ch.remoteAddress(), verdict.why());
                BrowserLink.close(ch, Status.UNAUTHORIZED.wsCloseCode(), verdict.reason());
                return;
            }
            ctx.pipeline().remove(this);
            attach.attach(ctx, verdict.session().get());
        });
    }

    /** A signed, unexpired STREAM token for a session this gateway can serve; not spent yet. */
    private Verdict verify(List<String> token) {
        Verdict invalid = Verdict.refused("invalid or expired stream token", "invalid or expired token");
        if (token.size() != 1) return invalid;
        Instant now = clock.instant();
        Optional<SignedToken> signed = tokens.open(token.getFirst(), TokenClaims.STREAM, now);
        if (signed.isEmpty()) return invalid;
        TokenClaims claims = signed.get().claims();
        SessionKey session;
        try {
            // The token names one stream: the session's own (its first instance) or one further instance's.
            session = new SessionKey(claims.tenant(), StreamIds.parse(claims.sessionId()));
        } catch (IllegalArgumentException e) {
            return invalid; // signed, but not for a session this gateway can serve
        }
        return new Verdict(signed, Optional.of(session), "", "");
    }

    /** Spends a verified token by its id: the first use attaches, any later one is refused. */
    private Verdict spend(Verdict verified) {
        SignedToken token = verified.token().orElseThrow();
        SessionKey session = verified.session().orElseThrow();
        return switch (spent.spend(token.id(), token.claims().expiresAt(), clock.instant())) {
            case FIRST -> verified;
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
        refusals.warn("connection failed", "HTTP connection from {} failed: {}", ctx.channel().remoteAddress(), cause);
        ctx.close();
    }
}
