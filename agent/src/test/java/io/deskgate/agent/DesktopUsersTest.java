package io.deskgate.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pure parts of desktop users and process bookkeeping: config validation, /etc/passwd and /proc parsing. */
class DesktopUsersTest {
    @Test
    void shouldNameDesktopUsersFromOneAndRejectUnsafeConfigs() {
        assertThat(DesktopIsolation.DEFAULT.userName(0)).isEqualTo("deskgate-d1");
        assertThat(DesktopIsolation.DEFAULT.uidCount()).isEqualTo(1000);
        Path h = Path.of("/h");
        Path r = Path.of("/r");
        assertThatThrownBy(() -> new DesktopIsolation("Root", 64000, 64999, h, r)).hasMessageContaining("user-prefix");
        assertThatThrownBy(() -> new DesktopIsolation("a:b", 64000, 64999, h, r)).hasMessageContaining("user-prefix");
        assertThatThrownBy(() -> new DesktopIsolation("d", 0, 10, h, r)).hasMessageContaining("uid range");
        assertThatThrownBy(() -> new DesktopIsolation("d", 65000, 64000, h, r)).hasMessageContaining("uid range");
        assertThatThrownBy(() -> new DesktopIsolation("d", 64000, 64999, Path.of("rel"), r)).hasMessageContaining("absolute");
        assertThatThrownBy(() -> new DesktopIsolation("d", 64000, 64999, h, h.resolve("x"))).hasMessageContaining("contain");
        assertThatThrownBy(() -> AgentConfig.builder().runtimeDir(Path.of("/run"))
                .isolation(new DesktopIsolation("d", 64000, 64000, h, r)).build()).hasMessageContaining("fewer uids");
    }

    @Test
    void shouldParsePasswdLinesAndSkipBrokenOnes() {
        assertThat(DesktopUsers.PasswdEntry.parse("deskgate-d1:x:64000:999:Deskgate desktop:/var/lib/d/deskgate-d1:/bin/bash"))
                .contains(new DesktopUsers.PasswdEntry("deskgate-d1", 64000, 999, Path.of("/var/lib/d/deskgate-d1"), "/bin/bash"));
        assertThat(DesktopUsers.PasswdEntry.parse("broken:x:notanumber:1::/:/bin/sh")).isEmpty();
        assertThat(DesktopUsers.PasswdEntry.parse("short:x:1")).isEmpty();
    }

    @Test
    void shouldReadTheStartTimeAfterACommandNameWithSpacesAndParentheses() {
        String stat = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assertThat(ProcessTrees.parseStartTime(stat)).isEqualTo(987654L);
        assertThat(ProcessTrees.startTime(ProcessHandle.current().pid())).isPresent();
        assertThat(ProcessTrees.startTime(Long.MAX_VALUE)).isEmpty();
    }

    @Test
    void shouldMatchRealOrEffectiveUidOnly() {
        String status = "Name:\tsleep\nUid:\t64001\t64002\t64003\t64004\nGid:\t0\t0\t0\t0\n";
        assertThat(List.of(64001, 64002).stream().allMatch(u -> ProcessTrees.uidMatches(status, u))).isTrue();
        assertThat(ProcessTrees.uidMatches(status, 64003)).isFalse();
        assertThat(ProcessTrees.uidMatches(status, 0)).isFalse();
    }

    @Test
    void shouldRunAnOwnUserThroughSetprivWithoutGroupsOrCapabilities() {
        DesktopAccount own = new DesktopAccount("deskgate-d1", 64000, 999, "/bin/bash", Path.of("/h"), Path.of("/r"), true);
        assertThat(own.command(List.of("/usr/bin/twm"))).containsExactly("/usr/bin/setpriv", "--reuid=64000",
                "--regid=999", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
                "/usr/bin/twm");
        DesktopAccount platform = new DesktopAccount("me", -1, -1, "/bin/sh", Path.of("/h"), Path.of("/r"), false);
        assertThat(platform.command(List.of("/usr/bin/twm"))).containsExactly("/usr/bin/twm");
        assertThatThrownBy(() -> new DesktopAccount("root", 0, 0, "/bin/sh", Path.of("/h"), Path.of("/r"), true))
                .hasMessageContaining("never root");
    }
}
