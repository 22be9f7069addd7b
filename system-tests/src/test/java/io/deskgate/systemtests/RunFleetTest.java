package io.deskgate.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.store.Database;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.RegistryStore;
import io.deskgate.store.Role;
import io.deskgate.testkit.DebianPostgres;
import io.deskgate.testkit.DeskgateProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every role its own process (issue 8 items 1-3): Debian's PostgreSQL as the one store, then frontdoor,
 * broker, engine and gateway each started with {@code ./deskgate run <role> --config FILE} on free ports.
 * Each appears live in the registry, the frontdoor's /healthz reports the engine and the gateway up; a
 * second broker with the same id is refused while the first heartbeats; and a gateway killed with SIGKILL
 * (no deregistration) drops out of the registry after the timeout. No agent, so no Xvnc.
 */
class RunFleetTest {
    private static final Duration START = Duration.ofSeconds(120);
    private static final Duration TIMEOUT = Duration.ofSeconds(3);

    @TempDir
    Path tmp;

    @Test
    void shouldRunEachRoleAsItsOwnProcessFindEachOtherInTheRegistryAndDropAKilledOne() throws Exception {
        try (DebianPostgres pg = DebianPostgres.start()) {
            Path password = tmp.resolve("store-password");
            Files.writeString(password, pg.password() + "\n");
            Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));
            String common = "data: " + tmp.resolve("data") + "\nstore:\n  url: " + pg.jdbcUrl() + "\n  user: " + pg.user()
                    + "\n  password-file: " + password + "\nregistry:\n  heartbeat-interval: 500ms\n  timeout: 3s\n";
            Path frontdoor = Files.writeString(tmp.resolve("frontdoor.yaml"), common + "frontdoor:\n  id: fd-1\n  port: 0\n");
            Path broker = Files.writeString(tmp.resolve("broker.yaml"), common + "broker:\n  id: br-1\n  grpc-port: 0\n");
            Path engine = Files.writeString(tmp.resolve("engine.yaml"), common + "engine:\n  engine-id: en-1\n  grpc-port: 0\n");
            Path gateway = Files.writeString(tmp.resolve("gateway.yaml"), common
                    + "gateway:\n  id: gw-1\n  ws-port: 0\n  udp-port: 0\n");

            List<DeskgateProcess> fleet = new ArrayList<>();
            try (Database db = Database.external(pg.jdbcUrl(), pg.user(), pg.password())) {
                RegistryStore registry = new RegistryStore(db.dataSource());
                DeskgateProcess gw = null;
                for (Path config : List.of(engine, gateway, broker, frontdoor)) {
                    String role = config.getFileName().toString().replace(".yaml", "");
                    DeskgateProcess p = DeskgateProcess.start(DeskgateProcess.repoRoot(), "run", role, "--config", config.toString());
                    fleet.add(p);
                    p.awaitLine(l -> l.startsWith("Deskgate " + role + " ") && l.contains(" is up: "), START);
                    if (role.equals("gateway")) gw = p;
                }
                for (Role role : List.of(Role.ENGINE, Role.GATEWAY, Role.BROKER, Role.FRONTDOOR)) {
                    assertThat(registry.live(role, TIMEOUT)).as("%s live in the registry", role).hasSize(1);
                }
                URI portal = URI.create(registry.live(Role.FRONTDOOR, TIMEOUT).getFirst().address(RegistryEntry.HTTP).orElseThrow());
                HttpClient http = HttpClient.newHttpClient();
                await(() -> get(http, portal.resolve("/healthz")).statusCode() == 200, "/healthz ok");
                assertThat(get(http, portal.resolve("/healthz")).body()).contains("\"engine:en-1\":\"up\"")
                        .contains("\"gateway:gw-1\":\"up\"").contains("\"broker\":\"up\"");

                // A second broker under br-1 waits one timeout for the first's row, which keeps heartbeating: refused.
                try (DeskgateProcess second = DeskgateProcess.start(DeskgateProcess.repoRoot(), "run", "broker", "--config",
                        broker.toString())) {
                    assertThat(second.process().waitFor(START.toSeconds(), TimeUnit.SECONDS)).isTrue();
                    assertThat(second.process().exitValue()).isEqualTo(1);
                    assertThat(second.lines().stream().filter(l -> l.startsWith("deskgate: ")).toList()).hasSize(1)
                            .first().asString().contains("br-1");
                    assertThat(second.lines()).noneMatch(l -> l.startsWith("\tat "));
                }
                assertThat(registry.live(Role.BROKER, TIMEOUT)).as("the first broker is untouched").hasSize(1);

                // SIGKILL: no deregistration; the row stops being fresh and drops out after the timeout.
                gw.process().destroyForcibly();
                assertThat(gw.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
                await(() -> registry.live(Role.GATEWAY, TIMEOUT).isEmpty(), "the killed gateway leaves the registry");
                await(() -> get(http, portal.resolve("/healthz")).statusCode() == 503, "/healthz down without a gateway");
                assertThat(registry.live(Role.ENGINE, TIMEOUT)).as("the others stay").hasSize(1);
            } finally {
                for (DeskgateProcess p : fleet.reversed()) {
                    if (p.process().isAlive()) assertThat(p.stop(Duration.ofSeconds(30))).isIn(0, 130, 143);
                    p.close();
                }
            }
        }
    }

    private static HttpResponse<String> get(HttpClient http, URI uri) {
        try {
            return http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + START.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("not within " + START + ": " + what);
            TimeUnit.MILLISECONDS.sleep(100); // polling a condition under a generous deadline
        }
    }
}
