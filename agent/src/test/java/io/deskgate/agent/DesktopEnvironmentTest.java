package io.deskgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.testkit.Prerequisites;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a desktop's processes inherit from the agent, and the bounded X readiness probe. */
class DesktopEnvironmentTest {
    /** What sh adds to its environment by itself. */
    private static final Set<String> SHELL_ADDED = Set.of("PWD", "SHLVL", "_", "OLDPWD");

    @Test
    void sessionEnvironmentKeepsOnlyTheAllowlistAndDropsSecrets() {
        Map<String, String> agentEnv = Map.of("PATH", "/opt/bin:/usr/bin", "LANG", "de_DE.UTF-8", "SHELL", "/bin/zsh",
                "DESKGATE_ADMIN_PASSWORD", "s3cret", "AWS_SECRET_ACCESS_KEY", "k", "HOME", "/root", "DISPLAY", ":0");
        Map<String, String> env = DesktopLauncher.childEnvironment(agentEnv, Path.of("/home/desk"), OptionalInt.of(21),
                Path.of("/run/desk/desktop-1.xauth"));
        assertThat(env).doesNotContainKeys("DESKGATE_ADMIN_PASSWORD", "AWS_SECRET_ACCESS_KEY")
                .containsEntry("PATH", "/opt/bin:/usr/bin").containsEntry("LANG", "de_DE.UTF-8")
                .containsEntry("SHELL", "/bin/zsh").containsEntry("HOME", "/home/desk").containsEntry("DISPLAY", ":21")
                .containsEntry("XAUTHORITY", "/run/desk/desktop-1.xauth").containsEntry("TERM", "xterm");
        assertThat(env.keySet()).isSubsetOf(allowed());
    }

    @Test
    void xvncEnvironmentHasNoDisplayAndADefaultPath() {
        Map<String, String> env = DesktopLauncher.childEnvironment(Map.of("DESKGATE_ADMIN_PASSWORD", "s3cret"),
                Path.of("/home/desk"), OptionalInt.empty(), Path.of("/run/x.xauth"));
        assertThat(env).doesNotContainKeys("DESKGATE_ADMIN_PASSWORD", "DISPLAY", "TERM")
                .containsEntry("PATH", DesktopLauncher.DEFAULT_PATH).containsEntry("HOME", "/home/desk");
    }

    @Test
    void x11ProbeGivesUpOnAServerThatAcceptsButNeverAnswers(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("X99");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            long start = System.nanoTime();
            boolean accepted = DesktopProbes.x11Accepts(socket, new byte[16], Duration.ofMillis(300));
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(accepted).isFalse();
            assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(250)).isLessThan(Duration.ofSeconds(3));
            try (SocketChannel probe = server.accept()) {
                assertThat(probe).as("the probe did connect").isNotNull();
            }
        }
    }

    @Test
    void sessionProgramsDoNotSeeTheAgentsEnvironment(@TempDir Path dir) throws Exception {
        Prerequisites.require("Xvnc", "tigervnc-standalone-server");
        // The test JVM's environment always has variables outside the allowlist (set by Maven and the shell).
        Set<String> leaking = new HashSet<>(System.getenv().keySet());
        leaking.removeAll(allowed());
        leaking.removeAll(SHELL_ADDED);
        assertThat(leaking).as("test precondition: the JVM has variables to leak").isNotEmpty();

        try (TestDesktopUsers users = new TestDesktopUsers()) {
            // The script must be reachable by the desktop's own user when the test runs as root.
            Path script = users.base.resolve("dump-env.sh");
            Files.writeString(script, "#!/bin/sh\nenv > \"$HOME/env.txt.tmp\" && mv \"$HOME/env.txt.tmp\" \"$HOME/env.txt\"\n"
                    + "exec sleep 60\n");
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path runtime = Files.createDirectories(dir.resolve("run"));
            Files.setPosixFilePermissions(runtime, PosixFilePermissions.fromString("rwx------"));
            AgentConfig config = AgentConfig.builder().runtimeDir(runtime).desktops(1).width(320).height(240)
                    .session(List.of(script.toString())).isolation(users.isolation).build();
            DesktopLauncher launcher = DesktopLauncher.create(config);
            launcher.prepare();
            DesktopLauncher.RunningDesktop desktop = launcher.launch(0);
            Path out = launcher.account(0).home().resolve("env.txt");
            try {
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (!Files.exists(out) && System.nanoTime() < deadline) Thread.sleep(20);
                assertThat(out).exists();
                Map<String, String> seen = new HashMap<>();
                for (String line : Files.readAllLines(out)) {
                    int eq = line.indexOf('=');
                    if (eq > 0) seen.put(line.substring(0, eq), line.substring(eq + 1));
                }
                assertThat(seen).containsEntry("DISPLAY", ":" + desktop.display()).containsKey("XAUTHORITY");
                Set<String> expected = new HashSet<>(allowed());
                expected.addAll(SHELL_ADDED);
                assertThat(seen.keySet()).isSubsetOf(expected).doesNotContainAnyElementsOf(leaking);
            } finally {
                launcher.stop(desktop);
                launcher.releaseUsers();
            }
        }
    }

    private static Set<String> allowed() {
        Set<String> names = new HashSet<>(DesktopLauncher.INHERITED_VARIABLES);
        names.addAll(Set.of("HOME", "XAUTHORITY", "DISPLAY", "TERM"));
        return names;
    }
}
