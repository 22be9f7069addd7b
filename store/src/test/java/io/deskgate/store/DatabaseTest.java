package io.deskgate.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.DeskgateException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatabaseTest {

    @Test
    void shouldCreateSchemaAndSeedDefaultTenantOnFirstStart(@TempDir Path dir) throws Exception {
        try (Database db = Database.embedded(dir)) {
            List<String> tables = new ArrayList<>();
            try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT table_name FROM information_schema.tables "
                         + "WHERE table_schema = 'public' ORDER BY table_name")) {
                while (rs.next()) tables.add(rs.getString(1));
            }
            assertThat(tables).contains("tenants", "users", "sessions", "registry", "secrets", "audit");
            try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT id, name FROM tenants")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(1);
                assertThat(rs.getString(2)).isEqualTo("default");
                assertThat(rs.next()).isFalse();
            }
        }
        assertThat(dir.resolve("pg").resolve("PG_VERSION")).exists();
    }

    @Test
    void shouldKeepDataAndSecretsAcrossRestartOfTheSameDataDirectory(@TempDir Path dir) throws Exception {
        byte[] first;
        try (Database db = Database.embedded(dir)) {
            first = new SecretStore(db.dataSource()).getOrCreate("token-key", 32);
            new UserStore(db.dataSource()).create(1, "alice", "$argon2id$x", false);
        }
        try (Database db = Database.embedded(dir)) {
            assertThat(new SecretStore(db.dataSource()).getOrCreate("token-key", 32)).isEqualTo(first);
            assertThat(new UserStore(db.dataSource()).find(1, "alice")).isPresent();
        }
    }

    @Test
    void shouldNameTheDirectoryWhenDataDirectoryIsNotWritable(@TempDir Path dir) throws Exception {
        // A regular file where a directory is needed: fails even for root, who ignores permission bits.
        Path file = Files.writeString(dir.resolve("occupied"), "x");
        Path dataDir = file.resolve("data");
        assertThatThrownBy(() -> Database.embedded(dataDir))
                .isInstanceOf(DeskgateException.class)
                .hasMessage("data directory " + dataDir.toAbsolutePath() + " is not writable");
    }
}
