package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deskgate.common.ProtocolException;
import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamMessage;
import io.deskgate.testkit.Prerequisites;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the browser's protocol.js and input.js under Node ({@code src/test/js/*.test.mjs}) against vectors that
 * {@link StreamCodec} produces, so the two codecs of docs/protocol.md §1 cannot drift apart. Needs Node
 * ({@link Prerequisites}: skipped without it, a failure in CI).
 */
class ProtocolJsTest {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void protocolJsMatchesStreamCodecVectors(@TempDir Path tmp) throws Exception {
        String node = Prerequisites.require("node", "nodejs").toString();
        Path vectors = tmp.resolve("vectors.json");
        Files.writeString(vectors, Json.MAPPER.writeValueAsString(goodVectors()));
        Files.writeString(tmp.resolve("vectors-bad.json"), Json.MAPPER.writeValueAsString(badVectors()));

        ProcessBuilder pb = new ProcessBuilder(node, "--test", "src/test/js/protocol.test.mjs",
                "src/test/js/input.test.mjs").redirectErrorStream(true);
        pb.environment().put("DESKGATE_VECTORS", vectors.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("# fail 0").doesNotContain("# skipped 1").doesNotContain("# skipped 2");
    }

    private static ArrayNode goodVectors() {
        ArrayNode a = Json.MAPPER.createArrayNode();
        add(a, new StreamMessage.Tile(3, 4, 1, 1, StreamMessage.Tile.FORMAT_FILL, new byte[] {(byte) 0xff, 0, 0}),
                Json.object().put("type", "tile").put("x", 3).put("y", 4).put("w", 1).put("h", 1).put("format", 4).put("data", "ff0000"));
        add(a, new StreamMessage.Tile(65535, 1, 2, 3, StreamMessage.Tile.FORMAT_JPEG, new byte[] {1, 2, 3, 4}),
                Json.object().put("type", "tile").put("x", 65535).put("y", 1).put("w", 2).put("h", 3).put("format", 2).put("data", "01020304"));
        add(a, new StreamMessage.CopyRect(1, 2, 3, 4, 5, 6), Json.object().put("type", "copyRect").put("srcX", 1).put("srcY", 2)
                .put("w", 3).put("h", 4).put("dstX", 5).put("dstY", 6));
        add(a, new StreamMessage.Cursor(1, 0, 1, 2, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}), Json.object().put("type", "cursor")
                .put("hotX", 1).put("hotY", 0).put("w", 1).put("h", 2).put("rgba", "0102030405060708"));
        add(a, new StreamMessage.Resize(1920, 1080), Json.object().put("type", "resize").put("w", 1920).put("h", 1080));
        add(a, new StreamMessage.ServerClipboard("héllo ✓"), Json.object().put("type", "serverClipboard").put("text", "héllo ✓"));
        add(a, new StreamMessage.FrameEnd(4294967295L, 1234567890123456789L), Json.object().put("type", "frameEnd")
                .put("frameId", 4294967295L).put("serverTimeMicros", "1234567890123456789"));
        add(a, new StreamMessage.StatusMessage(9, "session ended"), Json.object().put("type", "status").put("code", 9)
                .put("text", "session ended"));
        add(a, new StreamMessage.Key(true, 0xff0dL), Json.object().put("type", "key").put("down", true).put("keysym", 0xff0d));
        add(a, new StreamMessage.Key(false, 0x0100263aL), Json.object().put("type", "key").put("down", false).put("keysym", 0x0100263a));
        add(a, new StreamMessage.Pointer(16, 32, 0x11), Json.object().put("type", "pointer").put("x", 16).put("y", 32).put("buttonMask", 0x11));
        add(a, new StreamMessage.ClientClipboard("copy"), Json.object().put("type", "clientClipboard").put("text", "copy"));
        add(a, new StreamMessage.FrameAck(7, 42), Json.object().put("type", "frameAck").put("frameId", 7).put("serverTimeMicros", "42"));
        add(a, new StreamMessage.ResizeRequest(800, 600), Json.object().put("type", "resizeRequest").put("w", 800).put("h", 600));
        add(a, new StreamMessage.RefreshRequest(), Json.object().put("type", "refreshRequest"));
        add(a, new StreamMessage.ViewerLeft(), Json.object().put("type", "viewerLeft"));
        add(a, new StreamMessage.ClientCapabilities(StreamMessage.ClientCapabilities.WEBP | 0x80000000L),
                Json.object().put("type", "clientCapabilities").put("flags", 0x80000001L));
        return a;
    }

    private static void add(ArrayNode a, StreamMessage m, ObjectNode expected) {
        byte[] bytes = StreamCodec.encode(m);
        assertThat(StreamCodec.decode(bytes)).isEqualTo(m);
        a.addObject().put("hex", HEX.formatHex(bytes)).set("message", expected);
    }

    /** Malformed messages, each confirmed to be rejected by StreamCodec too. */
    private static List<String> badVectors() {
        List<String> bad = List.of("ff", "01000300040001000108ff0000", "0100030004", "0200010002000300040005",
                "0300000000000100010102", "040001000200", "0600000001", "070001c3", "8102000000ff", "82001000",
                "8400000007000000000000002a00", "8600", "8700", "88000000", "880000000100", "89");
        for (String b : bad) {
            try {
                StreamCodec.decode(HEX.parseHex(b));
                throw new AssertionError("StreamCodec accepted " + b);
            } catch (ProtocolException expected) {
                // as wanted
            }
        }
        return bad;
    }
}
