package io.deskgate.store;

import io.deskgate.testkit.DebianPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link RegistryStoreContract} and {@link MigrationLockContract} on Debian's PostgreSQL server (issue 8:
 * "the same fleet runs once against Debian's PostgreSQL"), started by the test in its own data directory
 * on a free loopback port and reached as an external store. Skipped outside CI when the server is not
 * installed; a failure in CI.
 */
class DebianRegistryStoreTest extends RegistryStoreContract implements MigrationLockContract {
    static DebianPostgres server;
    static Database db;

    @BeforeAll
    static void start() throws Exception {
        server = DebianPostgres.start();
        db = Database.external(server.jdbcUrl(), server.user(), server.password());
    }

    @AfterAll
    static void stop() throws Exception {
        if (db != null) db.close();
        if (server != null) server.close();
    }

    @Override
    public Database database() { return db; }

    @Override
    public String password() { return server.password(); }
}
