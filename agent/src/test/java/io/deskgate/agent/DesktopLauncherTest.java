package io.deskgate.agent;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.DeskgateException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DesktopLauncherTest {
    private final AgentConfig config = AgentConfig.builder().runtimeDir(Path.of("/nonexistent-runtime")).build();

    @Test
    void shouldNameTheTigerVncPackageWhenXvncIsMissing() {
        assertThatThrownBy(() -> DesktopLauncher.create(config, c -> Optional.empty()))
                .isInstanceOf(DeskgateException.class)
                .hasMessage("TigerVNC Xvnc not found: install the Debian package tigervnc-standalone-server");
    }

    @Test
    void shouldNameThePackageOfAMissingSessionProgram() {
        assertThatThrownBy(() -> DesktopLauncher.create(config,
                c -> c.equals("Xvnc") ? Optional.of(Path.of("/bin/true")) : Optional.empty()))
                .isInstanceOf(DeskgateException.class)
                .hasMessage("twm not found: install the Debian package twm");
        assertThatThrownBy(() -> DesktopLauncher.create(config.toBuilder().session(List.of("/bin/true", "xterm -ls"))
                .build(),
                c -> c.equals("Xvnc") ? Optional.of(Path.of("/bin/true")) : Optional.empty()))
                .isInstanceOf(DeskgateException.class)
                .hasMessage("xterm not found: install the Debian package xterm");
    }
}
