package io.deskgate.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Secrets;
import io.deskgate.control.AgentGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.ControlChannels;
import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import io.deskgate.control.EndSessionRequest;
import io.deskgate.control.InitiateSessionReply;
import io.deskgate.control.InitiateSessionRequest;
import io.deskgate.control.ListDesktopsRequest;
import io.deskgate.control.SessionStartedRequest;
import io.deskgate.testkit.GrpcCalls;
import io.deskgate.testkit.Prerequisites;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent with real TigerVNC desktops, driven over real gRPC, checked with real VNC authentication. */
class AgentXvncTest {
    private static final String DESKTOP = "agent-t/1";
    private static final byte[] CONTROL_SECRET = Secrets.randomBytes(32);
    @TempDir Path dir;
    private static TestDesktopUsers users;
    private Agent agent;
    private ManagedChannel channel;
    private AgentGrpc.AgentBlockingStub stub;

    @BeforeAll
    static void createUsers() throws Exception {
        users = new TestDesktopUsers();
    }

    @AfterAll
    static void deleteUsers() throws Exception {
        if (users != null) users.close();
    }

    @BeforeEach
    void startAgent() throws Exception {
        Prerequisites.require("Xvnc", "tigervnc-standalone-server");
        Prerequisites.require("twm", "twm");
        Prerequisites.require("xterm", "xterm");
        AgentConfig config = AgentConfig.builder().runtimeDir(dir.resolve("run")).agentId("agent-t").desktops(1).width(640)
                .height(480).controlSecret(CONTROL_SECRET).isolation(users.isolation).build();
        agent = Agent.start(config);
        channel = ControlChannels.open("127.0.0.1:" + agent.grpcPort(), new ControlAuth(CONTROL_SECRET));
        stub = AgentGrpc.newBlockingStub(channel);
        assertThat(agent.awaitReady(Duration.ofSeconds(15))).as("desktop ready").isTrue();
    }

    @AfterEach
    void stop() throws Exception {
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (agent != null) agent.close();
    }

