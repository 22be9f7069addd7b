package io.deskgate.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.DeskgateException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The external store's credentials: an owner-only file or the environment, never the URL. */
class StorePasswordTest {
    @Test
    void shouldReadTheFirstLineOfAnOwnerOnlyFile(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("store-password"), "s3cret-pw\nignored\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        assertThat(StorePassword.fromFile(file)).isEqualTo("s3cret-pw");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
        assertThat(StorePassword.fromFile(file)).isEqualTo("s3cret-pw");
    }

    @Test
    void shouldRefuseAFileOthersCanReadALinkAnEmptyFileOrNone(@TempDir Path dir) throws Exception {
        Path loose = Files.writeString(dir.resolve("loose"), "s3cret-pw\n");
        Files.setPosixFilePermissions(loose, PosixFilePermissions.fromString("rw-r-----"));
        assertThatThrownBy(() -> StorePassword.fromFile(loose)).isInstanceOf(DeskgateException.class)
                .hasMessage("store password file " + loose + " is readable or writable by others (chmod 600 it)")
                .hasMessageNotContaining("s3cret");
        Path target = Files.writeString(dir.resolve("target"), "s3cret-pw\n");
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-------"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);
        assertThatThrownBy(() -> StorePassword.fromFile(link)).hasMessage("store password file " + link + " is not a regular file");
        Path empty = Files.writeString(dir.resolve("empty"), "\n");
        Files.setPosixFilePermissions(empty, PosixFilePermissions.fromString("rw-------"));
        assertThatThrownBy(() -> StorePassword.fromFile(empty)).hasMessage("store password file " + empty + " is empty");
        assertThatThrownBy(() -> StorePassword.fromFile(dir.resolve("none")))
                .hasMessage("store password file " + dir.resolve("none") + " cannot be read (NoSuchFileException)");
    }

    @Test
    void shouldReadTheEnvironmentAndNameAMissingVariable() {
        assertThat(StorePassword.fromEnvironment(Map.of("DESKGATE_STORE_PASSWORD", "pw"), "DESKGATE_STORE_PASSWORD"))
                .isEqualTo("pw");
        assertThatThrownBy(() -> StorePassword.fromEnvironment(Map.of(), "DESKGATE_STORE_PASSWORD"))
                .hasMessage("the store password variable DESKGATE_STORE_PASSWORD is not set");
    }

    @Test
    void externalShouldRefuseAUrlThatCarriesCredentialsWithoutQuotingThem() {
        assertThatThrownBy(() -> Database.external("jdbc:postgresql://db.example:5432/deskgate?ssl=true&password=s3cret",
                "deskgate", "x")).isInstanceOf(DeskgateException.class)
                .hasMessage("the store URL jdbc:postgresql://db.example:5432/deskgate must not carry a user or password: give the"
                        + " user in the configuration and the password in a file or the environment");
        assertThatThrownBy(() -> Database.external("jdbc:postgresql://deskgate:s3cret@db.example/deskgate", "deskgate", "x"))
                .hasMessageStartingWith("the store URL jdbc:postgresql://***@db.example/deskgate must not carry")
                .hasMessageNotContaining("s3cret");
        assertThatThrownBy(() -> Database.external("jdbc:mysql://db.example/deskgate", "deskgate", "x"))
                .hasMessage("the store URL must start with jdbc:postgresql:// (got jdbc:mysql://db.example/deskgate)");
    }
}
