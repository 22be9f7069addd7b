package io.deskgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.Secrets;
import io.deskgate.common.Status;
import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamKeys;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.Key;
import io.deskgate.stream.StreamMessage.Pointer;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.StreamMessage.ViewerLeft;
import io.deskgate.stream.StreamSession;
import io.deskgate.stream.StreamSessionConfig;
import io.deskgate.tokens.TokenClaims;
import io.deskgate.tokens.TokenSigner;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Loopback system tests: a real gateway on port 0, fake engines on java.nio UDP, browsers on java.net.http. */
class GatewaySystemTest {
    static final long DEADLINE_MS = 10_000;
    final byte[] tokenKey = Secrets.randomBytes(32);
    final byte[] master = Secrets.randomBytes(32);
    final TokenSigner signer = new TokenSigner(tokenKey);
    final List<AutoCloseable> open = new ArrayList<>();
    Gateway gateway;

    @BeforeEach
    void start() throws IOException {
        gateway = Gateway.start(GatewayConfig.builder().tokenKey(tokenKey).streamMasterSecret(master).build());
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open.reversed()) c.close();
        gateway.close();
    }

    int tokensIssued;

    /** A fresh token each call (tokens are single-use; the expiry differs so that no two are equal). */
    String token(int tenant, UUID session) {
        return signer.sign(new TokenClaims(TokenClaims.STREAM, "alice", tenant, session.toString(),
                Instant.now().plusSeconds(60 + tokensIssued++)));
    }

    FakeEngine engine(int tenant, UUID session) throws IOException {
        FakeEngine e = FakeEngine.of(gateway, master, tenant, session);
        open.add(e);
        return e;
    }

    TestBrowser browser(int tenant, UUID session) {
        TestBrowser b = TestBrowser.open(gateway, token(tenant, session));
        open.add(() -> b.ws.abort());
        return b;
    }

    /** Pumps the engines until the condition holds; fails after the deadline. */
    static void until(String what, BooleanSupplier done, FakeEngine... engines) throws IOException {
        long end = System.nanoTime() + DEADLINE_MS * 1_000_000;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("timed out waiting for " + what);
            if (engines.length == 0) Thread.onSpinWait();
            for (FakeEngine e : engines) e.pump(5);
        }
    }

    /** Engine announced, browser attached, and the attach's RefreshRequest seen at the engine. */
    FakeEngine attached(int tenant, UUID session, TestBrowser[] browserOut) throws IOException {
        FakeEngine e = engine(tenant, session);
        e.hello();
        until("session at gateway", () -> gateway.sessionCount() > 0, e);
        TestBrowser b = browser(tenant, session);
        until("RefreshRequest from attach", () -> e.received.contains(new RefreshRequest()), e);
        browserOut[0] = b;
        return e;
    }

    static List<StreamMessage> tiles(int n, int seed) {
        Random r = new Random(seed);
        List<StreamMessage> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] data = new byte[1 + r.nextInt(i % 7 == 0 ? 20_000 : 900)];
            r.nextBytes(data);
            out.add(new Tile(i, i, 8, 8, Tile.FORMAT_JPEG, data));
            if (i % 10 == 9) out.add(new FrameEnd(i, i));
        }
        return out;
    }

    List<byte[]> expectFrames(TestBrowser b, int n, FakeEngine... engines) throws IOException {
        List<byte[]> got = new ArrayList<>();
        until(n + " frames", () -> {
            b.frames.drainTo(got);
            return got.size() >= n;
        }, engines);
        return got;
    }

    @Test
    void shouldRelayEngineTilesToTheBrowserInOrderAsCodecFrames() throws IOException {
        UUID s = UUID.randomUUID();
        TestBrowser[] b = new TestBrowser[1];
        FakeEngine e = attached(1, s, b);
        List<StreamMessage> sent = tiles(60, 1);
        for (StreamMessage m : sent) e.send(m);
        List<byte[]> frames = expectFrames(b[0], sent.size(), e);
        assertThat(frames).hasSize(sent.size());
        for (int i = 0; i < sent.size(); i++) assertThat(frames.get(i)).as("frame " + i).isEqualTo(StreamCodec.encode(sent.get(i)));
    }

    @Test
    void shouldCarryKeyAndPointerFramesFromTheBrowserToTheEngine() throws IOException {
        TestBrowser[] b = new TestBrowser[1];
        FakeEngine e = attached(1, UUID.randomUUID(), b);
        b[0].sendBinary(StreamCodec.encode(new Key(true, 0x61)));
        b[0].sendBinary(StreamCodec.encode(new Pointer(10, 20, 1)));
        b[0].sendBinary(StreamCodec.encode(new Key(false, 0x61)));
        until("input at the engine", () -> e.received.size() >= 4, e);
        assertThat(e.received).containsExactly(new RefreshRequest(), new Key(true, 0x61), new Pointer(10, 20, 1), new Key(false, 0x61));
    }

    @Test
    void shouldRefuseAWrongTokenWith4401() {
        TestBrowser b = TestBrowser.open(gateway, "v1.bogus.token");
        open.add(() -> b.ws.abort());
        assertThat(b.awaitClose()).isEqualTo(Status.UNAUTHORIZED.wsCloseCode()).isEqualTo(4401);
    }

    @Test
    void shouldRefuseAnExpiredTokenWith4401() {
        String expired = signer.sign(new TokenClaims(TokenClaims.STREAM, "alice", 1, UUID.randomUUID().toString(),
                Instant.now().minusSeconds(1)));
        TestBrowser b = TestBrowser.open(gateway, expired);
        open.add(() -> b.ws.abort());
        assertThat(b.awaitClose()).isEqualTo(4401);
    }

    @Test
    void shouldRefuseASecondUseOfTheSameTokenWith4401AndAcceptAFreshOne() throws IOException {
        UUID s = UUID.randomUUID();
        FakeEngine e = engine(1, s);
        e.hello();
        until("session at gateway", () -> gateway.sessionCount() > 0, e);
        String once = token(1, s);
        TestBrowser first = TestBrowser.open(gateway, once);
        open.add(() -> first.ws.abort());
        until("RefreshRequest from the first attach", () -> e.received.contains(new RefreshRequest()), e);
        TestBrowser replay = TestBrowser.open(gateway, once);
        open.add(() -> replay.ws.abort());
        assertThat(replay.awaitClose()).as("same token again").isEqualTo(4401);
        assertThat(first.closeCode).as("the first browser is not evicted by the replay").isNotDone();
        TestBrowser fresh = browser(1, s);
        assertThat(first.awaitClose()).as("a fresh token replaces the first browser").isEqualTo(Status.OK.wsCloseCode());
        e.send(new FrameEnd(7, 7));
        assertThat(expectFrames(fresh, 1, e).getFirst()).isEqualTo(StreamCodec.encode(new FrameEnd(7, 7)));
    }

    @Test
    void shouldRefuseARespeltTokenAfterItsFirstUseAndKeepTheFirstBrowser() throws IOException {
        UUID s = UUID.randomUUID();
        FakeEngine e = engine(1, s);
        e.hello();
        until("session at gateway", () -> gateway.sessionCount() > 0, e);
        String once = token(1, s);
        TestBrowser first = TestBrowser.open(gateway, once);
        open.add(() -> first.ws.abort());
        until("RefreshRequest from the first attach", () -> e.received.contains(new RefreshRequest()), e);
        // The MAC's last character carries 2 unused bits: flipping the lowest one decodes to the same MAC.
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        char last = once.charAt(once.length() - 1);
        String respelt = once.substring(0, once.length() - 1) + alphabet.charAt(alphabet.indexOf(last) ^ 1);
        assertThat(java.util.Base64.getUrlDecoder().decode(respelt.substring(respelt.lastIndexOf('.') + 1)))
                .as("same MAC bytes").isEqualTo(java.util.Base64.getUrlDecoder().decode(once.substring(once.lastIndexOf('.') + 1)));
        for (String replay : List.of(respelt, once)) {
            TestBrowser b = TestBrowser.open(gateway, replay);
            open.add(() -> b.ws.abort());
            assertThat(b.awaitClose()).as(replay.equals(once) ? "same token" : "re-spelt token").isEqualTo(4401);
        }
        assertThat(first.closeCode).as("the first browser is not evicted").isNotDone();
    }

    @Test
    void shouldLogAFloodOfRefusedUpgradesInAFewShortLinesWithoutAStack() {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger)
                org.slf4j.LoggerFactory.getLogger(StreamUpgradeHandler.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
                new ch.qos.logback.core.read.ListAppender<>();
        lines.start();
        logger.addAppender(lines);
        try {
            String bad = "v1.bm90LWEtdG9rZW4.c2lnbmF0dXJl";
            for (int i = 0; i < 20; i++) {
                TestBrowser b = TestBrowser.open(gateway, bad);
                open.add(() -> b.ws.abort());
                assertThat(b.awaitClose()).isEqualTo(4401);
            }
            assertThat(lines.list).as("at most the per-reason budget").isNotEmpty()
                    .hasSizeLessThanOrEqualTo(io.deskgate.common.RateLimitedLog.DEFAULT_LINES_PER_WINDOW);
            assertThat(lines.list).allSatisfy(line -> {
                assertThat(line.getThrowableProxy()).isNull();
                assertThat(line.getLevel()).isEqualTo(ch.qos.logback.classic.Level.WARN);
                assertThat(line.getFormattedMessage()).hasSizeLessThan(160).doesNotContain(bad).doesNotContain("bm90");
            });
        } finally {
            logger.detachAppender(lines);
        }
    }

    @Test
    void shouldCloseAnIdleConnectionThatNeverSendsAnUpgrade() throws Exception {
        gateway.close();
        gateway = Gateway.start(GatewayConfig.builder().tokenKey(tokenKey).streamMasterSecret(master)
                .upgradeTimeoutNs(300_000_000L).build());
        try (java.net.Socket idle = new java.net.Socket("127.0.0.1", gateway.wsAddress().getPort())) {
            idle.setSoTimeout((int) DEADLINE_MS);
            idle.getOutputStream().write("GET /stream HTTP/1.1\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            long start = System.nanoTime();
            assertThat(idle.getInputStream().read()).as("closed by the gateway").isEqualTo(-1);
            assertThat(System.nanoTime() - start).as("not before the deadline").isGreaterThanOrEqualTo(250_000_000L);
        }
        until("connection released", () -> gateway.connectionCount() == 0);
    }

    @Test
    void shouldRefuseConnectionsPastTheBoundAndAcceptAgainWhenOneCloses() throws Exception {
        gateway.close();
        gateway = Gateway.start(GatewayConfig.builder().tokenKey(tokenKey).streamMasterSecret(master).maxConnections(2)
                .build());
        try (java.net.Socket a = new java.net.Socket("127.0.0.1", gateway.wsAddress().getPort());
             java.net.Socket b = new java.net.Socket("127.0.0.1", gateway.wsAddress().getPort())) {
            until("two connections held", () -> gateway.connectionCount() == 2);
            try (java.net.Socket third = new java.net.Socket("127.0.0.1", gateway.wsAddress().getPort())) {
                third.setSoTimeout((int) DEADLINE_MS);
                assertThat(third.getInputStream().read()).as("third connection closed at once").isEqualTo(-1);
            }
            assertThat(a.isClosed() || b.isClosed()).isFalse();
            a.close();
            until("one connection released", () -> gateway.connectionCount() == 1);
            UUID s = UUID.randomUUID();
            FakeEngine e = engine(1, s);
            e.hello();
            until("session at gateway", () -> gateway.sessionCount() > 0, e);
            browser(1, s);
            until("a browser attaches again", () -> e.received.contains(new RefreshRequest()), e);
        }
    }

    @Test
    void shouldRefuseALoginTokenWith4401() {
        String login = signer.sign(new TokenClaims(TokenClaims.LOGIN, "alice", 1, "", Instant.now().plusSeconds(60)));
        TestBrowser b = TestBrowser.open(gateway, login);
        open.add(() -> b.ws.abort());
        assertThat(b.awaitClose()).isEqualTo(4401);
    }

    @Test
    void shouldNotLetATenant1TokenSeeATenant2Stream() throws IOException {
        UUID s = UUID.randomUUID();
        TestBrowser[] b = new TestBrowser[1];
        FakeEngine tenant1 = attached(1, s, b);
        // Datagrams naming tenant 1 but sealed with tenant 2's key: rejected, nothing delivered.
        byte[] key2 = new StreamKeys(master).derive(2, s.toString());
        FakeEngine forged = new FakeEngine(gateway.udpAddress(), 1, s, key2);
        open.add(forged);
        long droppedBefore = gateway.droppedDatagrams();
        forged.send(new Tile(0, 0, 1, 1, Tile.FORMAT_FILL, new byte[] {1, 2, 3}));
        // A real tenant-2 engine for the same session id: a different session, not this browser's.
        FakeEngine tenant2 = engine(2, s);
        tenant2.send(new Tile(0, 0, 1, 1, Tile.FORMAT_FILL, new byte[] {4, 5, 6}));
        until("forged datagram dropped and tenant 2's session created",
                () -> gateway.droppedDatagrams() > droppedBefore && gateway.sessionCount() == 2, tenant1, tenant2);
        FrameEnd marker = new FrameEnd(42, 42);
        tenant1.send(marker);
        List<byte[]> frames = expectFrames(b[0], 1, tenant1, tenant2);
        assertThat(frames.getFirst()).as("the first frame the tenant-1 browser sees").isEqualTo(StreamCodec.encode(marker));
    }

    @Test
    void shouldDropForgedDatagramsWhileAnotherSessionKeepsWorking() throws IOException {
        TestBrowser[] b = new TestBrowser[1];
        FakeEngine good = attached(1, UUID.randomUUID(), b);
        UUID victim = UUID.randomUUID();
        FakeEngine forger = new FakeEngine(gateway.udpAddress(), 1, victim, Secrets.randomBytes(32));
        open.add(forger);
        long before = gateway.droppedDatagrams();
        for (int i = 0; i < 20; i++) forger.send(new FrameEnd(i, i));
        forger.sendRaw(new byte[] {1, 2, 3});
        List<StreamMessage> sent = tiles(20, 2);
        for (StreamMessage m : sent) good.send(m);
        List<byte[]> frames = expectFrames(b[0], sent.size(), good);
        until("forgeries counted", () -> gateway.droppedDatagrams() >= before + 21, good);
        assertThat(frames.getLast()).isEqualTo(StreamCodec.encode(sent.getLast()));
        assertThat(gateway.sessionCount()).as("no session made for forged datagrams").isEqualTo(1);
    }

    @Test
    void shouldNotRedirectTheSessionWhenADatagramIsReplayedFromAnotherAddress() throws IOException {
        UUID s = UUID.randomUUID();
        TestBrowser[] b = new TestBrowser[1];
        FakeEngine e = attached(1, s, b);
        List<byte[]> captured = e.session.send(new FrameEnd(1, 1), System.nanoTime());
        for (byte[] d : captured) e.sendRaw(d);
        expectFrames(b[0], 1, e);
        // An attacker on the path replays the engine's datagrams from its own socket (same key only to decode
        // what it would get if the gateway were fooled).
        FakeEngine attacker = engine(1, s);
        long droppedBefore = gateway.droppedDatagrams();
        for (byte[] d : captured) attacker.sendRaw(d);
        attacker.sendRaw(captured.getFirst());
        until("replays dropped", () -> gateway.droppedDatagrams() >= droppedBefore + 2, e);
        b[0].sendBinary(StreamCodec.encode(new Key(true, 0x64)));
        until("input at the real engine", () -> e.received.contains(new Key(true, 0x64)), e, attacker);
        assertThat(attacker.received).as("nothing redirected to the replayer").isEmpty();
    }

    @Test
    void shouldNotKeepADeadSessionAliveWithReplayedDatagrams() throws Exception {
        gateway.close();
        gateway = Gateway.start(GatewayConfig.builder().tokenKey(tokenKey).streamMasterSecret(master)
                .engineIdleTimeoutNs(300_000_000L).build());
        UUID s = UUID.randomUUID();
        TestBrowser[] b = new TestBrowser[1];
        FakeEngine e = attached(1, s, b);
        List<byte[]> captured = new ArrayList<>(e.session.send(new FrameEnd(1, 1), System.nanoTime()));
        captured.add(e.session.probe(System.nanoTime()));
        for (byte[] d : captured) e.sendRaw(d);
        FakeEngine replayer = engine(1, s); // only its socket: it never answers what the gateway sends
        long end = System.nanoTime() + DEADLINE_MS * 1_000_000;
        while (!b[0].closeCode.isDone() && System.nanoTime() < end) { // the real engine is silent from now on
            for (byte[] d : captured) replayer.sendRaw(d);
            try {
                b[0].closeCode.get(20, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException stillOpen) {
                // replay again
            }
        }
        assertThat(b[0].closeCode).as("session ended while the replays went on").isDone();
        assertThat(b[0].awaitClose()).isEqualTo(Status.SESSION_ENDED.wsCloseCode());
    }

    @Test
    void shouldCreateNoSessionForForgedDatagramsNamingManyNewSessions() throws IOException {
        FakeEngine forger = new FakeEngine(gateway.udpAddress(), 1, UUID.randomUUID(), Secrets.randomBytes(32));
        open.add(forger);
        long before = gateway.droppedDatagrams();
        for (int i = 0; i < 500; i++) {
            try (FakeEngine one = new FakeEngine(gateway.udpAddress(), 1, UUID.randomUUID(), Secrets.randomBytes(32))) {
                forger.sendRaw(one.session.send(new FrameEnd(i, i), System.nanoTime()).getFirst());
            }
        }
        until("forgeries counted", () -> gateway.droppedDatagrams() >= before + 500);
        assertThat(gateway.sessionCount()).isZero();
    }

    @Test
    void shouldCloseOnlyTheBrowserThatSentAMalformedFrame() throws IOException {
        TestBrowser[] bad = new TestBrowser[1];
        TestBrowser[] good = new TestBrowser[1];
        FakeEngine badEngine = attached(1, UUID.randomUUID(), bad);
        FakeEngine goodEngine = attached(1, UUID.randomUUID(), good);
        bad[0].sendBinary(new byte[] {(byte) 0x81, 7}); // truncated KEY
        assertThat(bad[0].awaitClose()).isEqualTo(Status.PROTOCOL_ERROR.wsCloseCode());
        goodEngine.send(new FrameEnd(1, 1));
        assertThat(expectFrames(good[0], 1, goodEngine, badEngine).getFirst()).isEqualTo(StreamCodec.encode(new FrameEnd(1, 1)));
        assertThat(good[0].closeCode).isNotDone();
    }

    @Test
    void shouldCloseABrowserThatSendsADownMessage() throws IOException {
        TestBrowser[] b = new TestBrowser[1];
        attached(1, UUID.randomUUID(), b);
        b[0].sendBinary(StreamCodec.encode(new FrameEnd(1, 1)));
        assertThat(b[0].awaitClose()).isEqualTo(1002);
    }

    @Test
    void shouldSendViewerLeftUpWhenTheBrowserClosesItsWebSocket() throws IOException {
        TestBrowser[] b = new TestBrowser[1];
        FakeEngine e = attached(1, UUID.randomUUID(), b);
        b[0].ws.sendClose(1000, "tab closed").orTimeout(5, TimeUnit.SECONDS).join();
        until("ViewerLeft at the engine", () -> e.received.contains(new ViewerLeft()), e);
        assertThat(e.received).containsExactly(new RefreshRequest(), new ViewerLeft());
    }

    @Test
    void shouldSendViewerLeftUpWhenTheBrowserConnectionDrops() throws IOException {
        TestBrowser[] b = new TestBrowser[1];
        FakeEngine e = attached(1, UUID.randomUUID(), b);
        b[0].ws.abort();
        until("ViewerLeft at the engine", () -> e.received.contains(new ViewerLeft()), e);
        assertThat(e.received).containsExactly(new RefreshRequest(), new ViewerLeft());
    }

    @Test
    void shouldNotSendViewerLeftWhenTheClosedBrowserWasReplacedByANewerOne() throws IOException {
        UUID s = UUID.randomUUID();
        TestBrowser[] first = new TestBrowser[1];
        FakeEngine e = attached(1, s, first);
        TestBrowser second = browser(1, s);
        assertThat(first[0].awaitClose()).isEqualTo(Status.OK.wsCloseCode());
        second.sendBinary(StreamCodec.encode(new Key(true, 0x63)));
        until("the second browser's key at the engine", () -> e.received.contains(new Key(true, 0x63)), e);
        second.ws.sendClose(1000, "tab closed").orTimeout(5, TimeUnit.SECONDS).join();
        until("ViewerLeft at the engine", () -> e.received.contains(new ViewerLeft()), e);
        assertThat(e.received).as("one ViewerLeft, only when the last browser went")
                .containsExactly(new RefreshRequest(), new RefreshRequest(), new Key(true, 0x63), new ViewerLeft());
    }

    @Test
    void shouldCloseABrowserThatSendsViewerLeftAndNotForwardIt() throws IOException {
        UUID s = UUID.randomUUID();
        TestBrowser[] b = new TestBrowser[1];
        FakeEngine e = attached(1, s, b);
        b[0].sendBinary(new byte[] {(byte) StreamCodec.VIEWER_LEFT});
        assertThat(b[0].awaitClose()).isEqualTo(Status.PROTOCOL_ERROR.wsCloseCode()).isEqualTo(1002);
        // The gateway's own ViewerLeft (its browser is gone) arrives; the browser's was not forwarded before it.
        until("the gateway's ViewerLeft at the engine", () -> e.received.contains(new ViewerLeft()), e);
        browser(1, s);
        until("RefreshRequest of the re-attach", () -> e.received.stream().filter(RefreshRequest.class::isInstance).count() >= 2, e);
        assertThat(e.received).containsExactly(new RefreshRequest(), new ViewerLeft(), new RefreshRequest());
    }

    @Test
    void shouldCloseAnOversizedBrowserFrameWith1009() throws IOException {
        TestBrowser[] b = new TestBrowser[1];
        attached(1, UUID.randomUUID(), b);
        byte[] big = new byte[GatewayConfig.DEFAULT_MAX_WS_FRAME_BYTES + 1];
        big[0] = (byte) StreamCodec.CLIENT_CLIPBOARD;
        b[0].ws.sendBinary(java.nio.ByteBuffer.wrap(big), true);
        assertThat(b[0].awaitClose()).isEqualTo(1009);
    }

    @Test
    void shouldReplaceTheFirstBrowserWhenASecondAttaches() throws IOException {
        UUID s = UUID.randomUUID();
        TestBrowser[] first = new TestBrowser[1];
        FakeEngine e = attached(1, s, first);
        TestBrowser second = browser(1, s);
        assertThat(first[0].awaitClose()).isEqualTo(Status.OK.wsCloseCode());
        until("second RefreshRequest", () -> e.received.stream().filter(RefreshRequest.class::isInstance).count() >= 2, e);
        e.send(new FrameEnd(5, 5));
        assertThat(expectFrames(second, 1, e).getFirst()).isEqualTo(StreamCodec.encode(new FrameEnd(5, 5)));
    }

    @Test
    void shouldRepairLostDatagramsWithNackAndRetransmission() throws IOException {
        TestBrowser[] b = new TestBrowser[1];
        FakeEngine e = attached(1, UUID.randomUUID(), b);
        e.dropping(i -> i % 5 == 2);
        List<StreamMessage> sent = tiles(40, 3);
        for (StreamMessage m : sent) e.send(m);
        List<byte[]> frames = expectFrames(b[0], sent.size(), e);
        for (int i = 0; i < sent.size(); i++) assertThat(frames.get(i)).as("frame " + i).isEqualTo(StreamCodec.encode(sent.get(i)));
    }

    @Test
    void shouldRemoveAnIdleSessionAndCloseItsBrowserWithSessionEnded() throws Exception {
        gateway.close();
        gateway = Gateway.start(GatewayConfig.builder().tokenKey(tokenKey).streamMasterSecret(master)
                .engineIdleTimeoutNs(300_000_000L).build());
        TestBrowser[] b = new TestBrowser[1];
        attached(1, UUID.randomUUID(), b);
        assertThat(b[0].awaitClose()).isEqualTo(Status.SESSION_ENDED.wsCloseCode());
        until("session removed", () -> gateway.sessionCount() == 0);
    }

    @Test
    void shouldDeliverUpMessagesSentBeforeTheEngineWasHeard() throws IOException {
        UUID s = UUID.randomUUID();
        TestBrowser b = browser(1, s);
        until("session made by the attach", () -> gateway.sessionCount() == 1);
        b.sendBinary(StreamCodec.encode(new Key(true, 0x62)));
        FakeEngine e = engine(1, s);
        e.hello();
        until("queued input at the engine", () -> e.received.contains(new Key(true, 0x62)), e);
        assertThat(e.received).startsWith(new RefreshRequest());
    }

    @Test
    void shouldServeTheStreamConfigDefaults() {
        assertThat(gateway.wsUrl("127.0.0.1")).isEqualTo("ws://127.0.0.1:" + gateway.wsAddress().getPort() + "/stream");
        assertThat(gateway.udpAddress().getPort()).isPositive();
        assertThat(StreamSessionConfig.defaults().maxDatagramBytes()).isEqualTo(1400);
        assertThat(StreamSession.Side.values()).hasSize(2);
    }
}
