package io.deskgate.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.DeskgateException;
import io.deskgate.store.Database;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.RegistryStore;
import io.deskgate.store.Role;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deskgate run <role> --config FILE} (issue 8 items 1-3): the command line and the config file's
 * errors (one line; exit 2 for a bad command line or file, 1 for a start that fails), and a fleet of
 * frontdoor, broker, engine and gateway started in this JVM exactly as {@code run} starts each in its own
 * process, on one external store (an embedded PostgreSQL reached by URL, as a fleet reaches its server).
 */
class RunCommandTest {
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    /** Runs the CLI with stderr captured; returns the exit status and the captured lines. */
    private record Result(int status, List<String> err) {}

    private static synchronized Result cli(String... args) {
        PrintStream before = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            int status = Main.execute(args);
            return new Result(status, captured.toString(StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList());
        } finally {
            System.setErr(before);
        }
    }

    private Path config(String name, String yaml) throws Exception {
        return Files.writeString(tmp.resolve(name), yaml);
    }

    private Path ownerOnlyPasswordFile(String password) throws Exception {
        Path f = tmp.resolve("store-password");
        Files.writeString(f, password + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    @Test
    void shouldRefuseAnUnknownRoleAndAMissingConfigAsUsageErrors() throws Exception {
        Path file = config("fleet.yaml", "data: " + tmp.resolve("data") + "\n");
        Result unknown = cli("run", "portal", "--config", file.toString());
        assertThat(unknown.status()).isEqualTo(2);
        assertThat(unknown.err().getFirst()).contains("unknown role 'portal'").contains("frontdoor, broker, concentrator, agent, engine, gateway");

        Result concentrator = cli("run", "concentrator", "--config", file.toString());
        assertThat(concentrator.status()).as("the concentrator is a role run knows; this file has no store").isEqualTo(2);
        assertThat(String.join("\n", concentrator.err())).contains("deskgate run needs a store section");

        Result noConfig = cli("run", "engine");
        assertThat(noConfig.status()).isEqualTo(2);
        assertThat(String.join("\n", noConfig.err())).contains("--config");
    }

    @Test
    void shouldExitTwoWithOneLineForABadConfigFile() throws Exception {
        Path noStore = config("no-store.yaml", "engine:\n  grpc-port: 0\n");
        Result r = cli("run", "engine", "--config", noStore.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).hasSize(1);
        assertThat(r.err().getFirst()).isEqualTo("deskgate: " + noStore + ": deskgate run needs a store section (url, user,"
                + " and password-file or password-env): every role of a fleet shares one external store");

        Path withPassword = config("pw-url.yaml", "store:\n  url: jdbc:postgresql://db:5432/dg?password=hunter2\n  user: dg\n"
                + "  password-env: DG_PW\n");
        r = cli("run", "broker", "--config", withPassword.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).hasSize(1);
        assertThat(r.err().getFirst()).startsWith("deskgate: " + withPassword + " line 2: store.url: url must not carry a user or password")
                .doesNotContain("hunter2");

        Path twoSources = config("two.yaml", "store:\n  url: jdbc:postgresql://db:5432/dg\n  user: dg\n  password-env: DG_PW\n"
                + "  password-file: /etc/pw\n");
        r = cli("run", "gateway", "--config", twoSources.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err().getFirst()).contains("give exactly one of password-file and password-env");

        Path badTiming = config("timing.yaml", "store:\n  url: jdbc:postgresql://db:5432/dg\n  user: dg\n  password-env: DG_PW\n"
                + "registry:\n  heartbeat-interval: 2s\n  timeout: 3s\n");
        r = cli("run", "frontdoor", "--config", badTiming.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err().getFirst()).startsWith("deskgate: " + badTiming + " line 7: registry.timeout: timeout must be at least twice");

        Path badId = config("id.yaml", "store:\n  url: jdbc:postgresql://db:5432/dg\n  user: dg\n  password-env: DG_PW\n"
                + "gateway:\n  id: 'gw one'\n");
        r = cli("run", "gateway", "--config", badId.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err().getFirst()).startsWith("deskgate: " + badId + " line 6: gateway.id: must be 1-128 letters");

        // Issue 9: a control listener off loopback without mutual TLS, refused before the store is opened.
        Path offLoopback = config("off-loopback.yaml", "store:\n  url: jdbc:postgresql://db:5432/dg\n  user: dg\n  password-env: DG_PW\n"
                + "engine:\n  bind-host: 10.0.0.5\n");
        r = cli("run", "engine", "--config", offLoopback.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).hasSize(1);
        assertThat(r.err().getFirst()).startsWith("deskgate: " + offLoopback + " line 6: engine.bind-host: engine.bind-host 10.0.0.5 is not"
                + " loopback: the control plane off loopback needs mutual TLS");
        Path halfTls = config("half-tls.yaml", "store:\n  url: jdbc:postgresql://db:5432/dg\n  user: dg\n  password-env: DG_PW\n"
                + "broker:\n  control:\n    tls:\n      ca: /nonexistent/ca.pem\n");
        r = cli("run", "broker", "--config", halfTls.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).singleElement().asString().contains("control.tls needs all of ca, cert and key");

        Path unknownKey = config("key.yaml", "store:\n  url: jdbc:postgresql://db:5432/dg\n  user: dg\n  pasword-env: DG_PW\n");
        r = cli("run", "engine", "--config", unknownKey.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err().getFirst()).startsWith("deskgate: " + unknownKey + " line 4: store.pasword-env: unknown key");
    }

    @Test
    void shouldExitOneWithOneLineWhenTheStoreCannotBeReachedOrThePasswordFileIsOpenToOthers() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        Path pw = ownerOnlyPasswordFile("secret-pw");
        Path unreachable = config("dead.yaml", "store:\n  url: jdbc:postgresql://127.0.0.1:" + deadPort + "/dg\n  user: dg\n"
                + "  password-file: " + pw + "\n");
        Result r = cli("run", "engine", "--config", unreachable.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).as("one line, no stack trace").hasSize(1);
        assertThat(r.err().getFirst()).startsWith("deskgate: cannot connect to the database at jdbc:postgresql://127.0.0.1:" + deadPort)
                .doesNotContain("secret-pw");

        Files.setPosixFilePermissions(pw, PosixFilePermissions.fromString("rw-r--r--"));
        r = cli("run", "engine", "--config", unreachable.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).containsExactly("deskgate: store password file " + pw + " is readable or writable by others (chmod 600 it)");
    }

    /** One role started as {@code run} starts it, in this JVM. */
    private static RunCommand.Running run(String role, Path file, Map<String, String> env) {
        RunCommand c = new RunCommand();
        c.role = new RunCommand.RoleConverter().convert(role);
        c.config = file;
        c.env = env;
        c.out = new PrintStream(java.io.OutputStream.nullOutputStream());
        return c.start(c.plan());
    }

    @Test
    void shouldRunEachRoleOnTheSharedStoreFindEachOtherInTheRegistryAndRefuseASecondInstanceWithTheSameId() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
            String url = pg.getJdbcUrl("postgres", "postgres");
            url = url.substring(0, url.indexOf('?') < 0 ? url.length() : url.indexOf('?'));
            Map<String, String> env = Map.of("DG_STORE_PW", "trust-auth-ignores-it", "DESKGATE_ADMIN_PASSWORD", "admin-pw-1");
            String common = "data: " + tmp.resolve("data") + "\nstore:\n  url: " + url + "\n  user: postgres\n"
                    + "  password-env: DG_STORE_PW\nregistry:\n  heartbeat-interval: 200ms\n  timeout: 1s\n";
            String metrics = "  metrics:\n    port: 0\n";
            Path file = config("fleet.yaml", common + "frontdoor:\n  id: fd-a\n  port: 0\n"
                    + "gateway:\n  id: gw-a\n  ws-port: 0\n  udp-port: 0\n" + metrics + "broker:\n  id: br-a\n" + metrics
                    + "engine:\n  engine-id: en-a\n" + metrics + "concentrator:\n  id: co-a\n  set: a\n" + metrics);
            List<RunCommand.Running> fleet = new ArrayList<>();
            try {
                // The first to start migrates the store and creates the secrets; the others read them.
                for (String role : List.of("engine", "gateway", "broker", "frontdoor", "concentrator")) fleet.add(run(role, file, env));
                RegistryStore registry = new RegistryStore(dataSourceOf(url, env));
                Duration timeout = Duration.ofSeconds(1);
                for (Role role : List.of(Role.ENGINE, Role.GATEWAY, Role.BROKER, Role.FRONTDOOR)) {
                    assertThat(registry.live(role, timeout)).as("%s live in the registry", role).hasSize(1);
                }
                RegistryEntry gateway = registry.live(Role.GATEWAY, timeout).getFirst();
                assertThat(gateway.id()).isEqualTo("gw-a");
                assertThat(gateway.address(RegistryEntry.WS)).hasValueSatisfying(ws -> assertThat(ws).startsWith("ws://127.0.0.1:"));
                assertThat(registry.live(Role.ENGINE, timeout).getFirst().id()).isEqualTo("en-a");
                List<RegistryEntry> concentrators = registry.live(Role.CONCENTRATOR, timeout);
                assertThat(concentrators).extracting(RegistryEntry::id).containsExactly("co-a");
                assertThat(concentrators.getFirst().label(RegistryEntry.SET)).hasValue("a");
                assertThat(concentrators.getFirst().address(RegistryEntry.GRPC)).hasValueSatisfying(g -> assertThat(g).startsWith("127.0.0.1:"));
                assertThat(concentrators.getFirst().load()).as("no agent reports to it yet").isZero();

                URI portal = URI.create(registry.live(Role.FRONTDOOR, timeout).getFirst().address(RegistryEntry.HTTP).orElseThrow());
                HttpClient http = HttpClient.newHttpClient();
                awaitCondition(() -> healthz(http, portal).statusCode() == 200, "the frontdoor's /healthz is ok");
                String body = healthz(http, portal).body();
                assertThat(body).contains("\"engine:en-a\":\"up\"").contains("\"gateway:gw-a\":\"up\"").contains("\"broker\":\"up\"");

                // Each role serves its own registry on its own loopback metrics port; a bad datagram moves the gateway's.
                java.net.InetSocketAddress udp = new java.net.InetSocketAddress("127.0.0.1", Integer.parseInt(gateway.address(RegistryEntry.UDP)
                        .orElseThrow().replaceAll(".*:", "")));
                try (java.nio.channels.DatagramChannel ch = java.nio.channels.DatagramChannel.open()) {
                    ch.send(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}), udp);
                }
                URI gatewayMetrics = fleet.get(1).role().metricsUrl().orElseThrow();
                assertThat(gatewayMetrics.getHost()).isEqualTo("127.0.0.1");
                awaitCondition(() -> scrape(http, gatewayMetrics).contains("deskgate_gateway_datagrams_dropped_total{reason=\"malformed\"} 1.0"),
                        "the gateway's metrics count the malformed datagram");
                assertThat(scrape(http, fleet.get(0).role().metricsUrl().orElseThrow())).contains("deskgate_engine_instances 0.0")
                        .doesNotContain("deskgate_gateway_");
                assertThat(scrape(http, fleet.get(2).role().metricsUrl().orElseThrow()))
                        .contains("deskgate_broker_placements_total{outcome=\"placed\"} 0.0");
                assertThat(scrape(http, fleet.get(4).role().metricsUrl().orElseThrow()))
                        .contains("deskgate_concentrator_agents_connected 0.0");
                assertThat(fleet.get(3).role().metricsUrl()).as("the frontdoor's is its metrics-port, off here").isEmpty();

