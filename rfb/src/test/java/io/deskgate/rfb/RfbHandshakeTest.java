package io.deskgate.rfb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.ProtocolException;
import io.deskgate.common.Status;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class RfbHandshakeTest {
    private static final HexFormat HEX = HexFormat.of();
    /** Golden SetPixelFormat + SetEncodings the client queues right after ServerInit. */
    private static final String PIXEL_FORMAT_AND_ENCODINGS =
            "00000000" + "20180001" + "00ff00ff00ff" + "100800" + "000000"
            + "02000005" + "00000010" + "00000001" + "00000000" + "ffffff21" + "ffffff20";

    private final EventLog log = new EventLog();

    private static void feed(RfbClient client, RfbServerBytes bytes) {
        byte[] b = bytes.toByteArray();
        client.receive(b, 0, b.length);
    }

    @Test
    void shouldAnswerVersion38WithVersion38_rfc6143_7_1_1() {
        RfbClient client = new RfbClient("", false, log);
        feed(client, new RfbServerBytes().version("RFB 003.008\n"));
        assertThat(new String(client.drainOutgoing(), StandardCharsets.US_ASCII)).isEqualTo("RFB 003.008\n");
        assertThat(client.drainOutgoing()).isEmpty();
        assertThat(client.isReady()).isFalse();
    }

    @Test
    void shouldTreatApple3889AsVersion38() {
        RfbClient client = new RfbClient("", true, log);
        feed(client, new RfbServerBytes().version("RFB 003.889\n").securityTypes(1).securityResult(0));
        assertThat(HEX.formatHex(client.drainOutgoing())).isEqualTo(HEX.formatHex("RFB 003.008\n".getBytes(StandardCharsets.US_ASCII)) + "01" + "01");
    }

    @Test
    void shouldSpeak33WithServerChosenNoneAndNoSecurityResult_rfc6143_appendixA() {
        RfbClient client = new RfbClient("", true, log);
        feed(client, new RfbServerBytes().version("RFB 003.003\n").u32(1).serverInit(640, 480, "old"));
        assertThat(HEX.formatHex(client.drainOutgoing()))
                .isEqualTo(HEX.formatHex("RFB 003.003\n".getBytes(StandardCharsets.US_ASCII)) + "01" + PIXEL_FORMAT_AND_ENCODINGS);
        assertThat(client.isReady()).isTrue();
        assertThat(log.events).containsExactly("init 640x480 old");
    }

    @Test
    void shouldSkipSecurityResultForNoneInVersion37_rfc6143_7_1_3() {
        RfbClient client = new RfbClient("", false, log);
        feed(client, new RfbServerBytes().version("RFB 003.007\n").securityTypes(1).serverInit(8, 8, "v37"));
        assertThat(HEX.formatHex(client.drainOutgoing()))
                .isEqualTo(HEX.formatHex("RFB 003.007\n".getBytes(StandardCharsets.US_ASCII)) + "01" + "00" + PIXEL_FORMAT_AND_ENCODINGS);
        assertThat(client.framebuffer().width()).isEqualTo(8);
    }

    @Test
    void shouldRejectAGreetingThatIsNotRfb() {
        RfbClient client = new RfbClient("", false, log);
        byte[] http = "HTTP/1.1 200".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> client.receive(http, 0, http.length))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("no valid ProtocolVersion");
        assertThatThrownBy(() -> client.receive(http, 0, 1))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("already failed");
    }

    @Test
    void shouldRejectProtocolVersion4() {
        RfbClient client = new RfbClient("", false, log);
        byte[] v = "RFB 004.001\n".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> client.receive(v, 0, v.length)).isInstanceOf(ProtocolException.class).hasMessageContaining("4.1");
    }

    @Test
    void shouldPreferNoneAndSendSharedFlagInClientInit_rfc6143_7_1_2_and_7_3_1() {
        RfbClient client = new RfbClient("unused", true, log);
        feed(client, new RfbServerBytes().version("RFB 003.008\n").securityTypes(2, 1).securityResult(0));
        byte[] out = client.drainOutgoing();
        assertThat(HEX.formatHex(out, 12, out.length)).isEqualTo("01" + "01");
    }

    /**
     * Golden vector checked live: TigerVNC 1.12 Xvnc with a {@code vncpasswd -f} file for "sekrit12" sent
     * this challenge and accepted this response (and openssl's DES-ECB agrees).
     */
    @Test
    void shouldAnswerVncAuthChallengeWithGoldenDesResponse_rfc6143_7_2_2() {
        RfbClient client = new RfbClient("sekrit12", false, log);
        feed(client, new RfbServerBytes().version("RFB 003.008\n").securityTypes(2)
                .bytes(HEX.parseHex("e93e4ee3197c04c20d15a2dc2c531781")));
        byte[] out = client.drainOutgoing();
        assertThat(HEX.formatHex(out, 12, out.length)).isEqualTo("02" + "918d1bb9a7ac278d9604e1e42106d98f");
        feed(client, new RfbServerBytes().securityResult(0).serverInit(16, 16, "auth"));
        assertThat(client.isReady()).isTrue();
        assertThat(HEX.formatHex(client.drainOutgoing())).isEqualTo("00" + PIXEL_FORMAT_AND_ENCODINGS);
    }

    @Test
    void shouldKeyDesWithOnlyTheFirstEightPasswordCharacters_rfc6143_7_2_2() {
        byte[] challenge = HEX.parseHex("000102030405060708090a0b0c0d0e0f");
        assertThat(VncAuthentication.response("sekrit12-and-more", challenge)).isEqualTo(VncAuthentication.response("sekrit12", challenge));
        assertThat(HEX.formatHex(VncAuthentication.response("", challenge))).isEqualTo("491e890de9ace932838a49792f2213f3");
    }

    @Test
    void shouldFailUnauthorizedWithServerReasonWhenAuthIsRejected_rfc6143_7_1_3() {
        RfbClient client = new RfbClient("wrong", false, log);
        RfbServerBytes bytes = new RfbServerBytes().version("RFB 003.008\n").securityTypes(2)
                .bytes(new byte[16]).securityResult(1).string("Authentication failure");
        byte[] b = bytes.toByteArray();
        // Everything but the last byte of the reason: the client waits for the whole reason.
        client.receive(b, 0, b.length - 1);
        assertThatThrownBy(() -> client.receive(b, b.length - 1, 1))
                .isInstanceOfSatisfying(DeskgateException.class, e -> assertThat(e.status()).isEqualTo(Status.UNAUTHORIZED))
                .hasMessage("RFB authentication failed: Authentication failure")
                .hasMessageNotContaining("wrong");
    }

    @Test
    void shouldFailUnauthorizedWithoutReasonInVersion37() {
        RfbClient client = new RfbClient("pw", false, log);
        RfbServerBytes bytes = new RfbServerBytes().version("RFB 003.007\n").securityTypes(2).bytes(new byte[16]).securityResult(1);
        assertThatThrownBy(() -> feed(client, bytes))
                .isInstanceOfSatisfying(DeskgateException.class, e -> assertThat(e.status()).isEqualTo(Status.UNAUTHORIZED))
                .hasMessage("RFB authentication failed: no reason given");
    }

    @Test
    void shouldReportTheServersReasonWhenItOffersNoSecurityTypes_rfc6143_7_1_2() {
        RfbClient client = new RfbClient("", false, log);
        RfbServerBytes bytes = new RfbServerBytes().version("RFB 003.008\n").securityTypes().string("Too many security failures");
        assertThatThrownBy(() -> feed(client, bytes))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("refused the connection: Too many security failures");
    }

    @Test
    void shouldRejectAServerOfferingOnlyUnsupportedSecurityTypes() {
        RfbClient client = new RfbClient("", false, log);
        assertThatThrownBy(() -> feed(client, new RfbServerBytes().version("RFB 003.008\n").securityTypes(16, 19)))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("no supported security type");
    }

    @Test
    void shouldCreateFramebufferAndQueuePixelFormatAndEncodings_rfc6143_7_3_2() {
        RfbClient client = new RfbClient("", false, log);
        assertThatThrownBy(client::framebuffer).isInstanceOf(IllegalStateException.class);
        feed(client, RfbServerBytes.handshake(1280, 800));
        byte[] out = client.drainOutgoing();
        assertThat(HEX.formatHex(out, 12, out.length)).isEqualTo("01" + "00" + PIXEL_FORMAT_AND_ENCODINGS);
        assertThat(client.isReady()).isTrue();
        assertThat(client.framebuffer().width()).isEqualTo(1280);
        assertThat(client.framebuffer().height()).isEqualTo(800);
        assertThat(client.framebuffer().pixels()).hasSize(1280 * 800);
        assertThat(log.events).containsExactly("init 1280x800 test");
    }

    @Test
    void shouldRejectServerInitSizesOutsideTheLimit() {
        for (int[] size : new int[][] {{0, 10}, {10, 0}, {8193, 10}, {10, 65535}}) {
            RfbClient client = new RfbClient("", false, log);
            assertThatThrownBy(() -> feed(client, RfbServerBytes.handshake(size[0], size[1])))
                    .isInstanceOf(ProtocolException.class).hasMessageContaining("outside 1..8192");
        }
    }

    @Test
    void shouldRejectAnOversizedDesktopName() {
        RfbClient client = new RfbClient("", false, log);
        RfbServerBytes bytes = new RfbServerBytes().version("RFB 003.008\n").securityTypes(1).securityResult(0)
                .u16(10).u16(10).bytes(new byte[16]).u32(Integer.MAX_VALUE);
        assertThatThrownBy(() -> feed(client, bytes)).isInstanceOf(ProtocolException.class).hasMessageContaining("exceeds");
    }

    @Test
    void shouldWriteClientMessagesInWireFormat_rfc6143_7_5() {
        RfbClient client = new RfbClient("", false, log);
        feed(client, RfbServerBytes.handshake(100, 50));
        client.drainOutgoing();
        client.requestUpdate(true);
        client.requestUpdate(false);
        client.keyEvent(true, 0xff0d);
        client.pointerEvent(150, -3, 0x101);
        client.clientCutText("hé€\uD83D\uDE00!");
        assertThat(HEX.formatHex(client.drainOutgoing())).isEqualTo(
                "0301" + "00000000" + "00640032"
                + "0300" + "00000000" + "00640032"
                + "0401" + "0000" + "0000ff0d"
                + "0501" + "0063" + "0000"
                + "06000000" + "00000005" + "68e93f3f21");
    }
}
