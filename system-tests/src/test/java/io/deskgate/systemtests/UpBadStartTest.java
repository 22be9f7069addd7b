package io.deskgate.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.testkit.DeskgateProcess;
import io.deskgate.testkit.Prerequisites;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code deskgate up} refuses bad starts with exactly one clear line, a non-zero exit and no stack trace. */
class UpBadStartTest {
    @TempDir
    Path tmp;

    @Test
    void shouldExitNonZeroWithOneClearLineWhenThePortIsInUse() throws Exception {
        Prerequisites.require("Xvnc", "tigervnc-standalone-server");
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             DeskgateProcess dg = DeskgateProcess.start(DeskgateProcess.repoRoot(), "up", "--port",
                     Integer.toString(taken.getLocalPort()), "--desktops", "1", "--data", tmp.resolve("data").toString(),
                     "--admin-password", "irrelevant-1")) {
            String line = oneClearLine(dg, Duration.ofSeconds(120));
            assertThat(line).contains("already in use").contains(Integer.toString(taken.getLocalPort()));
        }
    }

    @Test
    void shouldExitNonZeroWhenTheDataDirectoryCannotBeCreated() throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "not a directory");
        try (DeskgateProcess dg = DeskgateProcess.start(DeskgateProcess.repoRoot(), "up", "--port", "0",
                "--data", file.resolve("data").toString())) {
            String line = oneClearLine(dg, Duration.ofSeconds(60));
            assertThat(line).startsWith("deskgate: data directory ").contains(file.toString());
        }
    }

    @Test
    void shouldExitWithStatusTwoAndOneClearLineForABadConfigFile() throws Exception {
        Path config = Files.writeString(tmp.resolve("deskgate.yaml"), "gateway:\n  max-sesions: 5\n");
        try (DeskgateProcess dg = DeskgateProcess.start(DeskgateProcess.repoRoot(), "up", "--config", config.toString(),
                "--data", tmp.resolve("data").toString())) {
            String line = oneClearLine(dg, Duration.ofSeconds(60));
            assertThat(line).startsWith("deskgate: " + config + " line 2: gateway.max-sesions: unknown key");
            assertThat(dg.process().exitValue()).as("a bad config file is a usage error").isEqualTo(2);
            assertThat(tmp.resolve("data")).as("refused before anything starts").doesNotExist();
        }
    }

    @Test
    void shouldExitNonZeroWithOneClearLineWhenTheDataDirectoryIsInUse() throws Exception {
        Prerequisites.require("Xvnc", "tigervnc-standalone-server");
        Path data = tmp.resolve("data");
        try (DeskgateProcess first = DeskgateProcess.start(DeskgateProcess.repoRoot(), "up", "--port", "0",
                "--desktops", "1", "--data", data.toString(), "--admin-password", "irrelevant-2")) {
            first.awaitUp(Duration.ofSeconds(120));
            try (DeskgateProcess second = DeskgateProcess.start(DeskgateProcess.repoRoot(), "up", "--port", "0",
                    "--desktops", "1", "--data", data.toString(), "--admin-password", "irrelevant-2")) {
                String line = oneClearLine(second, Duration.ofSeconds(60));
                assertThat(line).contains("data directory " + data).contains("in use")
                        .contains(Long.toString(first.process().pid()));
            }
            assertThat(first.process().isAlive()).as("the first up keeps serving").isTrue();
            assertThat(first.stop(Duration.ofSeconds(30))).isIn(0, 130, 143);
        }
    }

    @Test
    void shouldExitNonZeroWithOneClearLineWhenPostgresqlWillNotStart() throws Exception {
        Prerequisites.require("Xvnc", "tigervnc-standalone-server");
        Path data = tmp.resolve("data");
        Files.createDirectories(data.resolve("pg"));
        Files.writeString(data.resolve("pg").resolve("postgresql.conf"), "this is = not ' a valid setting\n");
        try (DeskgateProcess dg = DeskgateProcess.start(DeskgateProcess.repoRoot(), "up", "--port", "0",
                "--desktops", "1", "--data", data.toString(), "--admin-password", "irrelevant-3")) {
            String line = oneClearLine(dg, Duration.ofSeconds(120));
            assertThat(line).contains("PostgreSQL").contains("did not start").contains(data.resolve("pg").toString());
        }
    }

    /** Waits for the exit and returns its one {@code deskgate:} line, asserting the rest of the contract. */
    private static String oneClearLine(DeskgateProcess dg, Duration timeout) throws InterruptedException {
        assertThat(dg.process().waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)).as("exits by itself").isTrue();
        List<String> lines = dg.lines();
        assertThat(dg.process().exitValue()).as("exit status; output:\n%s", String.join("\n", lines)).isNotZero();
        assertThat(lines).as("no stack trace for an expected failure")
                .noneMatch(l -> l.contains("\tat ") || l.contains("Exception"));
        List<String> clear = lines.stream().filter(l -> l.startsWith("deskgate: ")).toList();
        assertThat(clear).as("exactly one deskgate: line; output:\n%s", String.join("\n", lines)).hasSize(1);
        return clear.getFirst();
    }
}
