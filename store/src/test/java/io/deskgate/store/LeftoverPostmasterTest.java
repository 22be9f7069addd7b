package io.deskgate.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A JVM killed with -9 leaves its postmaster running; the next open of the data directory stops it. */
class LeftoverPostmasterTest {

    /** The earlier owner: opens the database, prints the postmaster's pid, and waits to be killed. */
    public static void main(String[] args) throws Exception {
        Database db = Database.embedded(Path.of(args[0]));
        System.out.println("postmaster " + db.postmaster().orElseThrow().pid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    @Test
    void shouldStopThePostmasterAKilledJvmLeftAndStartAfresh(@TempDir Path dir) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path ownerLog = Path.of("target", "leftover-owner.log").toAbsolutePath();
        Process owner = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                LeftoverPostmasterTest.class.getName(), dir.toString())
                .redirectErrorStream(true).redirectOutput(ownerLog.toFile()).start();
        ProcessHandle leftover;
        try {
            long pid = awaitPid(owner, ownerLog);
            leftover = ProcessHandle.of(pid).orElseThrow();
            List<ProcessHandle> backends = leftover.descendants().toList();
            owner.destroyForcibly(); // kill -9 of the owning JVM
            assertThat(owner.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(leftover.isAlive()).as("the killed JVM's postmaster outlives it").isTrue();

            try (Database db = Database.embedded(dir)) {
                assertThat(db.ready()).isTrue();
                assertThat(db.postmaster().orElseThrow().pid()).isNotEqualTo(pid);
                assertThat(Postmaster.alive(leftover)).as("the earlier postmaster is stopped").isFalse();
                assertThat(backends).as("and its backends").noneMatch(Postmaster::alive);
            }
        } finally {
            owner.destroyForcibly();
        }
    }

    /** The pid the owner JVM printed, polled from its log with a generous deadline. */
    private static long awaitPid(Process owner, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() - deadline < 0) {
            List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
            for (String line : lines) {
                if (line.startsWith("postmaster ")) return Long.parseLong(line.substring("postmaster ".length()).strip());
            }
            if (!owner.isAlive()) break;
            Thread.sleep(200);
        }
        throw new AssertionError("the owner JVM did not report its postmaster; its output:\n"
                + (Files.exists(log) ? Files.readString(log) : "(none)"));
    }
}
