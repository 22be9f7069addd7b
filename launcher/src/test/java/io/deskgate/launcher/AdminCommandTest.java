package io.deskgate.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.Secrets;
import io.deskgate.frontdoor.AdminBootstrap;
import io.deskgate.frontdoor.Frontdoor;
import io.deskgate.frontdoor.FrontdoorConfig;
import io.deskgate.store.Database;
import io.deskgate.store.EntitlementStore;
import io.deskgate.store.PoolStore;
import io.deskgate.store.RegistryTiming;
import io.deskgate.store.TenantStore;
import io.deskgate.store.UserStore;
import io.deskgate.tls.ServerTls;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deskgate admin} against real frontdoors started in-process over one embedded PostgreSQL: one on
 * plain HTTP (loopback), one on HTTPS with a self-signed certificate. No broker or engine runs (the admin API
 * needs neither).
 */
class AdminCommandTest {
    static final String ADMIN_PASSWORD = "admin-password-for-the-cli";
    @TempDir static Path dir;
    static Database db;
    static Frontdoor plain;
    static Frontdoor tls;
    /**
     * Takes the failed logins, on a store of its own: the login throttle is the store's (shared by every frontdoor
     * on it), so failures counted against 127.0.0.1 there would slow the other tests' logins down.
     */
    static Frontdoor failures;
    static Database failuresDb;
    static Path pem;
    static Path passwordFile;
    static Path userPasswordFile;

    @BeforeAll
    static void start() throws Exception {
        db = Database.embedded(dir.resolve("data"));
        UserStore users = new UserStore(db.dataSource());
        AdminBootstrap.ensureAdmin(users, Optional.of(ADMIN_PASSWORD));
        AdminBootstrap.ensureDefaultPool(users, new PoolStore(db.dataSource()), new EntitlementStore(db.dataSource()),
                List.of("agent-1"));
        byte[] key = Secrets.randomBytes(32);
        byte[] master = Secrets.randomBytes(32);
        byte[] control = Secrets.randomBytes(32);
        plain = Frontdoor.start(FrontdoorConfig.builder().dataDir(dir.resolve("fd1")).port(0).build(), db, key, master, control,
                "127.0.0.1:9", RegistryTiming.DEFAULT);
        pem = ServerTls.selfSignedPem("127.0.0.1", dir.resolve("fd2"));
        tls = Frontdoor.start(FrontdoorConfig.builder().dataDir(dir.resolve("fd2")).port(0).tlsPem(pem).build(), db, key, master, control,
                "127.0.0.1:9", RegistryTiming.DEFAULT);
        failuresDb = Database.embedded(dir.resolve("data-failures"));
        AdminBootstrap.ensureAdmin(new UserStore(failuresDb.dataSource()), Optional.of(ADMIN_PASSWORD));
        failures = Frontdoor.start(FrontdoorConfig.builder().dataDir(dir.resolve("fd3")).port(0).build(), failuresDb, key, master,
                control, "127.0.0.1:9", RegistryTiming.DEFAULT);
        passwordFile = Files.writeString(dir.resolve("admin-pw"), ADMIN_PASSWORD + "\n");
        userPasswordFile = Files.writeString(dir.resolve("user-pw"), "hannah-password\n");
    }

    @AfterAll
    static void stop() {
        if (failures != null) failures.close();
        if (failuresDb != null) failuresDb.close();
        if (tls != null) tls.close();
        if (plain != null) plain.close();
        if (db != null) db.close();
    }

    record Run(int status, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(status, out.toString(), err.toString());
    }

    /** {@code deskgate admin <args> --url <plain> --password-file <file>}. */
    static Run admin(String... args) {
        List<String> all = new ArrayList<>(List.of("admin"));
        all.addAll(List.of(args));
        all.addAll(List.of("--url", plain.url().toString(), "--password-file", passwordFile.toString()));
        return run(all.toArray(String[]::new));
    }

    static void succeeds(Run r) {
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
    }

    /** Exit status {@code status} and exactly one {@code deskgate: ...} line on stderr containing {@code part}. */
    static void fails(Run r, int status, String part) {
        assertThat(r.status()).as(r.out() + r.err()).isEqualTo(status);
        assertThat(r.err().lines().toList()).hasSize(1).first().asString().startsWith("deskgate: ").contains(part);
    }

