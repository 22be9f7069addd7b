package io.deskgate.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatabaseAuthTest {

    @Test
    void embeddedDatabaseRefusesNoPasswordAndWrongPasswordAndAcceptsTheStoredOne(@TempDir Path dir) throws Exception {
        try (Database db = Database.embedded(dir)) {
            String url = jdbcUrl(db);
            Path passwordFile = dir.resolve(Database.PASSWORD_FILE);
            assertThat(Files.getPosixFilePermissions(passwordFile)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
            assertThat(Files.getPosixFilePermissions(dir.resolve("pg-socket")))
                    .isEqualTo(PosixFilePermissions.fromString("rwx------"));
            assertRefused(url, "");
            assertRefused(url, "wrong-password");
            try (Connection c = DriverManager.getConnection(url, "postgres", Files.readString(passwordFile).strip());
                 Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SHOW listen_addresses")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("127.0.0.1");
            }
        }
    }

    @Test
    void restartOnTheSameDataDirectoryUsesTheStoredPasswordAndStillRefusesOthers(@TempDir Path dir) throws Exception {
        String password;
        try (Database db = Database.embedded(dir)) {
            new UserStore(db.dataSource()).create(1, "alice", "$argon2id$x", false);
            password = Files.readString(dir.resolve(Database.PASSWORD_FILE));
        }
        try (Database db = Database.embedded(dir)) {
            assertThat(new UserStore(db.dataSource()).find(1, "alice")).isPresent();
            assertThat(Files.readString(dir.resolve(Database.PASSWORD_FILE))).isEqualTo(password);
            assertRefused(jdbcUrl(db), "");
        }
    }

    @Test
    void trustAuthDataDirectoryFromBeforeIsUpgradedToRequireAPassword(@TempDir Path dir) throws Exception {
        // What earlier versions left behind: initdb -A trust, no password file.
        try (EmbeddedPostgres old = EmbeddedPostgres.builder().setDataDirectory(dir.resolve("pg"))
                .setCleanDataDirectory(false).start();
             Connection c = old.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA legacy; CREATE TABLE legacy.kept (v int)");
            st.execute("INSERT INTO legacy.kept VALUES (42)");
        }
        assertThat(dir.resolve(Database.PASSWORD_FILE)).doesNotExist();

        try (Database db = Database.embedded(dir)) {
            assertThat(dir.resolve(Database.PASSWORD_FILE)).exists();
            assertRefused(jdbcUrl(db), "");
            try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT v FROM legacy.kept")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
        }
        try (Database db = Database.embedded(dir)) {
            assertRefused(jdbcUrl(db), "");
        }
    }

    private static String jdbcUrl(Database db) throws SQLException {
        try (Connection c = db.dataSource().getConnection()) {
            return c.getMetaData().getURL();
        }
    }

    private static void assertRefused(String url, String password) {
        assertThatThrownBy(() -> DriverManager.getConnection(url, "postgres", password).close())
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isIn("28P01", "28000", "08004"));
    }
}
