package io.deskgate.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Test-only: desktop users of their own for one test class (a random prefix, bases under a fresh
 * directory in /tmp that desktop users can pass through), so tests never meet the users of
 * {@code deskgate up} or of another test. {@link #close} stops their processes and deletes the users.
 */
final class TestDesktopUsers implements AutoCloseable {
    final DesktopIsolation isolation;
    final Path base;

    TestDesktopUsers() throws IOException {
        String tag = randomLetters(6);
        base = Files.createDirectory(Path.of("/tmp", "dgt-" + tag));
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        isolation = new DesktopIsolation("dgt" + tag + "-", DesktopIsolation.DEFAULT.firstUid(),
                DesktopIsolation.DEFAULT.lastUid(), base.resolve("homes"), base.resolve("run"));
    }

    /** The passwd entry of desktop {@code index}'s user, once the agent created it. */
    DesktopUsers.PasswdEntry user(int index) throws IOException {
        return DesktopUsers.existing(isolation, index).orElseThrow();
    }

    @Override
    public void close() throws Exception {
        for (int i = 0; i < AgentConfig.MAX_DESKTOPS; i++) {
            var entry = DesktopUsers.existing(isolation, i);
            if (entry.isEmpty()) continue;
            ProcessTrees.killUser(entry.get().uid());
            Process p = new ProcessBuilder("userdel", entry.get().name()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) p.destroyForcibly();
        }
        try (Stream<Path> files = Files.walk(base)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    private static String randomLetters(int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) b.append((char) ('a' + ThreadLocalRandom.current().nextInt(26)));
        return b.toString().toLowerCase(Locale.ROOT);
    }
}
