package io.deskgate.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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
        Process owner = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                LeftoverPostmasterTest.class.getName(), dir.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.PIPE).start();
        ProcessHandle leftover;
        try {
            long pid = CompletableFuture.supplyAsync(() -> readPid(owner)).get(120, TimeUnit.SECONDS);
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

    private static long readPid(Process p) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("postmaster ")) {
                    Thread.ofVirtual().start(() -> drain(r));
                    return Long.parseLong(line.substring("postmaster ".length()).strip());
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        throw new IllegalStateException("the owner JVM exited before its database was up");
    }

    private static void drain(BufferedReader r) {
        try {
            while (r.readLine() != null) { /* discard */ }
        } catch (java.io.IOException e) {
            // the owner is gone
        }
    }
}
