package io.deskgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.Secrets;
import io.deskgate.testkit.Prerequisites;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An agent JVM killed with SIGKILL mid-session: the next agent on its runtime directory leaves nothing of it. */
class AgentCrashTest {
    @TempDir Path dir;

    @Test
    void shouldStopWhatAKilledAgentLeftAndRefuseItsOneTimePassword() throws Exception {
        Prerequisites.require("Xvnc", "tigervnc-standalone-server");
        Prerequisites.require("twm", "twm");
        Prerequisites.require("xterm", "xterm");
        byte[] secret = Secrets.randomBytes(32);
        Path run = dir.resolve("run");
        Path ready = dir.resolve("ready.txt");
        try (TestDesktopUsers users = new TestDesktopUsers()) {
            DesktopIsolation iso = users.isolation;
            Files.createDirectories(Path.of("target"));
            Process child = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(),
                    "-cp", System.getProperty("java.class.path"), CrashingAgentMain.class.getName(),
                    run.toString(), iso.userPrefix(), iso.homeBase().toString(), iso.runtimeBase().toString(),
                    ready.toString(), HexFormat.of().formatHex(secret))
                    .redirectErrorStream(true).redirectOutput(Path.of("target/crashing-agent.log").toFile()).start();
            List<ProcessHandle> left;
            String[] issued;
            try {
                assertThat(DesktopIsolationXvncTest.awaitCondition(() -> Files.exists(ready) || !child.isAlive(),
                        Duration.ofSeconds(90))).isTrue();
                assertThat(ready).as("the child agent got ready (see target/crashing-agent.log)").exists();
                issued = Files.readString(ready).strip().split(" ");
                left = child.descendants().toList();
            } finally {
                child.destroyForcibly();
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            int port = Integer.parseInt(issued[0]);
            assertThat(left.stream().filter(ProcessHandle::isAlive).map(AgentCrashTest::name))
                    .as("test precondition: the kill leaves the desktop running").contains("Xtigervnc", "twm", "xterm");
            assertThat(VncAuthProbe.authenticates(port, issued[1])).as("test precondition: the password works").isTrue();

            try (Agent next = Agent.start(CrashingAgentMain.config(run, iso.userPrefix(), iso.homeBase(),
                    iso.runtimeBase(), secret))) {
                assertThat(left.stream().filter(ProcessHandle::isAlive).map(p -> p.pid() + " " + name(p)))
                        .as("nothing of the killed run is alive").isEmpty();
                assertThat(refused(port, issued[1])).as("the old one-time password is refused").isTrue();
                assertThat(next.awaitReady(Duration.ofSeconds(60))).isTrue();
                int fresh = next.desktops().getFirst().getPort();
                assertThat(VncAuthProbe.authenticates(fresh, issued[1])).isFalse();
                assertThat(VncAuthProbe.authenticates(fresh,
                        next.initiateSession(CrashingAgentMain.AGENT_ID + "/1", "s2", 1, "bob").vncPassword())).isTrue();
            }
        }
    }

    private static boolean refused(int port, String password) {
        try {
            return !VncAuthProbe.authenticates(port, password);
        } catch (Exception e) {
            return true;
        }
    }

    private static String name(ProcessHandle p) {
        return p.info().command().map(c -> Path.of(c).getFileName().toString()).orElse("?");
    }
}