    @Test
    void shouldAddListAndRemoveUsersAndPrintATable() {
        Run added = run("admin", "user", "add", "hannah", "--user-password-file", userPasswordFile.toString(),
                "--url", plain.url().toString(), "--password-file", passwordFile.toString());
        succeeds(added);
        assertThat(added.out()).contains("added user hannah to tenant default");
        assertThat(new UserStore(db.dataSource()).find(1, "hannah").orElseThrow().passwordHash()).startsWith("$argon2id$");

        Run list = admin("user", "list");
        succeeds(list);
        List<String> lines = list.out().lines().toList();
        assertThat(lines.getFirst()).matches("USER +ADMIN +CREATED");
        assertThat(lines).anyMatch(l -> l.matches("admin +yes +\\S+")).anyMatch(l -> l.matches("hannah +no +\\S+"));

        fails(run("admin", "user", "add", "hannah", "--user-password-file", userPasswordFile.toString(),
                "--url", plain.url().toString(), "--password-file", passwordFile.toString()), 1, "user hannah already exists in this tenant (HTTP 409)");
        succeeds(admin("user", "remove", "hannah"));
        assertThat(admin("user", "list").out()).doesNotContain("hannah");
        fails(admin("user", "remove", "hannah"), 1, "no user hannah in tenant default (HTTP 404)");
    }

    @Test
    void shouldAddPoolsAndEntitleUsers() {
        succeeds(admin("tenant", "add", "cli-corp"));
        assertThat(admin("tenant", "list").out()).containsPattern("(?m)^\\d+ +cli-corp +\\S+$");
        Run pool = admin("pool", "add", "render", "--agent", "agent-2", "--agent", "agent-3", "--label", "gpu",
                "--assignment", "persistent", "--keep-on-logout", "--tenant", "cli-corp");
        succeeds(pool);
        assertThat(pool.out()).contains("added pool render to tenant cli-corp");
        run("admin", "user", "add", "ivan", "--tenant", "cli-corp", "--user-password-file", userPasswordFile.toString(),
                "--url", plain.url().toString(), "--password-file", passwordFile.toString());
        Run entitled = admin("entitle", "ivan", "render", "--tenant", "cli-corp");
        succeeds(entitled);
        assertThat(entitled.out()).contains("entitled ivan to pool render");
        assertThat(admin("entitle", "ivan", "render", "--tenant", "cli-corp").out()).contains("already entitled");

        Run pools = admin("pool", "list", "--tenant", "cli-corp");
        succeeds(pools);
        assertThat(pools.out().lines().toList()).first().asString().matches("POOL +AGENTS +LABELS +ASSIGNMENT +RESET +USERS");
        assertThat(pools.out()).containsPattern("(?m)^render +agent-2,agent-3 +gpu +persistent +no +ivan$");
        assertThat(admin("pool", "list").out()).as("the default tenant's pools").containsPattern("(?m)^default +agent-1 +- +floating +yes +admin");

        fails(admin("entitle", "ivan", "render"), 1, "no user ivan in this tenant");
        fails(admin("entitle", "ivan", "nope", "--tenant", "cli-corp"), 1, "no pool nope");
        succeeds(admin("entitle", "ivan", "render", "--tenant", "cli-corp", "--revoke"));
        assertThat(new EntitlementStore(db.dataSource()).pools(new TenantStore(db.dataSource()).require("cli-corp").id(), "ivan")).isEmpty();
        fails(admin("pool", "add", "empty"), 1, "must name at least one agent or label");
    }

    @Test
    void shouldTrustThePortalsCertificateGivenWithCacert() {
        Run list = run("admin", "user", "list", "--url", tls.url().toString(), "--cacert", pem.toString(),
                "--password-file", passwordFile.toString());
        succeeds(list);
        assertThat(tls.url().getScheme()).isEqualTo("https");
        assertThat(list.out()).contains("admin");
        fails(run("admin", "user", "list", "--url", tls.url().toString(), "--password-file", passwordFile.toString()), 1,
                "cannot reach the portal");
    }

    @Test
    void shouldFailWithOneLineForEveryKindOfBadUse() throws Exception {
        fails(run("admin", "user", "list", "--url", plain.url().toString()), 1,
                "the administrator's password is not given: use --password-file FILE or $DESKGATE_ADMIN_PASSWORD");
        Path wrong = Files.writeString(dir.resolve("wrong-pw"), "not-the-password");
        fails(run("admin", "user", "list", "--url", failures.url().toString(), "--password-file", wrong.toString()), 1,
                "login as admin failed");
        fails(run("admin", "user", "list", "--url", "http://192.0.2.1:8443/", "--password-file", passwordFile.toString()), 1,
                "plain http is allowed to a loopback address only");
        fails(run("admin", "user", "list", "--url", plain.url().toString(), "--password-file", passwordFile.toString(),
                "--cacert", pem.toString()), 1, "--cacert needs an https:// URL");
        fails(run("admin", "user", "list", "--url", failures.url().toString(), "--password-file", passwordFile.toString(),
                "--admin-user", "nobody"), 1, "login as nobody failed");
        fails(run("admin", "user", "add", "x", "--url", plain.url().toString(), "--password-file", passwordFile.toString()), 1,
                "the new user's password is not given");
        fails(run("admin", "user", "add"), 2, "Missing required parameter");
        fails(run("admin", "user", "list", "--password", "x"), 2, "Unknown option");
        fails(admin("user", "list", "--tenant", "nowhere"), 1, "no tenant nowhere (HTTP 404)");
    }
}
