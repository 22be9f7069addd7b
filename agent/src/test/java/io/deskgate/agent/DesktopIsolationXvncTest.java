package io.deskgate.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.Secrets;
import io.deskgate.control.DesktopState;
import io.deskgate.testkit.Prerequisites;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Desktops with real Xvnc as their own system users (the test runs as root): what a desktop user can
 * reach, what ending a session leaves, window placement with no input, and a session program that
 * exits at start.
 */
class DesktopIsolationXvncTest {
    private static final byte[] CONTROL_SECRET = Secrets.randomBytes(32);
    @TempDir Path dir;
    private TestDesktopUsers users;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeEach
    void prerequisites() throws Exception {
        Prerequisites.require("Xvnc", "tigervnc-standalone-server");
        Prerequisites.require("twm", "twm");
        Prerequisites.require("xterm", "xterm");
        Prerequisites.requireRoot();
        users = new TestDesktopUsers();
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (AutoCloseable c : open.reversed()) c.close();
        if (users != null) users.close();
    }

    @Test
    void shouldRunEachDesktopAsAnUnprivilegedUserThatCannotReadThePlatformOrAnotherDesktop() throws Exception {
        Path data = Files.createDirectory(users.base.resolve("data"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        Path pgPassword = secretFile(data.resolve("pg-password"));
        Path looseSecret = secretFile(users.base.resolve("token-key"));
        Path probe = script("probe.sh", """
                #!/bin/bash
                me=$(id -un); n=${me#%s}; other=%s$((3 - n))
                {
                  echo "uid $(id -u)"
                  echo "groups $(id -G)"
                  grep -E '^(CapEff|CapBnd|NoNewPrivs):' /proc/self/status
                  cat %s && echo "READ data" || echo "REFUSED data"
                  cat %s && echo "READ secret" || echo "REFUSED secret"
                  ls %s/$other && echo "READ home" || echo "REFUSED home"
                  ls %s/$other && echo "READ files" || echo "REFUSED files"
                  echo done
                } > "$HOME/probe.tmp" 2>&1
                mv "$HOME/probe.tmp" "$HOME/probe.txt"
                exec sleep 600
                """.formatted(users.isolation.userPrefix(), users.isolation.userPrefix(), pgPassword, looseSecret,
                users.isolation.homeBase(), users.isolation.runtimeBase()));
        Agent agent = start(2, List.of("twm", probe.toString()));
        assertThat(agent.awaitReady(Duration.ofSeconds(30))).isTrue();

        for (int i = 0; i < 2; i++) {
            DesktopUsers.PasswdEntry user = users.user(i);
            Path report = user.home().resolve("probe.txt");
            assertThat(awaitCondition(() -> Files.exists(report))).as("probe of desktop " + (i + 1) + " ran").isTrue();
            String text = Files.readString(report);
            assertThat(text).contains("uid " + user.uid() + "\n", "groups " + user.gid() + "\n",
                    "CapEff:\t0000000000000000", "CapBnd:\t0000000000000000", "NoNewPrivs:\t1", "done");
            assertThat(user.uid()).isNotZero().isBetween(users.isolation.firstUid(), users.isolation.lastUid());
            assertThat(text).contains("REFUSED data", "REFUSED secret", "REFUSED home", "REFUSED files")
                    .doesNotContain("READ ", "secret-value");
            assertThat(text.lines().filter(l -> l.contains("Permission denied")).count()).as(text).isEqualTo(4);
        }
    }

    @Test
    void shouldStopEveryProcessOfTheDesktopUserAndEmptyItsHomeWhenTheSessionEnds() throws Exception {
        Path session = script("detach.sh", """
                #!/bin/bash
                (setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $! > "$HOME/detached.tmp")
                mv "$HOME/detached.tmp" "$HOME/detached.pid"
                exec sleep 600
                """);
        Agent agent = start(1, List.of(session.toString()));
        assertThat(agent.awaitReady(Duration.ofSeconds(30))).isTrue();
        DesktopUsers.PasswdEntry user = users.user(0);
        Path pidFile = user.home().resolve("detached.pid");
        assertThat(awaitCondition(() -> Files.exists(pidFile))).isTrue();
        long detached = Long.parseLong(Files.readString(pidFile).strip());
        ProcessHandle sleeper = ProcessHandle.of(detached).orElseThrow();
        assertThat(ProcessHandle.current().descendants().anyMatch(p -> p.pid() == detached))
                .as("test precondition: the sleeper escaped the agent's process tree").isFalse();
        Files.writeString(user.home().resolve("work-of-alice.txt"), "private");

        assertThat(agent.initiateSession("agent-i/1", "s1", 1, "alice").vncPassword()).hasSize(8);
        agent.endSession("agent-i/1", "s1");
        assertThat(awaitCondition(() -> !sleeper.isAlive())).as("the detached process of the session is gone").isTrue();
        assertThat(agent.awaitReady(Duration.ofSeconds(30))).isTrue();
        assertThat(user.home().resolve("work-of-alice.txt")).as("the home was reset").doesNotExist();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(user.home()))).isEqualTo("rwx------");
        assertThat(Files.getAttribute(user.home(), "unix:uid")).isEqualTo(user.uid());
    }

