package io.deskgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.testkit.Prerequisites;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VncPasswordFileTest {
    @TempDir Path dir;

    /** Golden vector: the bytes {@code echo secretpw | vncpasswd -f} wrote with TigerVNC 1.12. */
    @Test
    void shouldMatchTigerVncGoldenVector() {
        assertThat(HexFormat.of().formatHex(VncPasswordFile.obfuscate("secretpw"))).isEqualTo("c5e28d47bd4ab77f");
    }

    @Test
    void shouldUseTheWellKnownBitReversedObfuscationKey() {
        byte[] key = VncPasswordFile.reverseBits(new byte[] {23, 82, 107, 6, 35, 78, 88, 7});
        assertThat(HexFormat.of().formatHex(key)).isEqualTo("e84ad660c4721ae0");
    }

    @Test
    void shouldTruncatePasswordsToEightBytes() {
        assertThat(VncPasswordFile.obfuscate("secretpwEXTRA")).isEqualTo(VncPasswordFile.obfuscate("secretpw"));
        assertThat(VncPasswordFile.obfuscate("short")).hasSize(8).isNotEqualTo(VncPasswordFile.obfuscate("short1"));
    }

    @Test
    void shouldWriteTheSameBytesAsVncpasswd() throws Exception {
        Path vncpasswd = Prerequisites.require("vncpasswd", "tigervnc-tools");
        for (String password : new String[] {"a", "secretpw", "Xy7kQ2mn", "longer-than-eight"}) {
            Process p = new ProcessBuilder(vncpasswd.toString(), "-f").redirectErrorStream(false).start();
            p.getOutputStream().write((password + "\n").getBytes(StandardCharsets.US_ASCII));
            p.getOutputStream().close();
            byte[] expected = p.getInputStream().readAllBytes();
            assertThat(p.waitFor(5, TimeUnit.SECONDS)).isTrue();
            assertThat(VncPasswordFile.obfuscate(password)).as(password).isEqualTo(expected);
        }
    }

    @Test
    void shouldWriteTheFileWithMode0600() throws Exception {
        Path file = dir.resolve("desktop-1.passwd");
        String password = VncPasswordFile.issue(file);
        assertThat(password).hasSize(VncPasswordFile.RANDOM_PASSWORD_CHARS);
        assertThat(Files.readAllBytes(file)).isEqualTo(VncPasswordFile.obfuscate(password));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        VncPasswordFile.scramble(file);
        assertThat(Files.readAllBytes(file)).isNotEqualTo(VncPasswordFile.obfuscate(password));
    }
}
