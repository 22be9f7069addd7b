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

/**
 * The UDP leg's session core (docs/protocol.md §2) on a fake clock: sweeps over sizes and shuffles, the
 * authentication checks and fuzzing. The stories (loss repair, the tail probe, the gap give-up, keepalives
 * and liveness, duplicates and replays, a restarted peer) are scripts: {@link StreamSessionScenarioTest}.
 */
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
    void shouldTellAuthenticDatagramsFromForgedOnesWithoutASession() {
        byte[] d = engine(CONFIG).send(tile(300, 4), now).getFirst();
        assertThat(StreamSession.authentic(key(TENANT, SESSION), d, d.length)).isTrue();
        assertThat(StreamSession.authentic(key(TENANT + 1, SESSION), d, d.length)).as("another tenant's key").isFalse();
        byte[] tampered = d.clone();
        tampered[DatagramHeader.SEQUENCE_OFFSET + 7] ^= 1;
        assertThat(StreamSession.authentic(key(TENANT, SESSION), tampered, tampered.length)).as("header changed").isFalse();
        assertThat(StreamSession.authentic(key(TENANT, SESSION), new byte[] {1, 2, 3}, 3)).as("not a datagram").isFalse();
        assertThat(StreamSession.authentic(key(TENANT, SESSION), d, d.length - 1)).as("truncated").isFalse();
    }

    @Test
    void shouldRejectMessagesAndDatagramsTravellingTheWrongWay() {
        assertThatThrownBy(() -> engine(CONFIG).send(new Key(true, 65), now)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> gateway(CONFIG).send(new FrameEnd(1, 1), now)).isInstanceOf(IllegalArgumentException.class);
        byte[] up = gateway(CONFIG).send(new RefreshRequest(), now).getFirst();
        assertThatThrownBy(() -> gateway(CONFIG).receive(up, up.length, now)).hasMessageContaining("wrong direction");
        assertThat(engine(CONFIG).receive(up, up.length, now).delivered()).containsExactly(new RefreshRequest());
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
