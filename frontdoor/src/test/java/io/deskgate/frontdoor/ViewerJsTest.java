package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.testkit.Prerequisites;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs the viewer's browser-free logic under Node ({@code src/test/js/reconnect.test.mjs}: when the viewer
 * reconnects and gives up; {@code display.test.mjs}: queued draws of a closed connection or an overflowed
 * queue are cancelled, and with a schedule a frame's draws wait for its FRAME_END and run in one callback before its
 * acknowledgement; {@code viewerparts.test.mjs}: the indicator's maths, the clipboard's bounds, the debounced window-size
 * wish and the local cursor's geometry; {@code worker.test.mjs}: the drawing worker's messages (a frame reported drawn
 * only after its animation frame, with its connection's epoch; an old epoch's messages dropped); {@code tiles.test.mjs}: the PALETTE golden vectors shared with the Java encoder and decoder
 * draw their pixels,the malformed ones are refused; {@code zstream.test.mjs}: the same for the ZSTREAM vectors, in order as one session, and a lost lane resynchronised by RESET; {@code glyphs.test.mjs}: the same for the GLYPHS vectors, whose glyph cache a RESET empties;
 * {@code webp.test.mjs}: the WEBP vectors reach the image decoder or are refused, one line each, and the WebP probe). input.js's tests run in {@link ProtocolJsTest}. Needs Node
 * ({@link Prerequisites}: skipped without it, a failure in CI).
 */
class ViewerJsTest {
    @Test
    void viewerReconnectPolicyAndDisplayGenerationsPassTheirNodeTests() throws Exception {
        String node = Prerequisites.require("node", "nodejs").toString();
        Process p = new ProcessBuilder(node, "--test", "src/test/js/reconnect.test.mjs", "src/test/js/display.test.mjs",
                "src/test/js/tiles.test.mjs", "src/test/js/viewerparts.test.mjs",
                "src/test/js/worker.test.mjs", "src/test/js/zstream.test.mjs", "src/test/js/webp.test.mjs",
                "src/test/js/glyphs.test.mjs")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("# fail 0").contains("# skipped 0").doesNotContain("# pass 0\n");
    }
}
