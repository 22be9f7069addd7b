package io.deskgate.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** {@link RegistryStoreContract} and {@link MigrationLockContract} on the embedded PostgreSQL (one per class). */
class EmbeddedRegistryStoreTest extends RegistryStoreContract implements MigrationLockContract {
    @TempDir static Path dir;
    static Database db;

    @BeforeAll
    static void start() throws Exception {
        db = Database.embedded(dir);
    }

    @AfterAll
    static void stop() {
        if (db != null) db.close();
    }

    @Override
    public Database database() { return db; }

    @Override
    public String password() {
        try {
            return Files.readString(dir.resolve(Database.PASSWORD_FILE)).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
