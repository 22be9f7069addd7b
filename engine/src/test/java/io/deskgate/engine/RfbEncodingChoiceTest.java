package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.rfb.RfbEncodings;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** {@link RfbEncodingChoice}: what an instance asks its desktop for, by the link (docs/architecture.md). */
class RfbEncodingChoiceTest {
    @Test
    void shouldAskRawOnTheSameHostAndLosslessTightAcrossANetwork() {
        assertThat(RfbEncodingChoice.AUTO.encodings(true).codes()).first().isEqualTo(RfbEncodings.RAW);
        RfbEncodings remote = RfbEncodingChoice.AUTO.encodings(false);
        assertThat(remote.codes()).first().isEqualTo(RfbEncodings.TIGHT);
        assertThat(remote.codes()).as("no Tight JPEG quality level: the server sends no JPEG")
                .noneMatch(c -> c >= RfbEncodings.jpegQuality(0) && c <= RfbEncodings.jpegQuality(9));
        assertThat(RfbEncodingChoice.ZRLE.encodings(true)).isEqualTo(RfbEncodings.DEFAULT);
        for (RfbEncodingChoice c : RfbEncodingChoice.values()) {
            assertThat(c.encodings(false).codes()).as("%s", c).contains(RfbEncodings.RAW, RfbEncodings.COPY_RECT, RfbEncodings.DESKTOP_SIZE);
        }
    }

    @Test
    void shouldReadAChoiceByItsNameOnly() {
        assertThat(RfbEncodingChoice.of("tight")).isEqualTo(RfbEncodingChoice.TIGHT);
        assertThatThrownBy(() -> RfbEncodingChoice.of("1")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rfb-encodings");
        assertThatThrownBy(() -> RfbEncodingChoice.of("TIGHT")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldTellTheLoopbackFromAnotherHost() throws Exception {
        assertThat(RfbEncodingChoice.isSameHost(InetAddress.getByName("127.0.0.1"))).isTrue();
        assertThat(RfbEncodingChoice.isSameHost(InetAddress.getByName("::1"))).isTrue();
        assertThat(RfbEncodingChoice.isSameHost(InetAddress.getByName("192.0.2.7"))).as("TEST-NET-1, nobody's interface").isFalse();
    }
}
