package io.deskgate.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.config.ConfigException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The config file of {@code deskgate up}: sections onto the roles' builders, flags over them, one clear line for a bad file. */
class DeskgateConfigFileTest {
    private static final Path DATA = Path.of("/srv/deskgate");
    private static final byte[] KEY = new byte[32];

    private static UpOptions.Builder withFile(String yaml) {
        return UpOptions.builder().file(DeskgateConfigFile.parse("dg.yaml", yaml));
    }

    /** The error {@code up} would print for this file, before starting anything. */
    private static String error(String yaml) {
        try {
            withFile(yaml).build().check();
        } catch (ConfigException e) {
            return e.getMessage();
        }
        throw new AssertionError("accepted: " + yaml);
    }

    @Test
    void shouldSetEveryRoleFromItsSectionAndNestedSections() {
        UpOptions o = withFile("""
                data: /srv/dg
                frontdoor: {port: 9443, login-ttl: 2h, metrics-port: 9100}
                gateway:
                  max-sessions: 50
                  engine-idle-timeout: 45s
                  stream: {peer-timeout: 20s}
                engine:
                  max-instances: 8
                  limits: {viewer-grace: 2m, attach-grace: 10s, peer-lost: 1m, max-frames-in-flight: 3, stall-timeout: 500ms}
                  encoder: {jpeg-quality: 0.6, allow-lossy: false}
                agent:
                  desktops: 3
                  width: 1920
                  height: 1080
                  session: [openbox, "xterm -fa Mono"]
                  one-time-password-ttl: 30s
                  disconnected-release: 1d
                  isolation: {user-prefix: dg-desk, first-uid: 61000, last-uid: 61009, home-base: /home/dg, runtime-base: /run/dg}
                broker: {max-desktops-per-user: 2, agent-call-timeout: 3s}
                """).build();
        assertThat(o.data()).isEqualTo(Path.of("/srv/dg"));
        var fd = o.frontdoor(DATA);
        assertThat(fd.port()).isEqualTo(9443);
        assertThat(fd.loginTtl()).isEqualTo(Duration.ofHours(2));
        assertThat(fd.metricsPort()).isEqualTo(9100);
        var gw = o.gateway(fd).tokenKey(KEY).streamMasterSecret(KEY).build();
        assertThat(gw.maxSessions()).isEqualTo(50);
        assertThat(gw.engineIdleTimeoutNs()).isEqualTo(45_000_000_000L);
        assertThat(gw.stream().peerTimeoutNs()).isEqualTo(20_000_000_000L);
        assertThat(gw.stream().keepaliveIntervalNs()).as("a nested key not given keeps its default").isEqualTo(1_000_000_000L);
        assertThat(gw.wsPort()).as("the portal's port + 1").isEqualTo(9444);
        var engine = o.engine().build();
        assertThat(engine.maxInstances()).isEqualTo(8);
        assertThat(engine.limits().viewerGraceNs()).isEqualTo(120_000_000_000L);
        assertThat(engine.limits().attachGraceNs()).isEqualTo(10_000_000_000L);
        assertThat(engine.limits().peerLostNs()).isEqualTo(60_000_000_000L);
        assertThat(engine.limits().maxFramesInFlight()).isEqualTo(3);
        assertThat(engine.limits().stallTimeoutNs()).isEqualTo(500_000_000L);
        assertThat(engine.encoder().jpegQuality()).isEqualTo(0.6f);
        assertThat(engine.encoder().allowLossy()).isFalse();
        assertThat(engine.stream()).as("engine.stream absent: defaults").isEqualTo(io.deskgate.stream.StreamSessionConfig.defaults());
        var agent = o.agent(DATA).build();
        assertThat(agent.desktops()).isEqualTo(3);
        assertThat(agent.width()).isEqualTo(1920);
        assertThat(agent.height()).isEqualTo(1080);
        assertThat(agent.session()).containsExactly("openbox", "xterm -fa Mono");
        assertThat(agent.oneTimePasswordTtl()).isEqualTo(Duration.ofSeconds(30));
        assertThat(agent.disconnectedRelease()).isEqualTo(Duration.ofDays(1));
        assertThat(agent.runtimeDir()).as("up's wiring").isEqualTo(DATA.resolve("run"));
        assertThat(agent.isolation().userPrefix()).isEqualTo("dg-desk");
        assertThat(agent.isolation().firstUid()).isEqualTo(61000);
        assertThat(agent.isolation().lastUid()).isEqualTo(61009);
        assertThat(agent.isolation().homeBase()).isEqualTo(Path.of("/home/dg"));
        assertThat(agent.isolation().runtimeBase()).isEqualTo(Path.of("/run/dg"));
        var broker = o.broker().build();
        assertThat(broker.maxDesktopsPerUser()).isEqualTo(2);
        assertThat(broker.agentCallTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(broker.agentTargets()).as("no fixed agents: the broker finds them in the registry").isEmpty();
    }

    @Test
    void shouldSetTheAgentsReportTimingAndRefuseAHeartbeatNotShorterThanTheTimeouts() {
        var agent = withFile("agent: {report-heartbeat: 500ms, report-timeout: 5s}\nconcentrator: {agent-timeout: 5s}\n")
                .build();
        agent.check();
        assertThat(agent.agent(DATA).build().reportHeartbeat()).isEqualTo(Duration.ofMillis(500));
        assertThat(agent.agent(DATA).build().reportTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(UpOptions.builder().build().agent(DATA).build().reportHeartbeat()).as("default").isEqualTo(Duration.ofSeconds(2));

        assertThat(error("agent:\n  report-heartbeat: 15s\n")).as("not shorter than its own report-timeout")
                .startsWith("dg.yaml line 2: agent.report-heartbeat").contains("must be longer than report-heartbeat");
        assertThat(error("agent:\n  report-heartbeat: 10s\n  report-timeout: 30s\nconcentrator:\n  agent-timeout: 10s\n"))
                .as("not shorter than the concentrator's agent-timeout").startsWith("dg.yaml line 2: agent.report-heartbeat")
                .contains("must be shorter than the concentrator's agent-timeout (PT10S)");
    }

    @Test
    void shouldLetGivenFlagsOverrideTheFileAndLeaveItAloneOtherwise() {
        String yaml = """
                data: /srv/from-file
                frontdoor: {port: 9443, bind-host: 0.0.0.0, metrics-port: 9100}
                gateway: {ws-port: 9500}
                agent: {desktops: 5}
                """;
        UpOptions fileOnly = withFile(yaml).build();
        assertThat(fileOnly.data()).isEqualTo(Path.of("/srv/from-file"));
        assertThat(fileOnly.frontdoor(DATA).port()).isEqualTo(9443);
        assertThat(fileOnly.frontdoor(DATA).bindHost()).isEqualTo("0.0.0.0");
        assertThat(fileOnly.gateway(fileOnly.frontdoor(DATA)).tokenKey(KEY).streamMasterSecret(KEY).build().bindHost())
                .as("the gateway follows the portal's address").isEqualTo("0.0.0.0");
        assertThat(fileOnly.agent(DATA).build().desktops()).isEqualTo(5);

        UpOptions flags = withFile(yaml).dataDir(Path.of("/srv/from-flag")).port(7443).bindHost("127.0.0.2").gatewayPort(7600)
                .metricsPort(0).desktops(1).build();
        assertThat(flags.data()).isEqualTo(Path.of("/srv/from-flag"));
        var fd = flags.frontdoor(DATA);
        assertThat(fd.port()).isEqualTo(7443);
        assertThat(fd.bindHost()).isEqualTo("127.0.0.2");
        assertThat(fd.metricsPort()).isZero();
        var gw = flags.gateway(fd).tokenKey(KEY).streamMasterSecret(KEY).build();
        assertThat(gw.wsPort()).isEqualTo(7600);
        assertThat(gw.bindHost()).isEqualTo("127.0.0.2");
        assertThat(flags.agent(DATA).build().desktops()).isEqualTo(1);

        UpOptions portOnly = withFile("frontdoor: {port: 9443}\n").port(7443).build();
        assertThat(portOnly.gateway(portOnly.frontdoor(DATA)).tokenKey(KEY).streamMasterSecret(KEY).build().wsPort())
                .as("port + 1 of the port in effect").isEqualTo(7444);
    }

    @Test
    void shouldReadEachRolesMetricsSectionAndRefuseANonLoopbackBindWithoutAToken() {
        DeskgateConfigFile file = DeskgateConfigFile.parse("dg.yaml", """
                gateway:
                  max-sessions: 5
                  metrics: {port: 9101}
                broker:
                  metrics: {port: 9102, bind-host: 0.0.0.0, scrape-token-file: /etc/deskgate/scrape-token}
                """);
        assertThat(file.metrics("gateway").port()).isEqualTo(9101);
        assertThat(file.metrics("gateway").bindHost()).isEqualTo("127.0.0.1");
        assertThat(file.metrics("broker").scrapeTokenFile()).contains(Path.of("/etc/deskgate/scrape-token"));
        assertThat(file.metrics("engine").enabled()).as("off without a section").isFalse();
        assertThat(UpOptions.builder().file(file).build().gateway(UpOptions.builder().build().frontdoor(DATA)).tokenKey(new byte[32])
                .streamMasterSecret(new byte[32]).build().maxSessions()).as("the role's own keys still apply").isEqualTo(5);
        assertThat(error("concentrator:\n  metrics:\n    port: 9103\n    bind-host: 0.0.0.0\n"))
                .startsWith("dg.yaml").contains("concentrator.metrics").contains("scrape-token-file");
        assertThat(error("agent:\n  metrics:\n    prot: 1\n")).startsWith("dg.yaml line 3: agent.metrics.prot: unknown key");
    }

    @Test
    void shouldNameTheKeySectionAndLineOfAnUnknownKey() {
        assertThat(error("gateway:\n  max-sessions: 5\n  max-sesions: 3\n"))
                .startsWith("dg.yaml line 3: gateway.max-sesions: unknown key in section 'gateway' (known: ")
                .contains("max-sessions").contains("stream");
        assertThat(error("engine:\n  limits:\n    viewer-grace-ns: 5\n")).startsWith("dg.yaml line 3: engine.limits.viewer-grace-ns: unknown key");
        assertThat(error("gatway:\n  port: 1\n")).startsWith("dg.yaml line 1: unknown section 'gatway'");
    }

    @Test
    void shouldNeverTakeASecretFromTheFile() {
        assertThat(error("engine:\n  control-secret: abcdefabcdefabcdefabcdefabcdefabcdef\n")).contains("engine.control-secret: unknown key");
        assertThat(error("gateway:\n  token-key: x\n")).contains("gateway.token-key: unknown key");
        assertThat(error("broker:\n  control-secret: x\n")).contains("broker.control-secret: unknown key");
    }

    @Test
    void shouldNameTheKeyOfAWrongType() {
        assertThat(error("frontdoor:\n  port: eighty\n")).isEqualTo("dg.yaml line 2: frontdoor.port: expected a whole number, got value (eighty)");
        assertThat(error("agent:\n  session: xterm\n")).isEqualTo("dg.yaml line 2: agent.session: expected a list, got value (xterm)");
        assertThat(error("engine:\n  encoder:\n    allow-lossy: 2\n")).startsWith("dg.yaml line 3: engine.encoder.allow-lossy: expected true or false");
        assertThat(error("gateway: 5\n")).startsWith("dg.yaml line 1: gateway must be a section");
    }

    @Test
    void shouldNameTheKeyOfAnInvalidValue() {
        assertThat(error("frontdoor:\n  bind-host: 127.0.0.1\n  port: 70000\n"))
                .isEqualTo("dg.yaml line 3: frontdoor.port: port 70000 is out of range 0-65535");
        assertThat(error("gateway:\n  upgrade-timeout: -5s\n")).startsWith("dg.yaml line 2: gateway.upgrade-timeout: ")
                .contains("must not be negative");
        assertThat(error("gateway:\n  max-sessions: 0\n")).isEqualTo("dg.yaml line 2: gateway.max-sessions: max-sessions must be at least 1: 0");
        assertThat(error("engine:\n  limits:\n    viewer-grace: 0s\n"))
                .startsWith("dg.yaml line 3: engine.limits.viewer-grace: viewer-grace must be positive");
        assertThat(error("agent:\n  desktops: 65\n")).startsWith("dg.yaml line 2: agent.desktops: desktops must be 1..64");
        assertThat(error("agent:\n  isolation:\n    first-uid: 10\n")).startsWith("dg.yaml line 3: agent.isolation.first-uid: ");
        assertThat(error("broker:\n  agent-targets: [nohost]\n")).startsWith("dg.yaml line 2: broker.agent-targets: ");
        assertThat(error("engine:\n  stream:\n    nack-delay: 1s\n    give-up-gap: 500ms\n"))
                .startsWith("dg.yaml line 3: engine.stream.nack-delay: need 0 < nack-delay < give-up-gap");
    }

    @Test
    void shouldReadTheJpegLibraryByItsLowerCaseNameOnly() {
        assertThat(withFile("engine:\n  encoder:\n    jpeg-library: jdk\n").build().engine().build().encoder().jpegLibrary())
                .isEqualTo(io.deskgate.encode.EncoderConfig.JpegLibrary.JDK);
        assertThat(withFile("engine:\n  encoder:\n    jpeg-library: turbo\n").build().engine().build().encoder().jpegLibrary())
                .isEqualTo(io.deskgate.encode.EncoderConfig.JpegLibrary.TURBO);
        assertThat(error("engine:\n  encoder:\n    jpeg-library: libjpeg\n")).startsWith("dg.yaml line 3: engine.encoder.jpeg-library: ");
        assertThat(error("engine:\n  encoder:\n    jpeg-library: TURBO\n")).startsWith("dg.yaml line 3: engine.encoder.jpeg-library: ");
        assertThat(error("engine:\n  encoder:\n    jpeg-library: 1\n")).startsWith("dg.yaml line 3: engine.encoder.jpeg-library: ");
    }

    @Test
    void shouldExitWithStatusTwoAndOneLineForABadFile(@TempDir Path dir) throws IOException {
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "gateway:\n  max-sessions: many\n");
        Run run = run("up", "--config", bad.toString(), "--data", dir.resolve("data").toString());
        assertThat(run.status).isEqualTo(2);
        assertThat(run.err.lines().toList()).containsExactly("deskgate: " + bad + " line 2: gateway.max-sessions: expected a whole number, got value (many)");
        assertThat(dir.resolve("data")).as("refused before the data directory is made").doesNotExist();

        Path invalid = Files.writeString(dir.resolve("invalid.yaml"), "agent:\n  desktops: 0\n");
        run = run("up", "--config", invalid.toString(), "--data", dir.resolve("data").toString());
        assertThat(run.status).isEqualTo(2);
        assertThat(run.err.lines().toList()).containsExactly("deskgate: " + invalid + " line 2: agent.desktops: desktops must be 1..64: 0");
        assertThat(dir.resolve("data")).doesNotExist();

        Path missing = dir.resolve("missing.yaml");
        run = run("up", "--config", missing.toString());
        assertThat(run.status).isEqualTo(2);
        assertThat(run.err.lines().toList()).containsExactly("deskgate: config file " + missing + " does not exist");
    }

    private record Run(int status, String err) {}

    private static Run run(String... args) {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            status = Main.execute(args);
        } finally {
            System.setErr(saved);
        }
        return new Run(status, err.toString(StandardCharsets.UTF_8));
    }
}
