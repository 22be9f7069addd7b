package io.deskgate.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Drain flags on a real PostgreSQL: per role, idempotent, lifted by undrain, bad input refused. */
class DrainStoreTest {

    @Test
    void drainsAndUndrainsPerRoleAndId(@TempDir Path dir) throws Exception {
        try (Database db = Database.embedded(dir)) {
            DrainStore drains = new DrainStore(db.dataSource());
            assertThat(drains.drained(Role.ENGINE)).isEmpty();
            assertThat(drains.drain(Role.ENGINE, "engine-2", "admin")).isTrue();
            assertThat(drains.drain(Role.ENGINE, "engine-2", "admin")).as("already drained").isFalse();
            assertThat(drains.drain(Role.GATEWAY, "engine-1", "admin")).isTrue();
            assertThat(drains.drained(Role.ENGINE)).containsExactly("engine-2");
            assertThat(drains.drained(Role.GATEWAY)).containsExactly("engine-1");
            assertThat(drains.undrain(Role.ENGINE, "engine-2")).isTrue();
            assertThat(drains.undrain(Role.ENGINE, "engine-2")).isFalse();
            assertThat(drains.drained(Role.ENGINE)).isEmpty();
            assertThat(drains.drained(Role.GATEWAY)).containsExactly("engine-1");
        }
    }

    @Test
    void refusesOtherRolesAndMalformedIds(@TempDir Path dir) throws Exception {
        try (Database db = Database.embedded(dir)) {
            DrainStore drains = new DrainStore(db.dataSource());
            assertThatThrownBy(() -> drains.drain(Role.BROKER, "b", "admin")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("only engines and gateways");
            assertThatThrownBy(() -> drains.drain(Role.ENGINE, "bad id;", "admin")).isInstanceOf(IllegalArgumentException.class);
            assertThat(drains.drained(Role.ENGINE)).isEmpty();
        }
    }
}
