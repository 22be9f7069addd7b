package io.deskgate.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.testkit.DeskgateProcess;
import io.deskgate.testkit.Prerequisites;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of the {@code up} JVM while desktops run leaves processes behind (PostgreSQL, Xvnc and
 * the session programs); the next {@code up} on the same data directory stops them all and is ready, with
 * no stack trace. With the earlier Xvnc servers gone, the earlier run's one-time VNC passwords are useless.
 */
class UpCrashTest {
    @TempDir
    Path data;

    @Test
    void shouldStopEveryProcessOfAKilledRunAndBeReadyAgain() throws Exception {
        Prerequisites.require("Xvnc", "tigervnc-standalone-server");
        List<ProcessHandle> earlier = new ArrayList<>();
        List<ProcessHandle> earlierPostgres = new ArrayList<>();
        try {
            try (DeskgateProcess first = DeskgateProcess.start(DeskgateProcess.repoRoot(), "up", "--port", "0",
                    "--desktops", "1", "--data", data.toString(), "--admin-password", "irrelevant-5")) {
                first.awaitUp(Duration.ofSeconds(120));
                ProcessHandle jvm = jvm(first.process().toHandle());
                earlier.addAll(jvm.descendants().toList());
                assertThat(earlier).as("the first run's desktops").anyMatch(p -> command(p).matches(".*/(Xvnc|Xtigervnc)$"));
                // pg_ctl detaches the postmaster: it is no descendant of the JVM, postmaster.pid names it.
                ProcessHandle postmaster = ProcessHandle.of(Long.parseLong(
                        Files.readAllLines(data.resolve("pg").resolve("postmaster.pid")).getFirst().strip())).orElseThrow();
                earlierPostgres.add(postmaster);
                earlierPostgres.addAll(postmaster.descendants().toList());

                jvm.destroyForcibly(); // kill -9 of the java process itself
                assertThat(jvm.onExit().get(30, TimeUnit.SECONDS).isAlive()).isFalse();
                assertThat(first.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(alive(earlierPostgres)).as("kill -9 leaves the earlier PostgreSQL running").isNotEmpty();

            try (DeskgateProcess second = DeskgateProcess.start(DeskgateProcess.repoRoot(), "up", "--port", "0",
                    "--desktops", "1", "--data", data.toString(), "--admin-password", "irrelevant-5")) {
                second.awaitUp(Duration.ofSeconds(180));
                SoftAssertions soft = new SoftAssertions();
                soft.assertThat(second.lines()).as("no stack trace")
                        .noneMatch(l -> l.contains("\tat ") || l.contains("Exception"));
                soft.assertThat(alive(earlierPostgres)).as("the earlier run's PostgreSQL processes").isEmpty();
                // Xvnc and session shells: stopped by the agent at start (they held the earlier one-time passwords).
                soft.assertThat(alive(earlier)).as("the earlier run's desktop processes (Xvnc, shells)").isEmpty();
                soft.assertThat(second.stop(Duration.ofSeconds(30))).isIn(0, 130, 143);
                soft.assertAll();
            }
        } finally {
            earlier.forEach(ProcessHandle::destroyForcibly);
            earlierPostgres.forEach(ProcessHandle::destroyForcibly);
        }
    }

    /** The launcher script execs java; if some wrapper stays in between, the java process below it. */
    private static ProcessHandle jvm(ProcessHandle launched) {
        if (command(launched).endsWith("/java")) return launched;
        return launched.descendants().filter(p -> command(p).endsWith("/java")).findFirst()
                .orElseThrow(() -> new AssertionError("no java process under the launcher"));
    }

    private static String command(ProcessHandle p) {
        return p.info().command().orElse("");
    }

    /** Those still running, zombies (exited, not yet reaped by the init process) excepted. */
    private static List<String> alive(List<ProcessHandle> processes) {
        return processes.stream().filter(ProcessHandle::isAlive).filter(p -> !zombie(p))
                .map(p -> p.pid() + " " + command(p)).toList();
    }

    private static boolean zombie(ProcessHandle p) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
            int end = stat.lastIndexOf(')');
            return end > 0 && end + 2 < stat.length() && stat.charAt(end + 2) == 'Z';
        } catch (IOException e) {
            return true; // gone
        }
    }
}
