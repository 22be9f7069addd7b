package io.deskgate.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.deskgate.common.ProtocolException;
import io.deskgate.common.Status;
import io.deskgate.stream.StreamMessage.ClientCapabilities;
import io.deskgate.stream.StreamMessage.ClientClipboard;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.Cursor;
import io.deskgate.stream.StreamMessage.FrameAck;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.Key;
import io.deskgate.stream.StreamMessage.Pointer;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.Resize;
import io.deskgate.stream.StreamMessage.ResizeRequest;
import io.deskgate.stream.StreamMessage.ServerClipboard;
import io.deskgate.stream.StreamMessage.StatusMessage;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.StreamMessage.ViewerLeft;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Golden vectors and rejections of docs/protocol.md §1. */
class StreamCodecTest {
    private static final HexFormat HEX = HexFormat.of();

    /** One vector per message type (§1.1, §1.2). */
    static Stream<Arguments> goldenVectors() {
        return Stream.of(
                Arguments.of("01" + "0003" + "0004" + "0001" + "0001" + "04" + "ff0000", new Tile(3, 4, 1, 1, Tile.FORMAT_FILL, bytes("ff0000"))),
                Arguments.of("02" + "0001" + "0002" + "0003" + "0004" + "0005" + "0006", new CopyRect(1, 2, 3, 4, 5, 6)),
                Arguments.of("03" + "0001" + "0000" + "0001" + "0001" + "11223344", new Cursor(1, 0, 1, 1, bytes("11223344"))),
                Arguments.of("04" + "0780" + "0438", new Resize(1920, 1080)),
                Arguments.of("05" + "68c3a9", new ServerClipboard("h\u00e9")),
                Arguments.of("06" + "00000007" + "00000000000003e8", new FrameEnd(7, 1000)),
                Arguments.of("07" + "0009" + "627965", new StatusMessage(Status.SESSION_ENDED.protocolCode(), "bye")),
                Arguments.of("81" + "01" + "0000ff0d", new Key(true, 0xff0d)),
                Arguments.of("82" + "000a" + "0014" + "01", new Pointer(10, 20, 1)),
                Arguments.of("83" + "6f6b", new ClientClipboard("ok")),
                Arguments.of("84" + "ffffffff" + "0000000000000001", new FrameAck(0xffffffffL, 1)),
                Arguments.of("85" + "0320" + "0258", new ResizeRequest(800, 600)),
                Arguments.of("86", new RefreshRequest()),
                Arguments.of("87", new ViewerLeft()),
                Arguments.of("88" + "00000001", new ClientCapabilities(ClientCapabilities.WEBP)));
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @MethodSource("goldenVectors")
    void shouldEncodeEachMessageTypeToItsGoldenBytes(String hex, StreamMessage message) {
        assertThat(HEX.formatHex(StreamCodec.encode(message))).isEqualTo(hex);
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @MethodSource("goldenVectors")
    void shouldDecodeEachGoldenVectorToItsMessage(String hex, StreamMessage message) {
        assertThat(StreamCodec.decode(bytes(hex))).isEqualTo(message);
    }

    @Test
    void shouldCoverEveryMessageTypeWithAGoldenVector() {
        List<Integer> types = goldenVectors().map(a -> ((StreamMessage) a.get()[1]).type()).toList();
        assertThat(types).containsExactlyInAnyOrder(StreamCodec.TILE, StreamCodec.COPY_RECT, StreamCodec.CURSOR, StreamCodec.RESIZE,
                StreamCodec.SERVER_CLIPBOARD, StreamCodec.FRAME_END, StreamCodec.STATUS, StreamCodec.KEY, StreamCodec.POINTER,
                StreamCodec.CLIENT_CLIPBOARD, StreamCodec.FRAME_ACK, StreamCodec.RESIZE_REQUEST, StreamCodec.REFRESH_REQUEST,
                StreamCodec.VIEWER_LEFT, StreamCodec.CLIENT_CAPABILITIES);
    }

    @Test
    void shouldMatchTheExampleOfSection1_3() {
        assertThat(StreamCodec.encode(new Tile(3, 4, 1, 1, Tile.FORMAT_FILL, bytes("ff0000"))))
                .isEqualTo(bytes("01 0003 0004 0001 0001 04 ff0000".replace(" ", "")));
    }

    static Stream<Arguments> rejections() {
        return Stream.of(
                Arguments.of("empty", "", "empty"),
                Arguments.of("unknown down type", "08", "unknown stream message type 0x08"),
                Arguments.of("unknown type zero", "00", "unknown stream message type 0x00"),
                Arguments.of("unknown up type", "80", "unknown stream message type 0x80"),
                Arguments.of("unknown up type after client capabilities", "89", "unknown stream message type 0x89"),
                Arguments.of("truncated client capabilities", "88000001", "truncated"),
                Arguments.of("trailing bytes after client capabilities", "880000000100", "trailing"),
                Arguments.of("truncated tile", "0100030004", "truncated"),
                Arguments.of("truncated frame end", "0600000007", "truncated"),
                Arguments.of("truncated key", "8101", "truncated"),
                Arguments.of("trailing bytes after resize", "040780043800", "trailing"),
                Arguments.of("trailing bytes after refresh request", "8601", "trailing"),
                Arguments.of("trailing bytes after viewer left", "8700", "trailing"),
                Arguments.of("bad UTF-8 in server clipboard", "05ff", "UTF-8"),
                Arguments.of("bad UTF-8 in client clipboard", "83c3", "UTF-8"),
                Arguments.of("bad UTF-8 in status", "070001c0af", "UTF-8"),
                Arguments.of("tile format zero", "01000000000001000100", "tile format 0"),
                Arguments.of("tile format eight", "01000000000001000108aa", "tile format 8"),
                Arguments.of("cursor size mismatch", "030000000000010001112233", "cursor of 1x1 carries 3 bytes"),
                Arguments.of("cursor size that overflows an int", "0300000000" + "8000" + "8000", "cursor of 32768x32768 carries 0 bytes"),
                Arguments.of("key down flag two", "81020000ff0d", "key down flag 2"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("rejections")
    void shouldRejectMalformedMessagesWithProtocolException(String why, String hex, String message) {
        assertThatThrownBy(() -> StreamCodec.decode(bytes(hex)))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining(message)
                .extracting(e -> ((ProtocolException) e).status()).isEqualTo(Status.PROTOCOL_ERROR);
    }

    @Test
    void shouldRejectOversizedMessageWithTooLarge() {
        byte[] big = new byte[StreamCodec.MAX_MESSAGE_BYTES + 1];
        big[0] = (byte) StreamCodec.SERVER_CLIPBOARD;
        assertThatThrownBy(() -> StreamCodec.decode(big)).isInstanceOf(ProtocolException.class)
                .extracting(e -> ((ProtocolException) e).status()).isEqualTo(Status.TOO_LARGE);
    }

    @Test
    void shouldAcceptAMessageOfExactlyTheMaximumSize() {
        byte[] max = new byte[StreamCodec.MAX_MESSAGE_BYTES];
        max[0] = (byte) StreamCodec.TILE;
        max[9] = Tile.FORMAT_JPEG;
        assertThat(StreamCodec.decode(max)).isInstanceOfSatisfying(Tile.class,
                t -> assertThat(t.data()).hasSize(StreamCodec.MAX_MESSAGE_BYTES - 10));
    }

    @Test
    void shouldRefuseToEncodeAMessageOverTheMaximumSize() {
        Tile huge = new Tile(0, 0, 1, 1, Tile.FORMAT_JPEG, new byte[StreamCodec.MAX_MESSAGE_BYTES]);
        assertThatThrownBy(() -> StreamCodec.encode(huge)).isInstanceOf(IllegalArgumentException.class);
    }

    /** Seeded random mutation of the golden vectors: only ProtocolException may escape the decoder. */
    @Test
    void shouldThrowOnlyProtocolExceptionForMutatedVectors() {
        List<byte[]> seeds = goldenVectors().map(a -> bytes((String) a.get()[0])).toList();
        Random random = new Random(0x5eed);
        int decoded = 0;
        int rejected = 0;
        for (int i = 0; i < 50_000; i++) {
            byte[] input = Mutator.mutate(seeds.get(random.nextInt(seeds.size())), random);
            try {
                StreamMessage m = StreamCodec.decode(input);
                assertThat(StreamCodec.encode(m)).as("re-encoding of a decoded message").isEqualTo(input);
                decoded++;
            } catch (ProtocolException e) {
                rejected++;
            }
        }
        assertThat(decoded).isPositive();
        assertThat(rejected).isPositive();
    }

    @FuzzTest(maxDuration = "20s")
    void fuzzDecodeThrowsOnlyProtocolException(byte[] input) {
        try {
            StreamMessage m = StreamCodec.decode(input);
            if (!java.util.Arrays.equals(StreamCodec.encode(m), input)) throw new AssertionError("decode/encode not inverse");
        } catch (ProtocolException expected) {
            // the only allowed failure
        }
    }

    static byte[] bytes(String hex) { return HEX.parseHex(hex); }
}
