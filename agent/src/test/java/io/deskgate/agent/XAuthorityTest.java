package io.deskgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class XAuthorityTest {
    /** Golden vector in libXau's layout: family FFFF, empty address, display "21", name, 16-byte data. */
    @Test
    void shouldEncodeOneWildcardCookieEntry() {
        byte[] cookie = HexFormat.of().parseHex("00112233445566778899aabbccddeeff");
        assertThat(HexFormat.of().formatHex(XAuthority.encode(21, cookie))).isEqualTo(
                "ffff" + "0000" + "0002" + "3231" + "0012" + HexFormat.of().formatHex("MIT-MAGIC-COOKIE-1".getBytes())
                        + "0010" + "00112233445566778899aabbccddeeff");
    }
}
