package io.deskgate.store;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** {@link RegistryStoreContract} on the embedded PostgreSQL (one per class). */
class EmbeddedRegistryStoreTest extends RegistryStoreContract {
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
    Database database() { return db; }
}
