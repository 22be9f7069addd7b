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
 * used before (STREAM tokens are single-use: see {@link SpentTokenLedger}) is then answered with close code
 * 4401, so the browser sees one clear reason; one the ledger could not record in time (the store is down) with
 * 4502. A token is spent only once the handshake has succeeded, so a failed upgrade does not burn it. While the
 * ledger answers, the channel does not read (a frame the browser sends meanwhile waits in the socket for the
 * attached handlers). With a good token the handler hands the channel to {@code attach} and removes itself. Runs on the channel's event loop; the request is released by
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
    private record Verdict(Optional<SignedToken> token, Optional<SessionKey> session, String why, String reason,
                           Status status) {
        static Verdict refused(String why, String reason) {
            return refused(why, reason, Status.UNAUTHORIZED);
        }

        static Verdict refused(String why, String reason, Status status) {
            return new Verdict(Optional.empty(), Optional.empty(), why, reason, status);
        }

        /** The refusal as the metrics count it. */
        GatewayMetrics.Attach outcome() {
            return switch (reason) {
                case "token already used" -> GatewayMetrics.Attach.TOKEN_REUSED;
                case "gateway busy, try again" -> GatewayMetrics.Attach.TOKENS_FULL;
                case "gateway cannot check tokens now, try again" -> GatewayMetrics.Attach.TOKENS_UNAVAILABLE;
                default -> GatewayMetrics.Attach.INVALID_TOKEN;
            };
        }
    }

    private final TokenSigner tokens;
    private final SpentTokenLedger spent;
    private final Clock clock;
    private final int maxFrameBytes;
    private final Attach attach;
    private final RateLimitedLog refusals;
    private final GatewayMetrics metrics;

    /** With this gateway's memory as the single-use record ({@link SpentTokenLedger#inMemory}), shared by every connection. */
    StreamUpgradeHandler(TokenSigner tokens, SpentTokens spent, Clock clock, int maxFrameBytes, Attach attach,
                         RateLimitedLog refusals) {
        this(tokens, SpentTokenLedger.inMemory(spent), clock, maxFrameBytes, attach, refusals);
    }

    /**
     * @param spent    the gateway's single-use record (its memory, or the store shared by every gateway)
     * @param refusals the gateway's log of refused connections, shared by every connection
     */
    StreamUpgradeHandler(TokenSigner tokens, SpentTokenLedger spent, Clock clock, int maxFrameBytes, Attach attach,
                         RateLimitedLog refusals) {
        this(tokens, spent, clock, maxFrameBytes, attach, refusals, GatewayMetrics.unread());
    }

    /** @param metrics counts each refused attach by its outcome (the session table counts the attached ones) */
    StreamUpgradeHandler(TokenSigner tokens, SpentTokenLedger spent, Clock clock, int maxFrameBytes, Attach attach,
                         RateLimitedLog refusals, GatewayMetrics metrics) {
        super(FullHttpRequest.class, true);
        this.metrics = metrics;
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
                metrics.attach(GatewayMetrics.Attach.UPGRADE_FAILED);
                ch.close();
                return;
            }
            if (checked.token().isEmpty()) {
                finish(ctx, checked);
                return;
            }
            ch.config().setAutoRead(false); // until the ledger answers: nothing reaches this one-shot handler meanwhile
            SignedToken token = checked.token().get();
            spent.spend(token.id(), token.claims().expiresAt(), clock.instant()).whenComplete((use, e) -> {
                Runnable answered = () -> {
                    ch.config().setAutoRead(true);
                    finish(ctx, spent(checked, use == null ? SpentTokens.Use.UNAVAILABLE : use));
                };
                // An answer already there (this gateway's memory) is acted on at once; the store's hops back here.
                if (ch.eventLoop().inEventLoop()) answered.run();
                else ch.eventLoop().execute(answered);
            });
        });
    }

    /** On the event loop: refuses the browser, or hands the channel to {@code attach}. */
    private void finish(ChannelHandlerContext ctx, Verdict verdict) {
        Channel ch = ctx.channel();
        if (verdict.session().isEmpty()) {
            refusals.warn(verdict.reason(), "browser from {} refused: {}", ch.remoteAddress(), verdict.why());
            BrowserLink.close(ch, verdict.status().wsCloseCode(), verdict.reason());
            metrics.attach(verdict.outcome());
            return;
        }
        if (!ch.isActive() || ctx.isRemoved()) return; // gone (or the upgrade deadline closed it) while the ledger answered
        ctx.pipeline().remove(this);
        attach.attach(ctx, verdict.session().get());
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
        return new Verdict(signed, Optional.of(session), "", "", Status.OK);
    }

    /** What the ledger's answer makes of a verified token: the first use attaches, any later one is refused. */
    private static Verdict spent(Verdict verified, SpentTokens.Use use) {
        SessionKey session = verified.session().orElseThrow();
        return switch (use) {
            case FIRST -> verified;
            case REUSED -> Verdict.refused("stream token for session " + session + " already used (tokens are single-use)",
                    "token already used");
            case FULL -> Verdict.refused("stream token for session " + session + " not accepted: too many unexpired tokens"
                    + " spent recently", "gateway busy, try again");
            case UNAVAILABLE -> Verdict.refused("stream token for session " + session + " not accepted: the store did not"
                    + " record it in time", "gateway cannot check tokens now, try again", Status.UPSTREAM_UNAVAILABLE);
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
