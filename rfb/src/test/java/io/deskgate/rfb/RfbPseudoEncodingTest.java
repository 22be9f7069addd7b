package io.deskgate.rfb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.ProtocolException;
import java.util.HexFormat;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The pseudo-encodings and extension messages of the community RFB extensions ("rfbproto"): Cursor,
 * ExtendedDesktopSize with SetDesktopSize, ContinuousUpdates, Fence. Each is used only once the server has
 * answered the pseudo-encoding, and each extension message is refused unless its pseudo-encoding was asked for.
 */
class RfbPseudoEncodingTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final RfbEncodings ALL = RfbEncodings.of(RfbEncodings.ZRLE, RfbEncodings.RAW, RfbEncodings.CURSOR,
            RfbEncodings.EXTENDED_DESKTOP_SIZE, RfbEncodings.DESKTOP_SIZE, RfbEncodings.CONTINUOUS_UPDATES, RfbEncodings.FENCE);

    private final EventLog log = new EventLog();
    private final RfbClient client = new RfbClient("", false, log, ALL);
    private final RfbServerBytes server = RfbServerBytes.handshake(32, 16);
    private int fed;

    private void feed() {
        byte[] b = server.toByteArray();
        for (; fed < b.length; fed++) client.receive(b, fed, 1);
        assertThat(client.pendingInputBytes()).isZero();
    }

    /** Handshake fed, its replies drained: what is drained next answers the messages of the test. */
    private void ready() {
        feed();
        client.drainOutgoing();
    }

    private void assertRejected(RfbEncodings encodings, Consumer<RfbServerBytes> write, String message) {
        RfbClient other = new RfbClient("", false, new EventLog(), encodings);
        RfbServerBytes s = RfbServerBytes.handshake(32, 16);
        write.accept(s);
        byte[] b = s.toByteArray();
        assertThatThrownBy(() -> other.receive(b, 0, b.length)).isInstanceOf(ProtocolException.class).hasMessageContaining(message);
    }

    // ---- Cursor (-239) ----

    @Test
    void shouldDeliverTheCursorImageWithItsMaskAsAlpha_rfbproto_cursor() {
        int[] pixels = new int[10 * 3];
        boolean[] mask = new boolean[10 * 3];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = 0x010101 * i;
            mask[i] = i % 3 == 0 || i == 9; // pixel 9 is in the second mask byte of row 0
        }
        server.framebufferUpdate(1).cursor(4, 2, 10, 3, pixels, mask);
        feed();
        assertThat(log.events).containsExactly("init 32x16 test", "cursor 10x3 at 4,2", "end");
        RfbCursor cursor = log.cursors.getFirst();
        for (int i = 0; i < pixels.length; i++) {
            assertThat(cursor.pixel(i % 10, i / 10)).as("pixel %d", i).isEqualTo((mask[i] ? 0xFF00_0000 : 0) | pixels[i]);
        }
        assertThat(client.framebuffer().pixels()).as("a cursor is not framebuffer content").containsOnly(0);
    }

    @Test
    void shouldDeliverAnEmptyCursor_rfbproto_cursor() {
        server.framebufferUpdate(1).cursor(0, 0, 0, 0, new int[0], new boolean[0]);
        feed();
        assertThat(log.cursors).containsExactly(new RfbCursor(0, 0, 0, 0, new int[0]));
    }

    @Test
    void shouldDeliverACursorWithNoPixelsAsTheEmptyCursor_asTigerVncSendsIt() {
        server.framebufferUpdate(2).cursor(0, 0, 1, 0, new int[0], new boolean[0]).cursor(5, 7, 0, 3, new int[0], new boolean[0]);
        feed();
        assertThat(log.cursors).containsExactly(new RfbCursor(0, 0, 0, 0, new int[0]), new RfbCursor(0, 0, 0, 0, new int[0]));
        assertThat(log.events).last().isEqualTo("end");
    }

    @Test
    void shouldRefuseAnOversizedCursorBeforeBufferingIt() {
        assertRejected(ALL, s -> s.framebufferUpdate(1).rectHeader(0, 0, 60000, 60000, RfbClient.ENCODING_CURSOR), "Cursor of 60000x60000 outside 1..256");
    }

    @Test
    void shouldRejectACursorHotspotOutsideItsImage() {
        assertRejected(ALL, s -> s.framebufferUpdate(1).cursor(2, 0, 2, 1, new int[2], new boolean[2]), "hotspot 2,0 outside");
    }

    @Test
    void shouldRejectACursorUnlessRequested() {
        assertRejected(RfbEncodings.DEFAULT, s -> s.framebufferUpdate(1).cursor(0, 0, 1, 1, new int[1], new boolean[1]), "unrequested encoding -239");
    }

    // ---- ExtendedDesktopSize (-308) and SetDesktopSize (251) ----

    @Test
    void shouldTakeTheFirstExtendedDesktopSizeAsTheOfferAndKeepPixelsWhenTheSizeIsUnchanged_rfbproto() {
        server.framebufferUpdate(2).raw(0, 0, 1, 1, 0xabcdef).extendedDesktopSize(0, 0, 32, 16, new int[] {7, 0, 0, 32, 16, 0});
        assertThat(client.supportsDesktopResize()).isFalse();
        feed();
        assertThat(client.supportsDesktopResize()).isTrue();
        assertThat(client.framebuffer().pixel(0, 0)).isEqualTo(0xabcdef);
        assertThat(log.events).containsExactly("init 32x16 test", "rect 0,0 1x1", "layout 0/0 32x16 screens 1", "end");
        assertThat(log.layouts.getFirst().screens()).containsExactly(new RfbScreen(7, 0, 0, 32, 16, 0));
    }

    @Test
    void shouldSendSetDesktopSizeWithTheServersScreenIdOnlyOnceOffered_rfbproto() {
        ready();
        assertThatThrownBy(() -> client.requestDesktopSize(64, 48)).isInstanceOf(IllegalStateException.class);
        server.framebufferUpdate(1).extendedDesktopSize(0, 0, 32, 16, new int[] {0x01020304, 0, 0, 32, 16, 5});
        feed();
        client.requestDesktopSize(64, 48);
        assertThat(HEX.formatHex(client.drainOutgoing()))
                .isEqualTo("fb00" + "0040" + "0030" + "01" + "00" + "01020304" + "0000" + "0000" + "0040" + "0030" + "00000005");
        assertThatThrownBy(() -> client.requestDesktopSize(9000, 48)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldResizeOnASuccessfulChangeAndNotOnARefusal_rfbproto() {
        server.framebufferUpdate(1).extendedDesktopSize(1, 0, 64, 48, new int[] {1, 0, 0, 64, 48, 0});
        server.framebufferUpdate(1).extendedDesktopSize(1, 3, 100, 100, new int[] {1, 0, 0, 100, 100, 0});
        feed();
        assertThat(client.framebuffer().width()).isEqualTo(64);
        assertThat(client.framebuffer().height()).isEqualTo(48);
        assertThat(log.events).containsExactly("init 32x16 test", "size 64x48", "layout 1/0 64x48 screens 1", "end",
                "layout 1/3 100x100 screens 1", "end");
        assertThat(log.layouts.get(1).ok()).isFalse();
    }

    @Test
    void shouldRefuseAHugeExtendedDesktopSize() {
        // The header alone is refused: the screens never arrive.
        assertRejected(ALL, s -> s.framebufferUpdate(1).rectHeader(0, 0, 60000, 60000, RfbClient.ENCODING_EXTENDED_DESKTOP_SIZE),
                "ExtendedDesktopSize framebuffer size 60000x60000 outside 1..8192");
    }

    // ---- ContinuousUpdates (-313, messages 150) ----

    @Test
    void shouldOfferContinuousUpdatesOnlyAfterEndOfContinuousUpdates_rfbproto() {
        ready();
        assertThatThrownBy(() -> client.enableContinuousUpdates(true)).isInstanceOf(IllegalStateException.class);
        server.endOfContinuousUpdates();
        feed();
        assertThat(client.supportsContinuousUpdates()).isTrue();
        assertThat(log.events).endsWith("end of continuous updates");
        client.enableContinuousUpdates(true);
        client.enableContinuousUpdates(false);
        assertThat(HEX.formatHex(client.drainOutgoing())).isEqualTo("9601000000000020001" + "0" + "9600000000000020001" + "0");
    }

    @Test
    void shouldRejectEndOfContinuousUpdatesUnlessRequested() {
        assertRejected(RfbEncodings.DEFAULT, RfbServerBytes::endOfContinuousUpdates, "unknown message type 150");
    }

    // ---- Fence (-312, messages 248) ----

    @Test
    void shouldAnswerAFenceRequestWithTheSupportedFlagsAndThePayload_rfbproto() {
        ready();
        // Request | SyncNext | BlockAfter | BlockBefore, plus an undefined bit 5 the reply must clear.
        server.fence(0x8000_0027, new byte[] {1, 2, 3});
        feed();
        assertThat(client.supportsFence()).isTrue();
        assertThat(HEX.formatHex(client.drainOutgoing())).isEqualTo("f8000000" + "00000007" + "03" + "010203");
    }

    @Test
    void shouldAnswerFencesInOrderWithOtherReplies() {
        ready();
        server.fence(0x8000_0002, new byte[0]).framebufferUpdate(0).fence(0x8000_0001, new byte[] {9});
        feed();
        client.requestUpdate(true);
        assertThat(HEX.formatHex(client.drainOutgoing())).isEqualTo("f8000000000000020" + "0" + "f8000000000000010109" + "03010000000000200010");
    }

    @Test
    void shouldNotAnswerAFenceResponse_rfbproto() {
        ready();
        server.fence(0x0000_0001, new byte[] {1});
        feed();
        assertThat(client.drainOutgoing()).isEmpty();
    }

    @Test
    void shouldRejectAnOversizedFencePayload() {
        assertRejected(ALL, s -> s.fence(0x8000_0000, new byte[65]), "Fence payload of 65 bytes exceeds 64");
    }

    @Test
    void shouldRejectAFenceUnlessRequested() {
        assertRejected(RfbEncodings.DEFAULT, s -> s.fence(0x8000_0000, new byte[0]), "unknown message type 248");
    }

    // ---- the encodings parameter ----

    @Test
    void shouldValidateTheEncodingsList() {
        assertThat(RfbEncodings.DEFAULT.codes()).containsExactly(16, 1, 0, -223, -224);
        assertThat(RfbEncodings.jpegQuality(6)).isEqualTo(-26);
        assertThat(RfbEncodings.compressLevel(2)).isEqualTo(-254);
        assertThatThrownBy(() -> RfbEncodings.of()).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RfbEncodings.of(16, 16)).hasMessageContaining("appears twice");
        assertThatThrownBy(() -> RfbEncodings.of(6)).hasMessageContaining("cannot decode encoding 6");
        assertThatThrownBy(() -> RfbEncodings.of(7, -32, -30)).hasMessageContaining("at most one JPEG quality level");
        assertThatThrownBy(() -> RfbEncodings.jpegQuality(10)).isInstanceOf(IllegalArgumentException.class);
        assertThat(RfbEncodings.jpegFineQuality(80)).isEqualTo(-432);
        assertThat(RfbEncodings.jpegSubsampling(RfbEncodings.SUBSAMPLING_GRAY)).isEqualTo(-765);
        assertThat(RfbEncodings.of(7, -26, -432, -765, -254).codes()).hasSize(5);
        assertThatThrownBy(() -> RfbEncodings.of(7, -432, -431)).hasMessageContaining("fine quality");
        assertThatThrownBy(() -> RfbEncodings.jpegSubsampling(6)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldDecodeRawEvenWhenNotRequested_rfc6143_7_7_1() {
        RfbClient tightOnly = new RfbClient("", false, log, RfbEncodings.of(RfbEncodings.TIGHT));
        byte[] b = RfbServerBytes.handshake(4, 4).framebufferUpdate(1).raw(0, 0, 1, 1, 0x445566).toByteArray();
        tightOnly.receive(b, 0, b.length);
        assertThat(tightOnly.framebuffer().pixel(0, 0)).isEqualTo(0x445566);
    }
}
