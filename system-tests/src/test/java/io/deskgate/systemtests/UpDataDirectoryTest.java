package io.deskgate.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.testkit.DeskgateProcess;
import io.deskgate.testkit.Prerequisites;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing in a running platform's data directory is readable by anyone but the platform's user, even
 * when it was left looser by an earlier version or an operator: every start makes it owner-only again.
 */
class UpDataDirectoryTest {
    private static final Set<PosixFilePermission> GROUP_OR_OTHER = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    @TempDir
    Path tmp;

    @Test
    void shouldKeepEveryPathOfARunningPlatformsDataDirectoryOwnerOnly() throws Exception {
        Prerequisites.require("Xvnc", "tigervnc-standalone-server");
        Path data = tmp.resolve("data");
        try (DeskgateProcess first = DeskgateProcess.start(DeskgateProcess.repoRoot(), "up", "--port", "0",
                "--desktops", "1", "--tls", "--data", data.toString(), "--admin-password", "irrelevant-4")) {
            first.awaitUp(Duration.ofSeconds(120));
            assertThat(first.stop(Duration.ofSeconds(30))).isIn(0, 130, 143);
        }
        // What an earlier version (or a careless operator) may have left: everything open to everyone.
        loosen(data);

        try (DeskgateProcess second = DeskgateProcess.start(DeskgateProcess.repoRoot(), "up", "--port", "0",
                "--desktops", "1", "--tls", "--data", data.toString(), "--admin-password", "irrelevant-4")) {
            second.awaitUp(Duration.ofSeconds(120));
            int platformUser = uid(Files.createFile(tmp.resolve("made-by-the-platforms-user")));
            List<Path> all;
            try (Stream<Path> walk = Files.walk(data)) {
                all = walk.filter(p -> !Files.isSymbolicLink(p)).toList();
            }
            assertThat(all).as("tls, run, pg, pg-bin, pg-socket and pg-password are there")
                    .contains(data.resolve("tls"), data.resolve("run"), data.resolve("pg"), data.resolve("pg-bin"),
                            data.resolve("pg-socket"), data.resolve("pg-password"));
            assertThat(all).as("paths that group or others may use").filteredOn(UpDataDirectoryTest::hasGroupOrOther).isEmpty();
            assertThat(all).as("paths owned by another user").filteredOn(p -> uid(p) != platformUser).isEmpty();
            assertThat(second.stop(Duration.ofSeconds(30))).isIn(0, 130, 143);
        }
    }

    private static void loosen(Path data) throws IOException {
        try (Stream<Path> walk = Files.walk(data)) {
            for (Path p : walk.filter(p -> !Files.isSymbolicLink(p)).toList()) {
                boolean x = Files.isDirectory(p) || Files.getPosixFilePermissions(p).contains(PosixFilePermission.OWNER_EXECUTE);
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(x ? "rwxrwxrwx" : "rw-rw-rw-"));
            }
        }
    }

    private static boolean hasGroupOrOther(Path p) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
            perms.retainAll(GROUP_OR_OTHER);
            return !perms.isEmpty();
        } catch (IOException e) {
            return false; // gone meanwhile (a temporary file)
        }
    }

    private static int uid(Path p) {
        try {
            return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
