package io.deskgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.RateLimitedLog;
import io.deskgate.common.Secrets;
import io.deskgate.common.Status;
import io.deskgate.tokens.TokenClaims;
import io.deskgate.tokens.TokenSigner;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The browser's upgrade request on an EmbeddedChannel: verdicts, close codes and when a token is spent. */
class StreamUpgradeHandlerTest {
    static final int TENANT = 3;
    final TokenSigner signer = new TokenSigner(Secrets.randomBytes(32));
    final SpentTokens spent = new SpentTokens(100);
    final List<SessionKey> attached = new ArrayList<>();
    final RateLimitedLog refusals = new RateLimitedLog(LoggerFactory.getLogger(StreamUpgradeHandlerTest.class));
    final UUID session = UUID.randomUUID();

    StreamUpgradeHandler handler() {
        return new StreamUpgradeHandler(signer, spent, Clock.systemUTC(), 64 * 1024, (ctx, key) -> attached.add(key), refusals);
    }

    /** The gateway's own pipeline: HTTP codec, aggregator, the handler. */
    EmbeddedChannel channel() {
        return new EmbeddedChannel(new HttpServerCodec(), new HttpObjectAggregator(8192), handler());
    }

    String token() {
        return signer.sign(new TokenClaims(TokenClaims.STREAM, "alice", TENANT, session.toString(), Instant.now().plusSeconds(60)));
    }

    static String upgrade(String uri) {
        return "GET " + uri + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    }

