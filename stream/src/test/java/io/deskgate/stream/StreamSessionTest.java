package io.deskgate.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.deskgate.common.ProtocolException;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.Key;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.StreamSession.Receipt;
import io.deskgate.stream.StreamSession.Side;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The UDP leg's session core (docs/protocol.md §2) on a fake clock. */
class StreamSessionTest {
    static final byte[] MASTER = new byte[32];
    static final int TENANT = 7;
    static final UUID SESSION = UUID.fromString("00112233-4455-6677-8899-aabbccddeeff");
    static final StreamSessionConfig CONFIG = StreamSessionConfig.defaults();
    static final long MS = 1_000_000L;

    long now = 1_000 * MS;

    static byte[] key(int tenant, UUID session) { return new StreamKeys(MASTER).derive(tenant, session.toString()); }

    static StreamSession engine(StreamSessionConfig c) { return new StreamSession(Side.ENGINE, TENANT, SESSION, key(TENANT, SESSION), c); }

    static StreamSession gateway(StreamSessionConfig c) { return new StreamSession(Side.GATEWAY, TENANT, SESSION, key(TENANT, SESSION), c); }

    static Tile tile(int dataBytes, int seed) {
        byte[] data = new byte[dataBytes];
        new Random(seed).nextBytes(data);
        return new Tile(seed % 1000, 0, 16, 16, Tile.FORMAT_JPEG, data);
    }

    /** Feeds datagrams to {@code to}; collects what it delivers and the replies, and ORs refreshNeeded. */
    static final class Feed {
        final List<StreamMessage> delivered = new ArrayList<>();
        final List<byte[]> replies = new ArrayList<>();
        boolean refresh;

        Feed into(StreamSession to, List<byte[]> datagrams, long nowNs) {
            for (byte[] d : datagrams) add(to.receive(d, d.length, nowNs));
            return this;
        }

        void add(Receipt r) {
            delivered.addAll(r.delivered());
            replies.addAll(r.replies());
            refresh |= r.refreshNeeded();
        }
    }

    // §2.3 fragmentation

    @ParameterizedTest(name = "message of {0} bytes")
    @ValueSource(ints = {11, 100, 1343, 1344, 1345, 2688, 2689, 10_000, 100_000, 1_000_000, StreamCodec.MAX_MESSAGE_BYTES})
    void shouldFragmentAndReassembleMessagesOfEverySize(int messageBytes) {
        StreamSession engine = engine(CONFIG);
        StreamSession gateway = gateway(CONFIG);
        Tile t = tile(messageBytes - 10, messageBytes);
        List<byte[]> datagrams = engine.send(t, now);
        int perFragment = CONFIG.maxDatagramBytes() - DatagramHeader.OVERHEAD_BYTES;
        assertThat(datagrams).hasSize((messageBytes + perFragment - 1) / perFragment)
                .allSatisfy(d -> assertThat(d.length).isLessThanOrEqualTo(CONFIG.maxDatagramBytes()));
        Feed f = new Feed().into(gateway, datagrams, now);
        assertThat(f.delivered).containsExactly(t);
        assertThat(f.refresh).isFalse();
    }

    @Test
    void shouldHonourASmallMaxDatagramSize() {
        StreamSessionConfig small = CONFIG.toBuilder().maxDatagramBytes(StreamSessionConfig.MIN_DATAGRAM_BYTES).build();
        StreamSession engine = engine(small);
        Tile t = tile(5000, 1);
        List<byte[]> datagrams = engine.send(t, now);
        assertThat(datagrams).allSatisfy(d -> assertThat(d.length).isLessThanOrEqualTo(128));
        assertThat(new Feed().into(gateway(small), datagrams, now).delivered).containsExactly(t);
    }

    // §2.4 ordering

    @Test
    void shouldDeliverInSendOrderUnderReordering() {
        StreamSession engine = engine(CONFIG);
        StreamSession gateway = gateway(CONFIG);
        List<StreamMessage> sent = new ArrayList<>();
        List<byte[]> wire = new ArrayList<>();
        Random r = new Random(3);
        for (int i = 0; i < 60; i++) {
            StreamMessage m = i % 5 == 4 ? new FrameEnd(i, i * 10L) : tile(1 + r.nextInt(6000), i);
            sent.add(m);
            wire.addAll(engine.send(m, now));
        }
        Collections.shuffle(wire, r);
        Feed f = new Feed().into(gateway, wire, now);
        assertThat(f.delivered).containsExactlyElementsOf(sent);
        assertThat(f.refresh).isFalse();
    }