    @Test
    void shouldMapANewProgramOnAFreshDesktopWithNoInputAtAll() throws Exception {
        DesktopLauncher launcher = DesktopLauncher.create(config(1, AgentConfig.DEFAULT_SESSION));
        launcher.prepare();
        open.add(launcher::releaseUsers);
        DesktopLauncher.RunningDesktop desktop = launcher.launch(0);
        open.add(() -> launcher.stop(desktop));
        DesktopAccount account = launcher.account(0);
        Map<String, String> env = DesktopLauncher.childEnvironment(Map.of(), account, OptionalInt.of(desktop.display()),
                account.filesDir().resolve("desktop-1.xauth"));
        String title = "probe-" + Secrets.randomPassword(6);
        ProcessBuilder xterm = new ProcessBuilder(account.command(List.of("xterm", "-T", title, "-e", "sleep", "60")))
                .redirectErrorStream(true).redirectOutput(dir.resolve("xterm.log").toFile())
                .directory(account.home().toFile());
        xterm.environment().clear();
        xterm.environment().putAll(env);
        Process program = xterm.start();
        open.add(() -> DesktopLauncher.terminate(List.of(program)));
        assertThat(awaitCondition(() -> mapped(account, env, title), Duration.ofSeconds(30)))
                .as("the window is mapped without a click").isTrue();
    }

    @Test
    void shouldCallADesktopWhoseSessionProgramExitsAtStartUnhealthyNamingItsLastLine() throws Exception {
        Path failing = script("twm-fails.sh", """
                #!/bin/sh
                echo 'twm: unable to open fontset "-adobe-helvetica-bold-r-normal--*-120-*-*-*-*-*-*"' >&2
                exit 1
                """);
        DesktopLauncher launcher = DesktopLauncher.create(config(1, List.of(failing.toString())));
        launcher.prepare();
        assertThatThrownBy(() -> launcher.launch(0)).isInstanceOf(DesktopLauncher.SessionProgramExited.class)
                .hasMessage("twm-fails.sh exited at start (status 1): "
                        + "twm: unable to open fontset \"-adobe-helvetica-bold-r-normal--*-120-*-*-*-*-*-*\"");
        assertThat(ProcessTrees.processesOf(users.user(0).uid())).as("its Xvnc was stopped").isEmpty();
        launcher.releaseUsers();

        Agent agent = start(1, List.of(failing.toString()));
        assertThat(awaitCondition(() -> agent.desktops().getFirst().getState() == DesktopState.UNHEALTHY))
                .as("the broker is never handed this desktop").isTrue();
        assertThat(agent.awaitReady(Duration.ofSeconds(3))).isFalse();
    }

    /** Whether xwininfo, run as the desktop user, reports the window titled {@code title} viewable (bounded). */
    private boolean mapped(DesktopAccount account, Map<String, String> env, String title) {
        try {
            ProcessBuilder pb = new ProcessBuilder(account.command(List.of("xwininfo", "-name", title)))
                    .redirectErrorStream(true).directory(account.home().toFile());
            pb.environment().clear();
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).contains("Map State: IsViewable");
        } catch (Exception e) {
            return false;
        }
    }

    private AgentConfig config(int desktops, List<String> session) {
        return AgentConfig.builder().runtimeDir(dir.resolve("run")).agentId("agent-i").desktops(desktops).width(640)
                .height(480).session(session).controlSecret(CONTROL_SECRET).isolation(users.isolation).build();
    }

    @Test
    void shouldRefuseASecondAgentWithTheSameDesktopUsersAndLeaveTheFirstOnesDesktopsAlone() throws Exception {
        Agent first = start(1, List.of("twm", "xterm"));
        assertThat(first.awaitReady(Duration.ofSeconds(30))).isTrue();
        long xvncPid = xvncPidOf(users.user(0).uid());

        assertThatThrownBy(() -> start(1, List.of("twm", "xterm")))
                .isInstanceOf(io.deskgate.common.DeskgateException.class)
                .hasMessageContaining("in use by another agent");
        assertThat(ProcessHandle.of(xvncPid).map(ProcessHandle::isAlive)).as("the first agent's Xvnc").contains(true);
        assertThat(first.desktops()).extracting(io.deskgate.control.Desktop::getState).doesNotContain(DesktopState.UNHEALTHY, DesktopState.STARTING);

        first.close();
        Agent next = start(1, List.of("twm", "xterm"));
        assertThat(next.awaitReady(Duration.ofSeconds(30))).as("the users are free once the first agent closed").isTrue();
    }

    /** The pid of the Xvnc running as {@code uid}. */
    private static long xvncPidOf(int uid) throws Exception {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().command().map(c -> c.contains("vnc")).orElse(false))
                .filter(p -> {
                    try {
                        return ((Integer) Files.getAttribute(Path.of("/proc", Long.toString(p.pid())), "unix:uid")) == uid;
                    } catch (Exception e) {
                        return false;
                    }
                })
                .mapToLong(ProcessHandle::pid).findFirst().orElseThrow();
    }

    private Agent start(int desktops, List<String> session) throws Exception {
        Agent agent = Agent.start(config(desktops, session));
        open.add(agent);
        return agent;
    }

    private Path script(String name, String text) throws Exception {
        Path file = users.base.resolve(name);
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    private static Path secretFile(Path file) throws Exception {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, "secret-value\n");
        return file;
    }

    static boolean awaitCondition(BooleanSupplier condition) throws InterruptedException {
        return awaitCondition(condition, Duration.ofSeconds(15));
    }

    static boolean awaitCondition(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) return false;
            Thread.sleep(50);
        }
        return true;
    }
}
