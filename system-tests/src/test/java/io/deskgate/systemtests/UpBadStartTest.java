package io.deskgate.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.testkit.DeskgateProcess;
import io.deskgate.testkit.Prerequisites;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code deskgate up} refuses bad starts with one clear line and a non-zero exit. */
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
            assertThat(dg.process().waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).as("exits by itself").isTrue();
            assertThat(dg.process().exitValue()).isNotZero();
            assertThat(dg.lines()).anyMatch(l -> l.startsWith("deskgate: ") && l.contains("already in use")
                    && l.contains(Integer.toString(taken.getLocalPort())));
        }
    }

    @Test
    void shouldExitNonZeroWhenTheDataDirectoryCannotBeCreated() throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "not a directory");
        try (DeskgateProcess dg = DeskgateProcess.start(DeskgateProcess.repoRoot(), "up", "--port", "0",
                "--data", file.resolve("data").toString())) {
            assertThat(dg.process().waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(dg.process().exitValue()).isNotZero();
            assertThat(dg.lines()).anyMatch(l -> l.startsWith("deskgate: data directory ") && l.contains(file.toString()));
            assertThat(dg.lines()).as("no stack trace for a user error").noneMatch(l -> l.contains("\tat "));
            dg.stop(Duration.ofSeconds(1));
        }
    }
}
