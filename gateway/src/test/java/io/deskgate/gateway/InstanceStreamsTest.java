package io.deskgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.Secrets;
import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamIds;
import io.deskgate.stream.StreamKeys;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.Key;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.tokens.TokenClaims;
import io.deskgate.tokens.TokenSigner;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two transcoding instances of one unique socket (two tabs) streaming to one real gateway on loopback: the
 * session's first instance under the session id, a further instance under {@link StreamIds#of}; each browser
 * attaches by a token naming its own stream (docs/protocol.md §2.1, §2.9).
 */
class InstanceStreamsTest {
    static final long DEADLINE_MS = 10_000;
    static final int TENANT = 4;
    final byte[] tokenKey = Secrets.randomBytes(32);
    final byte[] master = Secrets.randomBytes(32);
    final TokenSigner signer = new TokenSigner(tokenKey);
    final List<AutoCloseable> open = new ArrayList<>();
    final UUID session = UUID.randomUUID();
    final UUID instanceB = UUID.randomUUID();
    Gateway gateway;
    int tokensIssued;

    @BeforeEach
    void start() throws IOException {
        gateway = Gateway.start(GatewayConfig.builder().tokenKey(tokenKey).streamMasterSecret(master).build());
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open.reversed()) c.close();
        gateway.close();
    }

    String token(String stream) {
        return signer.sign(new TokenClaims(TokenClaims.STREAM, "alice", TENANT, stream, Instant.now().plusSeconds(60 + tokensIssued++)));
    }

    /** An engine instance streaming under {@code streamId} with the key derived for it, announced to the gateway. */
    FakeEngine engine(UUID streamId) throws IOException {
        FakeEngine e = new FakeEngine(gateway.udpAddress(), TENANT, streamId, new StreamKeys(master).derive(TENANT, streamId.toString()));
        open.add(e);
        e.hello();
        return e;
    }

    TestBrowser browser(String stream, FakeEngine e) throws IOException {
        TestBrowser b = TestBrowser.open(gateway, token(stream));
        open.add(() -> b.ws.abort());
        until("the attach's RefreshRequest at its engine", () -> e.received.contains(new RefreshRequest()), e);
        e.received.clear();
        return b;
    }

    static void until(String what, BooleanSupplier done, FakeEngine... engines) throws IOException {
        long end = System.nanoTime() + DEADLINE_MS * 1_000_000;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("timed out waiting for " + what);
            for (FakeEngine e : engines) e.pump(5);
        }
    }

    static byte[] nextFrame(TestBrowser b, FakeEngine... engines) throws IOException {
        until("a frame", () -> !b.frames.isEmpty(), engines);
        return b.frames.poll();
    }

    @Test
    void twoInstancesOfOneSessionEachReachOnlyTheirOwnBrowserBothWays() throws IOException {
        FakeEngine a = engine(session);
        FakeEngine b = engine(StreamIds.of(session, instanceB));
        until("two streams at the gateway", () -> gateway.sessionCount() == 2, a, b);
        TestBrowser tabA = browser(session.toString(), a);
        TestBrowser tabB = browser(StreamIds.name(session, instanceB), b);

        a.send(new FrameEnd(1, 1));
        b.send(new FrameEnd(2, 2));
        assertThat(nextFrame(tabA, a, b)).isEqualTo(StreamCodec.encode(new FrameEnd(1, 1)));
        assertThat(nextFrame(tabB, a, b)).isEqualTo(StreamCodec.encode(new FrameEnd(2, 2)));

        tabA.sendBinary(StreamCodec.encode(new Key(true, 0x61)));
        tabB.sendBinary(StreamCodec.encode(new Key(true, 0x62)));
        until("both keys at their engines", () -> !a.received.isEmpty() && !b.received.isEmpty(), a, b);
        a.send(new FrameEnd(3, 3)); // a last round trip, so a stray message would have arrived by now
        b.send(new FrameEnd(4, 4));
        nextFrame(tabA, a, b);
        nextFrame(tabB, a, b);
        assertThat(a.received).containsExactly(new Key(true, 0x61));
        assertThat(b.received).containsExactly(new Key(true, 0x62));
        assertThat(tabA.frames).isEmpty();
        assertThat(tabB.frames).isEmpty();
        assertThat(tabA.closeCode).as("neither tab pushed the other off").isNotDone();
        assertThat(tabB.closeCode).isNotDone();
    }

    @Test
    void aTokenForOneInstanceAttachesToThatInstanceOnlyAndNeverReplacesTheOthersBrowser() throws IOException {
        FakeEngine a = engine(session);
        FakeEngine b = engine(StreamIds.of(session, instanceB));
        until("two streams at the gateway", () -> gateway.sessionCount() == 2, a, b);
        TestBrowser tabB = browser(StreamIds.name(session, instanceB), b);
        TestBrowser tabA = browser(session.toString(), a); // A's token: its RefreshRequest went to A only
        assertThat(b.received).as("A's attach said nothing to B").isEmpty();
        assertThat(tabB.closeCode).as("A's token did not replace B's browser").isNotDone();

        UUID stranger = UUID.randomUUID();
        TestBrowser guess = TestBrowser.open(gateway, token(StreamIds.name(session, stranger)));
        open.add(() -> guess.ws.abort());
        until("the guessed stream exists at the gateway", () -> gateway.sessionCount() == 3, a, b);
        b.send(new FrameEnd(5, 5));
        assertThat(nextFrame(tabB, a, b)).isEqualTo(StreamCodec.encode(new FrameEnd(5, 5)));
        assertThat(guess.frames).as("a token for an instance nobody streams sees nothing of B").isEmpty();
        assertThat(tabA.frames).isEmpty();
    }

    @Test
    void anEpochRestartOfOneInstanceDoesNotRetireTheOther() throws IOException {
        FakeEngine a = engine(session);
        FakeEngine b = engine(StreamIds.of(session, instanceB));
        until("two streams at the gateway", () -> gateway.sessionCount() == 2, a, b);
        TestBrowser tabA = browser(session.toString(), a);
        TestBrowser tabB = browser(StreamIds.name(session, instanceB), b);

        a.close();
        open.remove(a);
        FakeEngine restarted = engine(session); // a new StreamSession: a new random epoch under A's stream id
        until("A's browser asked the restarted A for the whole picture",
                () -> restarted.received.contains(new RefreshRequest()), restarted, b);
        restarted.send(new FrameEnd(6, 6));
        b.send(new FrameEnd(7, 7));
        assertThat(nextFrame(tabA, restarted, b)).isEqualTo(StreamCodec.encode(new FrameEnd(6, 6)));
        assertThat(nextFrame(tabB, restarted, b)).as("B streams on through A's restart").isEqualTo(StreamCodec.encode(new FrameEnd(7, 7)));
        tabB.sendBinary(StreamCodec.encode(new Key(true, 0x63)));
        until("B's input at B", () -> b.received.contains(new Key(true, 0x63)), restarted, b);
        assertThat(b.refreshes).as("B saw no restart of its peer").isZero();
        assertThat(tabB.closeCode).isNotDone();
        assertThat(gateway.sessionCount()).isEqualTo(2);
        List<StreamMessage> atRestarted = restarted.received;
        assertThat(atRestarted).doesNotContain(new Key(true, 0x63));
    }
}
