package io.deskgate.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.stream.StreamMessage.Key;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** The datagram layout of docs/protocol.md §2.1–2.2 and its golden vector (§2.8). */
class DatagramHeaderTest {
    static final HexFormat HEX = HexFormat.of();
    static final UUID SESSION = UUID.fromString("00112233-4455-6677-8899-aabbccddeeff");
    /** §2.8: key 00..1f, tenant 7, epoch 0x01020304, gateway side, first DATA datagram, KEY down 'a'. */
    static final String GOLDEN = "d1" + "01" + "01" + "00" + "00000007" + "00112233445566778899aabbccddeeff" + "01020304"
            + "0000000000000000" + "0000" + "0001"
            + "d48d0b4ac060" + "e6d2290d8e764222ef2542d57f702c3e";

    static byte[] key() {
        byte[] k = new byte[32];
        for (int i = 0; i < 32; i++) k[i] = (byte) i;
        return k;
    }

    @Test
    void shouldSealTheGoldenDatagramOfSection2_8() {
        StreamSession s = new StreamSession(StreamSession.Side.GATEWAY, 7, SESSION, key(), StreamSessionConfig.defaults(), 0x01020304);
        List<byte[]> d = s.send(new Key(true, 0x61), 0);
        assertThat(d).hasSize(1);
        assertThat(HEX.formatHex(d.getFirst())).isEqualTo(GOLDEN);
    }

    @Test
    void shouldOpenTheGoldenDatagramWithAPlainAesGcmAndTheDocumentedNonce() throws Exception {
        byte[] d = HEX.parseHex(GOLDEN);
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        byte[] nonce = HEX.parseHex("01020304" + "8000000000000000"); // epoch, then direction UP in bit 63
        c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key(), "AES"), new GCMParameterSpec(128, nonce));
        c.updateAAD(d, 0, DatagramHeader.HEADER_BYTES);
        byte[] plain = c.doFinal(d, DatagramHeader.HEADER_BYTES, d.length - DatagramHeader.HEADER_BYTES);
        assertThat(HEX.formatHex(plain)).isEqualTo("81" + "01" + "00000061");
    }

    @Test
    void shouldReceiveTheGoldenDatagramAtTheEngine() {
        byte[] d = HEX.parseHex(GOLDEN);
        StreamSession engine = new StreamSession(StreamSession.Side.ENGINE, 7, SESSION, key(), StreamSessionConfig.defaults());
        assertThat(engine.receive(d, d.length, 0).delivered()).containsExactly(new Key(true, 0x61));
    }

    @Test
    void shouldPeekTheClearHeaderWithoutAuthenticating() {
        byte[] d = HEX.parseHex(GOLDEN);
        d[d.length - 1] ^= 1; // a bad tag does not matter to peek
        assertThat(DatagramHeader.peek(d, d.length)).contains(new DatagramHeader(1, DatagramHeader.KIND_DATA,
                DatagramHeader.DIRECTION_UP, 7, SESSION, 0, 0, 1, 0x01020304));
    }

    @Test
    void shouldPeekNothingFromShortOrForeignDatagrams() {
        byte[] d = HEX.parseHex(GOLDEN);
        assertThat(DatagramHeader.peek(d, DatagramHeader.OVERHEAD_BYTES - 1)).isEmpty();
        assertThat(DatagramHeader.peek(d, d.length + 1)).isEmpty();
        for (int offset : new int[] {DatagramHeader.MAGIC_OFFSET, DatagramHeader.RESERVED_OFFSET}) {
            byte[] bad = d.clone();
            bad[offset] ^= 0x10;
            assertThat(DatagramHeader.peek(bad, bad.length)).as("offset " + offset).isEmpty();
        }
        byte[] kind = d.clone();
        kind[DatagramHeader.KIND_OFFSET] = 4;
        assertThat(DatagramHeader.peek(kind, kind.length)).isEmpty();
        byte[] dir = d.clone();
        dir[DatagramHeader.DIRECTION_OFFSET] = 2;
        assertThat(DatagramHeader.peek(dir, dir.length)).isEmpty();
        byte[] seq = d.clone();
        seq[DatagramHeader.SEQUENCE_OFFSET] = 0x40; // 2^62
        assertThat(DatagramHeader.peek(seq, seq.length)).isEmpty();
    }
}