                // A second gateway under the same id is refused while the first heartbeats: one clear error.
                assertThatThrownBy(() -> run("gateway", file, env)).isInstanceOf(DeskgateException.class)
                        .hasMessageContaining("gw-a");
                assertThat(registry.live(Role.GATEWAY, timeout)).extracting(RegistryEntry::id).containsExactly("gw-a");

                // Stopping a role deregisters it: it leaves the registry at once.
                RunCommand.Running gw = fleet.remove(1);
                gw.close();
                assertThat(registry.live(Role.GATEWAY, timeout)).isEmpty();
                awaitCondition(() -> healthz(http, portal).statusCode() == 503, "the frontdoor's /healthz is down without a gateway");
            } finally {
                for (RunCommand.Running r : fleet.reversed()) r.close();
            }
        }
    }

    private final List<Database> opened = new ArrayList<>();

    private javax.sql.DataSource dataSourceOf(String url, Map<String, String> env) {
        Database db = Database.external(url, "postgres", env.get("DG_STORE_PW"));
        opened.add(db);
        return db.dataSource();
    }

    @org.junit.jupiter.api.AfterEach
    void closeDatabases() {
        opened.forEach(Database::close);
    }

    private static String scrape(HttpClient http, URI metrics) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(metrics).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            return r.body();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static HttpResponse<String> healthz(HttpClient http, URI portal) {
        try {
            return http.send(HttpRequest.newBuilder(portal.resolve("/healthz")).GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void awaitCondition(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("not within " + DEADLINE + ": " + what);
            Thread.onSpinWait();
            try {
                Thread.sleep(50); // polling a condition with a generous deadline, not a timed assertion
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
