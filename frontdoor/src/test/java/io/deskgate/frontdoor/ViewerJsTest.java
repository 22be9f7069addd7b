package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs the viewer's browser-free logic under Node ({@code src/test/js/reconnect.test.mjs}: when the viewer
 * reconnects and gives up; {@code display.test.mjs}: queued draws of a closed connection or an overflowed
 * queue are cancelled). input.js's tests run in {@link ProtocolJsTest}. Skipped when Node is not
 * installed, except in CI where that is a failure.
 */
class ViewerJsTest {
    @Test
    void viewerReconnectPolicyAndDisplayGenerationsPassTheirNodeTests() throws Exception {
        String node = findNode();
        if (node == null) {
            assertThat(System.getenv("CI")).as("node is required in CI to test the viewer's JavaScript").isNotEqualTo("true");
            assumeTrue(false, "node is not installed: the viewer's JavaScript is not checked");
        }
        Process p = new ProcessBuilder(node, "--test", "src/test/js/reconnect.test.mjs", "src/test/js/display.test.mjs")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("# fail 0").contains("# skipped 0").doesNotContain("# pass 0\n");
    }

    private static String findNode() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, "node");
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }
}