    // §2.5 loss repair

    @Test
    void shouldRepairLossWithNackAndRetransmission() {
        StreamSession engine = engine(CONFIG);
        StreamSession gateway = gateway(CONFIG);
        List<StreamMessage> sent = new ArrayList<>();
        List<byte[]> wire = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Tile t = tile(i % 3 == 0 ? 3000 : 200, i);
            sent.add(t);
            wire.addAll(engine.send(t, now));
        }
        int last = wire.size() - 1;
        Feed atGateway = new Feed();
        for (int i = 0; i < wire.size(); i++) {
            if (i == 3 || i == 7 || i == 8 || i == last) continue; // lost, including the tail
            atGateway.add(gateway.receive(wire.get(i), wire.get(i).length, now));
        }
        assertThat(atGateway.delivered).hasSizeLessThan(sent.size());
        now += CONFIG.nackDelayNs();
        List<byte[]> probe = engine.tick(now).replies(); // tail probe: the engine sent data then fell silent
        assertThat(probe).hasSize(1);
        atGateway.into(gateway, probe, now);
        List<byte[]> nacks = gateway.tick(now).replies();
        assertThat(nacks).isNotEmpty().allSatisfy(d ->
                assertThat(DatagramHeader.peek(d, d.length).orElseThrow().kind()).isIn(DatagramHeader.KIND_NACK, DatagramHeader.KIND_KEEPALIVE));
        Feed atEngine = new Feed().into(engine, nacks, now);
        assertThat(atEngine.replies).hasSize(4);
        assertThat(atEngine.refresh).isFalse();
        atGateway.into(gateway, atEngine.replies, now);
        assertThat(atGateway.delivered).containsExactlyElementsOf(sent);
        assertThat(atGateway.refresh).isFalse();
    }

    @Test
    void shouldRetryNackWhenTheRetransmissionIsLostToo() {
        StreamSession engine = engine(CONFIG);
        StreamSession gateway = gateway(CONFIG);
        List<byte[]> wire = new ArrayList<>();
        for (int i = 0; i < 3; i++) wire.addAll(engine.send(new FrameEnd(i, i), now));
        Feed f = new Feed().into(gateway, List.of(wire.get(0), wire.get(2)), now);
        now += CONFIG.nackDelayNs();
        List<byte[]> firstNack = gateway.tick(now).replies();
        assertThat(firstNack).hasSize(2); // NACK and the first keepalive
        now += CONFIG.nackDelayNs();
        assertThat(gateway.tick(now).replies()).as("no retry before twice the NACK delay").isEmpty();
        now += CONFIG.nackDelayNs();
        List<byte[]> retry = gateway.tick(now).replies();
        assertThat(retry).hasSize(1);
        f.into(gateway, new Feed().into(engine, retry, now).replies, now);
        assertThat(f.delivered).containsExactly(new FrameEnd(0, 0), new FrameEnd(1, 1), new FrameEnd(2, 2));
    }

    @Test
    void shouldReportRefreshOnBothSidesWhenLossOutlivesTheRetransmitBuffer() {
        StreamSessionConfig tiny = CONFIG.toBuilder().retransmitBufferDatagrams(16).retransmitBufferBytes(1 << 20).build();
        StreamSession engine = engine(tiny);
        StreamSession gateway = gateway(CONFIG); // the receiver's own window is wider than the sender's buffer
        List<byte[]> wire = new ArrayList<>();
        for (int i = 0; i < 40; i++) wire.addAll(engine.send(new FrameEnd(i, i), now));
        Feed atGateway = new Feed().into(gateway, wire.subList(1, wire.size()), now);
        assertThat(atGateway.delivered).isEmpty();
        now += CONFIG.nackDelayNs();
        Feed atEngine = new Feed().into(engine, gateway.tick(now).replies(), now);
        assertThat(atEngine.refresh).as("engine: NACKed datagram no longer buffered").isTrue();
        atGateway.into(gateway, atEngine.replies, now);
        assertThat(atGateway.refresh).as("gateway skipped the gap").isTrue();
        assertThat(atGateway.delivered).hasSize(39).first().isEqualTo(new FrameEnd(1, 1));
    }

    @Test
    void shouldGiveUpOnAGapAfterTheBoundedTimeAndAskForRefresh() {
        StreamSession engine = engine(CONFIG);
        StreamSession gateway = gateway(CONFIG);
        List<byte[]> wire = new ArrayList<>();
        for (int i = 0; i < 5; i++) wire.addAll(engine.send(new FrameEnd(i, i), now));
        gateway.receive(wire.get(0), wire.get(0).length, now);
        Feed f = new Feed();
        for (int i = 2; i < 5; i++) f.add(gateway.receive(wire.get(i), wire.get(i).length, now));
        assertThat(f.delivered).isEmpty(); // blocked on sequence 1; every NACK below is lost
        long start = now;
        Receipt r = null;
        for (int i = 0; i < 200 && (r == null || r.delivered().isEmpty()); i++) {
            now += 10 * MS;
            r = gateway.tick(now);
        }
        assertThat(r.delivered()).containsExactly(new FrameEnd(2, 2), new FrameEnd(3, 3), new FrameEnd(4, 4));
        assertThat(r.refreshNeeded()).isTrue();
        assertThat(now - start).isBetween(CONFIG.giveUpGapNs(), CONFIG.giveUpGapNs() + 20 * MS);
    }

    @Test
    void shouldReturnGiveUpResultsFromTickOnceAndNotAgainOnTheNextReceive() {
        StreamSession engine = engine(CONFIG);
        StreamSession gateway = gateway(CONFIG);
        List<byte[]> wire = new ArrayList<>();
        for (int i = 0; i < 3; i++) wire.addAll(engine.send(new FrameEnd(i, i), now));
        gateway.receive(wire.get(2), wire.get(2).length, now);
        assertThat(gateway.tick(now).delivered()).isEmpty();
        now += CONFIG.giveUpGapNs();
        Receipt gaveUp = gateway.tick(now);
        assertThat(gaveUp.delivered()).containsExactly(new FrameEnd(2, 2));
        assertThat(gaveUp.refreshNeeded()).isTrue();
        byte[] ka = engine.probe(now);
        Receipt r = gateway.receive(ka, ka.length, now);
        assertThat(r.delivered()).isEmpty();
        assertThat(r.refreshNeeded()).isFalse();
    }

    private byte[] nackFor(StreamSession receiver, StreamSession sender) {
        List<byte[]> wire = new ArrayList<>(sender.send(new FrameEnd(9, 9), now));
        wire.addAll(sender.send(new FrameEnd(10, 10), now));
        receiver.receive(wire.get(1), wire.get(1).length, now);
        now += CONFIG.nackDelayNs() * 2;
        return receiver.tick(now).replies().stream().filter(d -> d[DatagramHeader.KIND_OFFSET] == DatagramHeader.KIND_NACK).findFirst().orElseThrow();
    }

    @Test
    void shouldAcceptARestartedPeerWithANewEpochAndAskForRefresh() {
        StreamSession gateway = gateway(CONFIG);
        new Feed().into(gateway, engine(CONFIG).send(new FrameEnd(1, 1), now), now);
        StreamSession restarted = engine(CONFIG);
        Feed f = new Feed().into(gateway, restarted.send(new FrameEnd(2, 2), now), now);
        assertThat(f.delivered).containsExactly(new FrameEnd(2, 2));
        assertThat(f.refresh).isTrue();
    }

    // §2.2 authentication

    @Test
    void shouldRejectDatagramSealedWithAnotherTenantsKey() {
        StreamSession forged = new StreamSession(Side.ENGINE, TENANT, SESSION, key(TENANT + 1, SESSION), CONFIG);
        byte[] d = forged.send(new FrameEnd(1, 1), now).getFirst();
        StreamSession gateway = gateway(CONFIG);
        assertThatThrownBy(() -> gateway.receive(d, d.length, now)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("authentication");
        assertThat(gateway.lastHeardNs()).isEqualTo(Long.MIN_VALUE);
    }

    @Test
    void shouldRejectDatagramWithWrongKey() {
        byte[] wrong = key(TENANT, SESSION).clone();
        wrong[0] ^= 1;
        byte[] d = new StreamSession(Side.ENGINE, TENANT, SESSION, wrong, CONFIG).send(new FrameEnd(1, 1), now).getFirst();
        assertThatThrownBy(() -> gateway(CONFIG).receive(d, d.length, now)).isInstanceOf(ProtocolException.class);
    }

    @ParameterizedTest(name = "byte {0} flipped")
    @ValueSource(ints = {DatagramHeader.KIND_OFFSET, DatagramHeader.EPOCH_OFFSET, DatagramHeader.SEQUENCE_OFFSET + 7,
            DatagramHeader.FRAGMENT_COUNT_OFFSET + 1, DatagramHeader.HEADER_BYTES, DatagramHeader.HEADER_BYTES + 3})
    void shouldRejectTamperedHeaderOrCiphertext(int offset) {
        byte[] d = engine(CONFIG).send(tile(200, 1), now).getFirst();
        d[offset] ^= 0x01;
        assertThatThrownBy(() -> gateway(CONFIG).receive(d, d.length, now)).isInstanceOf(ProtocolException.class);
    }

    @Test
    void shouldRejectTamperedTagAndDatagramForAnotherTenant() {
        byte[] d = engine(CONFIG).send(tile(200, 1), now).getFirst();
        byte[] tag = d.clone();
        tag[tag.length - 1] ^= 0x80;
        assertThatThrownBy(() -> gateway(CONFIG).receive(tag, tag.length, now)).hasMessageContaining("authentication");
        byte[] tenant = d.clone();
        tenant[DatagramHeader.TENANT_OFFSET + 3] ^= 0x01;
        assertThatThrownBy(() -> gateway(CONFIG).receive(tenant, tenant.length, now)).hasMessageContaining("another session");
    }

    @Test
    void shouldRejectMessagesAndDatagramsTravellingTheWrongWay() {
        assertThatThrownBy(() -> engine(CONFIG).send(new Key(true, 65), now)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> gateway(CONFIG).send(new FrameEnd(1, 1), now)).isInstanceOf(IllegalArgumentException.class);
        byte[] up = gateway(CONFIG).send(new RefreshRequest(), now).getFirst();
        assertThatThrownBy(() -> gateway(CONFIG).receive(up, up.length, now)).hasMessageContaining("wrong direction");
        assertThat(engine(CONFIG).receive(up, up.length, now).delivered()).containsExactly(new RefreshRequest());
    }

    // §2.7 keepalive

    @Test
    void shouldSendKeepalivesWhenIdleAndDetectADeadPeer() {
        StreamSession engine = engine(CONFIG);
        StreamSession gateway = gateway(CONFIG);
        List<byte[]> first = engine.tick(now).replies();
        assertThat(first).hasSize(1);
        new Feed().into(gateway, first, now);
        long heard = now;
        assertThat(gateway.lastHeardNs()).isEqualTo(heard);
        now += CONFIG.keepaliveIntervalNs() - 1;
        assertThat(engine.tick(now).replies()).isEmpty();
        now += 1;
        List<byte[]> second = engine.tick(now).replies();
        assertThat(second).hasSize(1);
        assertThat(DatagramHeader.peek(second.getFirst(), second.getFirst().length).orElseThrow().kind()).isEqualTo(DatagramHeader.KIND_KEEPALIVE);
        assertThat(gateway.peerTimedOut(heard + CONFIG.peerTimeoutNs())).isFalse();
        assertThat(gateway.peerTimedOut(heard + CONFIG.peerTimeoutNs() + 1)).isTrue();
        new Feed().into(gateway, second, now);
        assertThat(gateway.peerTimedOut(heard + CONFIG.peerTimeoutNs() + 1)).isFalse();
    }

    @Test
    void shouldTimeOutAPeerNeverHeardFromFirstUse() {
        StreamSession gateway = gateway(CONFIG);
        assertThat(gateway.peerTimedOut(now)).isFalse();
        gateway.tick(now).replies();
        assertThat(gateway.peerTimedOut(now + CONFIG.peerTimeoutNs() + 1)).isTrue();
    }

    // fuzzing the datagram decoder

    @Test
    void shouldThrowOnlyProtocolExceptionForMutatedDatagrams() {
        StreamSession engine = engine(CONFIG);
        List<byte[]> seeds = new ArrayList<>(engine.send(tile(3000, 5), now));
        seeds.add(engine.probe(now));
        Random random = new Random(0xda7a);
        int rejected = 0;
        for (int i = 0; i < 20_000; i++) {
            StreamSession gateway = i % 100 == 0 ? gateway(CONFIG) : null;
            byte[] d = Mutator.mutate(seeds.get(random.nextInt(seeds.size())), random);
            try {
                (gateway != null ? gateway : FUZZ_TARGET).receive(d, d.length, now);
            } catch (ProtocolException e) {
                rejected++;
            }
        }
        assertThat(rejected).isGreaterThan(19_000);
    }

    private static final StreamSession FUZZ_TARGET = gateway(CONFIG);

    @FuzzTest(maxDuration = "20s")
    void fuzzReceiveThrowsOnlyProtocolException(byte[] datagram) {
        try {
            FUZZ_TARGET.receive(datagram, datagram.length, 0);
        } catch (ProtocolException expected) {
            // the only allowed failure
        }
    }
}
