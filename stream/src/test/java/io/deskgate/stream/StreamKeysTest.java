package io.deskgate.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class StreamKeysTest {
    private static final byte[] MASTER = new byte[32];

    @Test
    void shouldDeriveTheGoldenKey() {
        // HMAC-SHA256(32 zero bytes, "deskgate-stream-v1|1|00000000-0000-0000-0000-000000000001"), computed with
        // `openssl dgst -sha256 -mac HMAC -macopt hexkey:00...00`.
        byte[] key = new StreamKeys(MASTER).derive(1, "00000000-0000-0000-0000-000000000001");
        assertThat(HexFormat.of().formatHex(key))
                .isEqualTo("6e5724d0489b9ba7025de11d4e381010b040ed0fb8b8c6d0b9ce0670a23863e4");
    }

    @Test
    void shouldBindTheKeyToTenantAndSession() {
        StreamKeys keys = new StreamKeys(MASTER);
        byte[] a = keys.derive(1, "s");
        assertThat(keys.derive(2, "s")).isNotEqualTo(a);
        assertThat(keys.derive(1, "t")).isNotEqualTo(a);
        byte[] otherMaster = MASTER.clone();
        otherMaster[31] = 1;
        assertThat(new StreamKeys(otherMaster).derive(1, "s")).isNotEqualTo(a);
    }
}