    @Test
    void shouldAdmitOneTimePasswordOnceThenResetDesktopAndLeaveNoProcessOnClose() throws Exception {
        Desktop listed = stub.listDesktops(ListDesktopsRequest.getDefaultInstance()).getDesktops(0);
        assertThat(listed.getDesktopId()).isEqualTo(DESKTOP);
        assertThat(listed.getState()).isEqualTo(DesktopState.AVAILABLE);
        assertThat(listed.getHost()).isEqualTo("127.0.0.1");
        assertThat(listed.getWidth()).isEqualTo(640);
        ProcessHandle xvnc = child("Xvnc").orElseThrow();
        int display = displayOf(xvnc);
        assertThat(awaitCondition(() -> child("twm").isPresent() && child("xterm").isPresent()))
                .as("session programs running").isTrue();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("run"))))
                .isEqualTo("rwx------");
        Path passwordFile = onlyFile(users.isolation.runtimeBase().resolve(users.isolation.userName(0)), "*.passwd");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(passwordFile)))
                .as("readable by the desktop's own group only").isEqualTo("rw-r-----");
        assertThat(Files.getAttribute(passwordFile, "unix:gid")).isEqualTo(users.user(0).gid());
        assertThat(Files.getAttribute(Path.of("/proc", Long.toString(xvnc.pid())), "unix:uid"))
                .as("Xvnc runs as the desktop's own user").isEqualTo(users.user(0).uid());

        InitiateSessionReply first = initiate("s1", "alice");
        assertThat(first.getDesktop().getState()).isEqualTo(DesktopState.ASSIGNED);
        assertThat(first.getVncPassword()).hasSize(8);
        assertThat(VncAuthProbe.authenticates(listed.getPort(), first.getVncPassword())).isTrue();

        stub.sessionStarted(SessionStartedRequest.newBuilder().setDesktopId(DESKTOP).setSessionId("s1").build());
        assertThat(VncAuthProbe.authenticates(listed.getPort(), first.getVncPassword()))
                .as("a one-time password is spent once the session started").isFalse();
        assertThat(awaitCondition(() -> agent.desktops().getFirst().getState() == DesktopState.DISCONNECTED))
                .as("no viewer on the RFB port any more").isTrue();

        // Same user again: a reconnect with a new password, admitted by the same Xvnc process, which
        // shows that TigerVNC re-reads the password file at every authentication.
        InitiateSessionReply again = initiate("s2", "alice");
        assertThat(again.getVncPassword()).isNotEqualTo(first.getVncPassword());
        assertThat(VncAuthProbe.authenticates(listed.getPort(), again.getVncPassword())).isTrue();
        assertThat(xvnc.isAlive()).isTrue();

        assertThat(status(() -> initiate("s3", "bob"))).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(status(() -> stub.initiateSession(InitiateSessionRequest.newBuilder().setDesktopId("agent-t/7")
                .setSessionId("s3").setUser("bob").build()))).isEqualTo(Status.Code.NOT_FOUND);

        stub.endSession(EndSessionRequest.newBuilder().setDesktopId(DESKTOP).setSessionId("s2").build());
        assertThat(awaitCondition(() -> !xvnc.isAlive())).as("the previous user's Xvnc is gone").isTrue();
        assertThat(agent.awaitReady(Duration.ofSeconds(15))).isTrue();
        ProcessHandle fresh = child("Xvnc").orElseThrow();
        assertThat(fresh.pid()).isNotEqualTo(xvnc.pid());
        Desktop reset = agent.desktops().getFirst();
        assertThat(reset.getUser()).isEmpty();
        assertThat(VncAuthProbe.authenticates(reset.getPort(), again.getVncPassword())).isFalse();
        assertThat(onlyFile(users.isolation.runtimeBase().resolve(users.isolation.userName(0)), "*.passwd"))
                .as("a new password file for each launch").isNotEqualTo(passwordFile);
        int freshDisplay = displayOf(fresh);

        agent.close();
        assertThat(ProcessHandle.current().descendants()
                .filter(p -> executable(p).matches("Xvnc|Xtigervnc|twm|xterm")).map(AgentXvncTest::command).toList())
                .isEmpty();
        for (int d : List.of(display, freshDisplay)) {
            assertThat(pgrep(":" + d + " ")).as("processes on display :" + d).isEmpty();
            assertThat(Path.of("/tmp/.X" + d + "-lock")).doesNotExist();
        }
    }

    /**
     * Pools on the real agent (issue 8 item 6): a session ended with {@code keep} leaves the same Xvnc running, held
     * DISCONNECTED for its user, and a reconnect authenticates to it; a dedicated desktop comes back after its reset
     * naming its user and is refused to another; ReleaseUser resets what the user holds and frees the desktop.
     */
    @Test
    void shouldKeepTheSameXvncForItsUserAtAKeepingLogoutAndResetItOnRelease() throws Exception {
        int port = agent.desktops().getFirst().getPort();
        ProcessHandle xvnc = child("Xvnc").orElseThrow();
        InitiateSessionReply first = stub.withDeadlineAfter(5, TimeUnit.SECONDS).initiateSession(InitiateSessionRequest
                .newBuilder().setDesktopId(DESKTOP).setSessionId("s1").setUser("alice").setTenant(1).setDedicate(true).build());
        assertThat(VncAuthProbe.authenticates(port, first.getVncPassword())).isTrue();
        stub.sessionStarted(SessionStartedRequest.newBuilder().setDesktopId(DESKTOP).setSessionId("s1").build());
        stub.endSession(EndSessionRequest.newBuilder().setDesktopId(DESKTOP).setSessionId("s1").setKeep(true).build());
        Desktop kept = agent.desktops().getFirst();
        assertThat(kept.getState()).isEqualTo(DesktopState.DISCONNECTED);
        assertThat(kept.getUser()).isEqualTo("alice");
        assertThat(xvnc.isAlive()).as("kept: the same Xvnc, her work on it").isTrue();
        assertThat(status(() -> initiate("s2", "bob"))).isEqualTo(Status.Code.FAILED_PRECONDITION);

        InitiateSessionReply back = stub.withDeadlineAfter(5, TimeUnit.SECONDS).initiateSession(InitiateSessionRequest
                .newBuilder().setDesktopId(DESKTOP).setSessionId("s3").setUser("alice").setTenant(1).build());
        assertThat(VncAuthProbe.authenticates(port, back.getVncPassword())).as("the same Xvnc admits her").isTrue();
        stub.endSession(EndSessionRequest.newBuilder().setDesktopId(DESKTOP).setSessionId("s3").build());
        assertThat(awaitCondition(() -> !xvnc.isAlive())).as("reset at a resetting logout").isTrue();
        assertThat(agent.awaitReady(Duration.ofSeconds(15))).isTrue();
        Desktop dedicated = agent.desktops().getFirst();
        assertThat(dedicated.getState()).isEqualTo(DesktopState.AVAILABLE);
        assertThat(dedicated.getUser()).as("still dedicated to alice after the reset").isEqualTo("alice");
        assertThat(status(() -> stub.withDeadlineAfter(5, TimeUnit.SECONDS).initiateSession(InitiateSessionRequest.newBuilder()
                .setDesktopId(DESKTOP).setSessionId("s4").setUser("bob").setTenant(1).build())))
                .isEqualTo(Status.Code.FAILED_PRECONDITION);

        assertThat(stub.releaseUser(io.deskgate.control.ReleaseUserRequest.newBuilder().setTenant(1).setUser("alice").build())
                .getReleased()).isEqualTo(1);
        assertThat(agent.desktops().getFirst().getUser()).isEmpty();
        assertThat(stub.withDeadlineAfter(5, TimeUnit.SECONDS).initiateSession(InitiateSessionRequest.newBuilder()
                .setDesktopId(DESKTOP).setSessionId("s5").setUser("bob").setTenant(1).build()).getDesktop().getUser())
                .isEqualTo("bob");
    }

    @Test
    void shouldAdmitTheOneTimePasswordAfterFiveBadLoginsByAStranger() throws Exception {
        int port = agent.desktops().getFirst().getPort();
        // TigerVNC's default blacklist (threshold 5, per host) would now refuse every loopback client.
        for (int i = 0; i < 5; i++) {
            assertThat(VncAuthProbe.authenticates(port, "wrong" + i)).as("bad login " + i).isFalse();
        }
        assertThat(VncAuthProbe.authenticates(port, initiate("s1", "alice").getVncPassword()))
                .as("the engine still gets in").isTrue();
    }

    @Test
    void shouldRefuseCallsWithoutTheControlCredentialAndIssueNoPassword() throws Exception {
        ManagedChannel anonymous = ManagedChannelBuilder.forAddress("127.0.0.1", agent.grpcPort()).usePlaintext().build();
        ManagedChannel wrong = ControlChannels.open("127.0.0.1:" + agent.grpcPort(), new ControlAuth(Secrets.randomBytes(32)));
        try {
            for (ManagedChannel c : List.of(anonymous, wrong)) {
                AgentGrpc.AgentBlockingStub s = AgentGrpc.newBlockingStub(c).withDeadlineAfter(5, TimeUnit.SECONDS);
                assertThat(status(() -> s.initiateSession(InitiateSessionRequest.newBuilder().setDesktopId(DESKTOP)
                        .setSessionId("s1").setUser("admin").build()))).isEqualTo(Status.Code.UNAUTHENTICATED);
                assertThat(status(() -> s.listDesktops(ListDesktopsRequest.getDefaultInstance())))
                        .isEqualTo(Status.Code.UNAUTHENTICATED);
            }
        } finally {
            anonymous.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            wrong.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        assertThat(agent.desktops().getFirst().getState()).as("no session was initiated").isEqualTo(DesktopState.AVAILABLE);
        assertThat(agent.desktops().getFirst().getUser()).isEmpty();
    }

    @Test
    void shouldRefuseToStartWithoutAControlSecret() {
        AgentConfig config = AgentConfig.builder().runtimeDir(dir.resolve("open")).agentId("agent-v").desktops(1).build();
        assertThatThrownBy(() -> Agent.start(config)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no control secret configured");
        assertThat(dir.resolve("open")).as("refused before preparing anything").doesNotExist();
    }

    @Test
    void shouldRestartXvncThatDiedUnexpectedly() throws Exception {
        ProcessHandle xvnc = child("Xvnc").orElseThrow();
        initiate("s1", "alice");
        xvnc.destroyForcibly();
        assertThat(awaitCondition(() -> agent.desktops().getFirst().getState() == DesktopState.UNHEALTHY))
                .isTrue();
        assertThat(agent.desktops().getFirst().getUser()).isEmpty();
        assertThat(agent.awaitReady(Duration.ofSeconds(15))).as("restarted after backoff").isTrue();
        assertThat(child("Xvnc").orElseThrow().pid()).isNotEqualTo(xvnc.pid());
        assertThat(initiate("s2", "bob").getVncPassword()).hasSize(8);
    }

    @Test
    void shouldLaunchSeveralDesktopsInParallelOnDistinctDisplaysAndPorts() throws Exception {
        try (TestDesktopUsers otherUsers = new TestDesktopUsers();
             Agent two = Agent.start(AgentConfig.builder().runtimeDir(dir.resolve("two")).agentId("agent-u").desktops(2)
                     .width(640).height(480).controlSecret(CONTROL_SECRET).isolation(otherUsers.isolation).build())) {
            assertThat(two.awaitReady(Duration.ofSeconds(15))).isTrue();
            List<Desktop> desktops = two.desktops();
            assertThat(desktops).extracting(Desktop::getDesktopId).containsExactly("agent-u/1", "agent-u/2");
            assertThat(desktops.get(0).getPort()).isNotEqualTo(desktops.get(1).getPort());
            assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                    .filter(p -> executable(p).matches("Xvnc|Xtigervnc")).map(AgentXvncTest::displayOf).distinct())
                    .as("this test's agent and the per-test agent: three displays").hasSize(3);
        }
    }

    @Test
    void shouldNameTheDebianPackageOfAMissingProgram() {
        AgentConfig config = AgentConfig.builder().runtimeDir(dir.resolve("other")).session(List.of("no-such-program-xyz"))
                .controlSecret(CONTROL_SECRET).build();
        assertThatThrownBy(() -> Agent.start(config)).isInstanceOf(DeskgateException.class)
                .hasMessageContaining("no-such-program-xyz not found");
    }

    static Path onlyFile(Path dir, String glob) throws Exception {
        try (var files = Files.newDirectoryStream(dir, glob)) {
            List<Path> all = new java.util.ArrayList<>();
            files.forEach(all::add);
            assertThat(all).as(glob + " in " + dir).hasSize(1);
            return all.getFirst();
        }
    }

    private InitiateSessionReply initiate(String session, String user) {
        return stub.withDeadlineAfter(5, TimeUnit.SECONDS).initiateSession(InitiateSessionRequest.newBuilder()
                .setDesktopId(DESKTOP).setSessionId(session).setUser(user).build());
    }

    private static Status.Code status(Runnable call) {
        return GrpcCalls.code(call);
    }

    private static Optional<ProcessHandle> child(String program) {
        return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                .filter(p -> executable(p).matches(program.equals("Xvnc") ? "Xvnc|Xtigervnc" : program))
                .findFirst();
    }

    /** The file name of the process's executable (Debian's Xvnc is a link to Xtigervnc). */
    private static String executable(ProcessHandle p) {
        return p.info().command().map(c -> Path.of(c).getFileName().toString()).orElse("");
    }

    private static String command(ProcessHandle p) {
        ProcessHandle.Info info = p.info();
        return info.command().orElse("") + " " + String.join(" ", info.arguments().orElse(new String[0]));
    }

    private static int displayOf(ProcessHandle xvnc) {
        String[] args = xvnc.info().arguments().orElseThrow();
        return Integer.parseInt(args[0].substring(1));
    }

    private static List<String> pgrep(String pattern) throws Exception {
        Process p = new ProcessBuilder("pgrep", "-a", "-f", "Xvnc " + pattern).redirectErrorStream(true).start();
        List<String> lines = new String(p.getInputStream().readAllBytes()).lines()
                .filter(l -> !l.contains("pgrep")).toList();
        p.waitFor(5, TimeUnit.SECONDS);
        return lines;
    }

    private static boolean awaitCondition(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) return false;
            Thread.sleep(20);
        }
        return true;
    }
}
