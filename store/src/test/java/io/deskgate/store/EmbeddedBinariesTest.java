package io.deskgate.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded PostgreSQL runs from the data directory, never from the shared temporary directory. */
class EmbeddedBinariesTest {
    private static final Set<PosixFilePermission> GROUP_OR_OTHER = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    @Test
    void shouldUnpackAndRunTheBinariesUnderTheDataDirectoryAndLeaveTheTemporaryDirectoryAlone(
            @TempDir Path tmp, @TempDir Path dir) throws Exception {
        String previous = System.getProperty("java.io.tmpdir");
        System.setProperty("java.io.tmpdir", tmp.toString());
        try (Database db = Database.embedded(dir)) {
            Path exe = Postmaster.executable(db.postmaster().orElseThrow());
            assertThat(exe).startsWith(dir.resolve(Database.BINARIES_DIR).toRealPath());
            try (Stream<Path> planted = Files.list(tmp)) {
                assertThat(planted.toList()).as("nothing written to the temporary directory").isEmpty();
            }
            List<Path> loose;
            try (Stream<Path> all = Files.walk(dir.resolve(Database.BINARIES_DIR))) {
                loose = all.filter(p -> !Files.isSymbolicLink(p)).filter(p -> hasGroupOrOther(p)).toList();
            }
            assertThat(loose).as("binaries readable or writable by others").isEmpty();
        } finally {
            System.setProperty("java.io.tmpdir", previous);
        }
    }

    private static boolean hasGroupOrOther(Path p) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
            perms.retainAll(GROUP_OR_OTHER);
            return !perms.isEmpty();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