    /** Everything written to the browser, as bytes. */
    static byte[] written(EmbeddedChannel ch) {
        ch.runPendingTasks();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes);
            b.release();
            out.writeBytes(bytes);
        }
        return out.toByteArray();
    }

    /** The HTTP status line, and after a 101 the close frame that follows it if any: "101 ... | 4401 reason". */
    static String answer(EmbeddedChannel ch) {
        byte[] all = written(ch);
        String text = new String(all, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        assertThat(end).as("an HTTP response").isPositive();
        String status = text.substring(0, text.indexOf("\r\n"));
        int at = end + 4;
        if (!status.contains(" 101 ") || at >= all.length) return status; // a refusal's body is plain text
        assertThat(all[at] & 0xff).as("a close frame (FIN, opcode 8)").isEqualTo(0x88);
        int len = all[at + 1] & 0x7f;
        int code = (all[at + 2] & 0xff) << 8 | (all[at + 3] & 0xff);
        return status + " | " + code + " " + new String(all, at + 4, len - 2, StandardCharsets.UTF_8);
    }

    void send(EmbeddedChannel ch, String request) {
        ch.writeInbound(Unpooled.copiedBuffer(request, StandardCharsets.US_ASCII));
    }

    @Test
    void shouldUpgradeAttachTheTokensSessionAndSpendTheToken() {
        EmbeddedChannel ch = channel();
        send(ch, upgrade("/stream?token=" + token()));
        assertThat(answer(ch)).isEqualTo("HTTP/1.1 101 Switching Protocols");
        assertThat(attached).containsExactly(new SessionKey(TENANT, session));
        assertThat(ch.pipeline().get(StreamUpgradeHandler.class)).as("removed itself").isNull();
        assertThat(spent.size()).isEqualTo(1);
        assertThat(ch.isActive()).isTrue();
        ch.finishAndReleaseAll();
    }

    @Test
    void shouldRefuseAReusedTokenAfterTheUpgradeWith4401() {
        String token = token();
        EmbeddedChannel first = channel();
        send(first, upgrade("/stream?token=" + token));
        assertThat(answer(first)).startsWith("HTTP/1.1 101");
        EmbeddedChannel second = channel();
        send(second, upgrade("/stream?token=" + token));
        assertThat(answer(second)).isEqualTo("HTTP/1.1 101 Switching Protocols | " + Status.UNAUTHORIZED.wsCloseCode()
                + " token already used");
        assertThat(attached).hasSize(1);
        assertThat(second.isActive()).as("closed after the close frame").isFalse();
        first.finishAndReleaseAll();
        second.finishAndReleaseAll();
    }

    @Test
    void shouldRefuseABadOrExpiredTokenWith4401AndSpendNothing() {
        String expired = signer.sign(new TokenClaims(TokenClaims.STREAM, "alice", TENANT, session.toString(),
                Instant.now().minusSeconds(1)));
        String login = signer.sign(new TokenClaims(TokenClaims.LOGIN, "alice", TENANT, "", Instant.now().plusSeconds(60)));
        String notASession = signer.sign(new TokenClaims(TokenClaims.STREAM, "alice", TENANT, "desktop-1", Instant.now().plusSeconds(60)));
        for (String uri : List.of("/stream", "/stream?token=nope", "/stream?token=" + expired, "/stream?token=" + login,
                "/stream?token=" + notASession, "/stream?token=" + token() + "&token=" + token())) {
            EmbeddedChannel ch = channel();
            send(ch, upgrade(uri));
            assertThat(answer(ch)).as(uri.length() > 20 ? uri.substring(0, 20) : uri)
                    .isEqualTo("HTTP/1.1 101 Switching Protocols | 4401 invalid or expired token");
            ch.finishAndReleaseAll();
        }
        assertThat(attached).isEmpty();
        assertThat(spent.size()).isZero();
    }

    @Test
    void shouldNotBurnTheTokenWhenTheUpgradeFails() {
        String token = token();
        // No HTTP codec to replace: Netty's handshake fails after the request was read.
        EmbeddedChannel broken = new EmbeddedChannel(handler());
        DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/stream?token=" + token);
        req.headers().set("Host", "127.0.0.1").set("Upgrade", "websocket").set("Connection", "Upgrade")
                .set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==").set("Sec-WebSocket-Version", "13");
        broken.writeInbound(req);
        broken.runPendingTasks();
        assertThat(broken.isActive()).as("a failed upgrade closes the connection").isFalse();
        assertThat(spent.size()).as("the token is not spent").isZero();
        assertThat(attached).isEmpty();
        broken.finishAndReleaseAll();

        EmbeddedChannel retry = channel();
        send(retry, upgrade("/stream?token=" + token));
        assertThat(answer(retry)).isEqualTo("HTTP/1.1 101 Switching Protocols");
        assertThat(attached).containsExactly(new SessionKey(TENANT, session));
        retry.finishAndReleaseAll();
    }

    @Test
    void shouldAnswer404ForAnotherPathAnd400ForARequestWithoutAnUpgrade() {
        EmbeddedChannel other = channel();
        send(other, upgrade("/elsewhere?token=" + token()));
        assertThat(answer(other)).isEqualTo("HTTP/1.1 404 Not Found");
        EmbeddedChannel plain = channel();
        send(plain, "GET /stream?token=" + token() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        assertThat(answer(plain)).isEqualTo("HTTP/1.1 400 Bad Request");
        EmbeddedChannel post = channel();
        send(post, upgrade("/stream").replace("GET", "POST"));
        assertThat(answer(post)).isEqualTo("HTTP/1.1 400 Bad Request");
        assertThat(spent.size()).isZero();
        assertThat(attached).isEmpty();
        for (EmbeddedChannel ch : List.of(other, plain, post)) ch.finishAndReleaseAll();
    }

    @Test
    void shouldAttachATokenNamingAFurtherInstanceToThatInstancesStreamOnly() {
        UUID instance = UUID.randomUUID();
        String forInstance = signer.sign(new TokenClaims(TokenClaims.STREAM, "alice", TENANT,
                io.deskgate.stream.StreamIds.name(session, instance), Instant.now().plusSeconds(60)));
        EmbeddedChannel ch = channel();
        send(ch, upgrade("/stream?token=" + forInstance));
        assertThat(answer(ch)).isEqualTo("HTTP/1.1 101 Switching Protocols");
        assertThat(attached).containsExactly(new SessionKey(TENANT, io.deskgate.stream.StreamIds.of(session, instance)));
        assertThat(attached.getFirst()).as("not the session's own stream").isNotEqualTo(new SessionKey(TENANT, session));
        ch.finishAndReleaseAll();
        for (String bad : List.of(session + "/", session + "/x", session + "/" + instance + "/" + instance, "/" + instance)) {
            EmbeddedChannel refused = channel();
            send(refused, upgrade("/stream?token=" + signer.sign(new TokenClaims(TokenClaims.STREAM, "alice", TENANT, bad,
                    Instant.now().plusSeconds(60)))));
            assertThat(answer(refused)).as(bad).isEqualTo("HTTP/1.1 101 Switching Protocols | 4401 invalid or expired token");
            refused.finishAndReleaseAll();
        }
        assertThat(attached).hasSize(1);
    }
}
