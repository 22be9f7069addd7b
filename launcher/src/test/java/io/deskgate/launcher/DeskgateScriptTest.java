package io.deskgate.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The {@code deskgate} script and {@code .ci/run}: one Debian package list, in the script; CI installs it
 * through the script; no version number is written into the script.
 */
class DeskgateScriptTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path SCRIPT = ROOT.resolve("deskgate");
    private static final Path CI_RUN = ROOT.resolve(".ci/run");

    /** {@code ./deskgate packages SET}, one package a line (needs no JDK and no build). */
    private static List<String> packages(String set) throws IOException, InterruptedException {
        Path out = Files.createTempFile("deskgate-packages-", ".txt");
        try {
            Process p = new ProcessBuilder("bash", SCRIPT.toString(), "packages", set).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).start();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("deskgate packages %s finished", set).isTrue();
            String text = Files.readString(out, StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as(text).isZero();
            return text.lines().filter(l -> !l.isBlank()).toList();
        } finally {
            Files.deleteIfExists(out);
        }
    }

    @Test
    void shouldListTheTestPackagesAsAllOfUpsAndWhatTheTestsNeed() throws Exception {
        List<String> up = packages("up");
        List<String> test = packages("test");

        assertThat(up).containsExactlyInAnyOrder("tigervnc-standalone-server", "xterm", "twm", "xfonts-base", "xfonts-75dpi",
                "libturbojpeg0", "libwebp7");
        assertThat(test).containsAll(up).contains("tigervnc-tools", "chromium", "x11-utils", "nodejs",
                "postgresql-client", "postgresql", "fonts-dejavu-core").doesNotHaveDuplicates();
    }

    @Test
    void shouldInstallCiPackagesThroughTheScriptOnly() throws Exception {
        String ci = Files.readString(CI_RUN);

        assertThat(ci).contains("./deskgate install-packages test").doesNotContain("apt-get")
                .as("no flag claiming an apt-get update that may not have run").doesNotContain("DESKGATE_APT_UPDATED");
        for (String pkg : packages("test")) {
            assertThat(ci).as(".ci/run repeats the package %s", pkg).doesNotContain(pkg);
        }
    }

    @Test
    void shouldNameBuildOutputsWithoutAVersion() throws IOException {
        String script = Files.readString(SCRIPT);

        assertThat(script).doesNotContainPattern("-SNAPSHOT|\\d+\\.\\d+\\.\\d+\\.jar|deskgate-launcher-\\d");
        assertThat(script).contains("io.deskgate.launcher.Main").contains("io.deskgate.bench.BenchCommand");
    }
}
