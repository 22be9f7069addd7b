package io.deskgate.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.Secrets;
import io.deskgate.frontdoor.AdminBootstrap;
import io.deskgate.frontdoor.Frontdoor;
import io.deskgate.frontdoor.FrontdoorConfig;
import io.deskgate.store.Database;
import io.deskgate.store.DrainStore;
import io.deskgate.store.RegistryTiming;
import io.deskgate.store.Role;
import io.deskgate.store.UserStore;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code deskgate drain|undrain|drains} against a real frontdoor in-process over an embedded PostgreSQL (no broker or engine runs). */
class DrainCommandTest {
    static final String ADMIN_PASSWORD = "admin-password-for-the-cli";

    record Run(int status, String out, String err) {}

    @Test
    void drainsListsAndUndrainsThroughTheAdminApi(@TempDir Path dir) throws Exception {
        try (Database db = Database.embedded(dir.resolve("data"))) {
            AdminBootstrap.ensureAdmin(new UserStore(db.dataSource()), Optional.of(ADMIN_PASSWORD));
            Path passwordFile = Files.writeString(dir.resolve("admin-pw"), ADMIN_PASSWORD + "\n");
            try (Frontdoor fd = Frontdoor.start(FrontdoorConfig.builder().dataDir(dir.resolve("fd")).port(0).build(), db,
                    Secrets.randomBytes(32), Secrets.randomBytes(32), Secrets.randomBytes(32), "127.0.0.1:9", RegistryTiming.DEFAULT)) {
                String[] conn = {"--url", fd.url().toString(), "--password-file", passwordFile.toString()};
                Run drain = run(conn, "drain", "engine", "engine-2");
                assertThat(drain.status()).as(drain.err()).isZero();
                assertThat(drain.out()).contains("drained engine engine-2");
                assertThat(run(conn, "drain", "engine", "engine-2").out()).contains("already drained");
                assertThat(run(conn, "drain", "gateway", "pop-1").status()).isZero();
                assertThat(new DrainStore(db.dataSource()).drained(Role.ENGINE)).containsExactly("engine-2");

                Run list = run(conn, "drains");
                assertThat(list.out().lines().toList()).containsExactly("ROLE     ID", "engine   engine-2", "gateway  pop-1");

                Run bad = run(conn, "drain", "broker", "b-1");
                assertThat(bad.status()).isEqualTo(1);
                assertThat(bad.err().lines().toList()).hasSize(1).first().asString().startsWith("deskgate: ").contains("engine or a gateway");

                Run undrain = run(conn, "undrain", "engine", "engine-2");
                assertThat(undrain.status()).as(undrain.err()).isZero();
                assertThat(undrain.out()).contains("undrained engine engine-2");
                assertThat(run(conn, "undrain", "engine", "engine-2").out()).contains("was not drained");
                assertThat(new DrainStore(db.dataSource()).drained(Role.ENGINE)).isEmpty();
                assertThat(new DrainStore(db.dataSource()).drained(Role.GATEWAY)).containsExactly("pop-1");
            }
        }
    }

    private static Run run(String[] conn, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + conn.length];
        System.arraycopy(args, 0, all, 0, args.length);
        System.arraycopy(conn, 0, all, args.length, conn.length);
        int status = Main.execute(new PrintWriter(out), new PrintWriter(err), all);
        return new Run(status, out.toString(), err.toString());
    }
}
