package io.deskgate.systemtests;

import io.deskgate.testkit.Conditions;
import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.store.Database;
import io.deskgate.store.EntitlementStore;
import io.deskgate.store.Pool;
import io.deskgate.store.PoolStore;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.RegistryStore;
import io.deskgate.store.Role;
import io.deskgate.testkit.DebianPostgres;
import io.deskgate.testkit.DeskgateProcess;
import io.deskgate.testkit.Prerequisites;
import io.deskgate.frontdoor.PasswordHasher;
import io.deskgate.store.UserStore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import java.util.stream.Collectors;
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
 *
 * <p>And the sharded fleet (issue 8 items 4-6), every role a {@code ./deskgate run} process on Debian's
 * PostgreSQL: 2 brokers, 2 concentrator sets x 2 concentrators, 3 agents with one real Xvnc desktop each, an
 * engine, a gateway and a frontdoor. A session is opened through the portal API; then one concentrator is
 * killed with SIGKILL: its agents re-home to the other of its set (seen in the registry's loads), new sessions
 * are still brokered, and the open session's desktop is still its own (its stream token refreshes).
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

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The agent's report streams fail over at once on a dead peer, at the latest after their 15 s without an ack. */
    private static final Duration REHOME = Duration.ofSeconds(15 + 2 + 13);

    @Test
    void shouldBrokerThroughConcentratorSetsAndReHomeTheAgentsOfAKilledConcentrator() throws Exception {
        Prerequisites.require("Xvnc", "tigervnc-standalone-server");
        try (DebianPostgres pg = DebianPostgres.start()) {
            Path password = tmp.resolve("store-password");
            Files.writeString(password, pg.password() + "\n");
            Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));
            String common = "data: " + tmp.resolve("data") + "\nstore:\n  url: " + pg.jdbcUrl() + "\n  user: " + pg.user()
                    + "\n  password-file: " + password + "\nregistry:\n  heartbeat-interval: 500ms\n  timeout: 3s\n";
            Map<String, String> configs = new java.util.LinkedHashMap<>();
            for (String set : List.of("a", "b")) {
                for (int i = 1; i <= 2; i++) {
                    configs.put("concentrator-" + set + i, "concentrator:\n  id: co-" + set + i + "\n  set: " + set + "\n");
                }
            }
            for (int i = 1; i <= 2; i++) configs.put("broker-" + i, "broker:\n  id: br-" + i + "\n  placement: sharded\n");
            configs.put("engine-1", "engine:\n  engine-id: en-1\n");
            configs.put("gateway-1", "gateway:\n  id: gw-1\n  ws-port: 0\n  udp-port: 0\n");
            for (int i = 1; i <= 3; i++) {
                configs.put("agent-" + i, "agent:\n  agent-id: ag-" + i + "\n  desktops: 1\n  width: 640\n  height: 480\n"
                        + "  runtime-dir: " + tmp.resolve("run-" + i) + "\n  isolation:\n    user-prefix: dgfleet" + i + "d\n"
                        + "    first-uid: " + (64100 + 10 * i) + "\n    last-uid: " + (64100 + 10 * i + 9) + "\n");
            }
            configs.put("frontdoor-1", "frontdoor:\n  id: fd-1\n  port: 0\n");

            Map<String, DeskgateProcess> fleet = new java.util.LinkedHashMap<>();
            try (Database db = Database.external(pg.jdbcUrl(), pg.user(), pg.password())) {
                RegistryStore registry = new RegistryStore(db.dataSource());
                for (var e : configs.entrySet()) {
                    String role = e.getKey().substring(0, e.getKey().indexOf('-'));
                    Path config = Files.writeString(tmp.resolve(e.getKey() + ".yaml"), common + e.getValue());
                    DeskgateProcess p = DeskgateProcess.start(DeskgateProcess.repoRoot(), "run", role, "--config", config.toString());
                    fleet.put(e.getKey(), p);
                    p.awaitLine(l -> l.startsWith("Deskgate " + role + " ") && l.contains(" is up: "), START);
                }
                assertThat(registry.live(Role.CONCENTRATOR, TIMEOUT)).hasSize(4);
                assertThat(registry.live(Role.BROKER, TIMEOUT)).hasSize(2);
                await(() -> loads(registry).getOrDefault("a", 0) == 3 && loads(registry).getOrDefault("b", 0) == 3,
                        "every agent's desktop in both sets (registry loads " + loads(registry) + ")");

                UserStore users = new UserStore(db.dataSource());
                PasswordHasher hasher = new PasswordHasher();
                for (int i = 1; i <= 3; i++) users.create(1, "fleet-user-" + i, hasher.hash("fleet-Password-" + i), false);
                // As an operator would with `deskgate admin pool add` and `admin entitle`: one pool of the three agents.
                new PoolStore(db.dataSource()).create(1, Pool.DEFAULT_NAME, List.of("ag-1", "ag-2", "ag-3"), List.of(),
                        Pool.Assignment.FLOATING, true);
                EntitlementStore entitlements = new EntitlementStore(db.dataSource());
                for (int i = 1; i <= 3; i++) entitlements.entitle(1, "fleet-user-" + i, Pool.DEFAULT_NAME);
                URI portal = URI.create(registry.live(Role.FRONTDOOR, TIMEOUT).getFirst().address(RegistryEntry.HTTP).orElseThrow());
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
                await(() -> get(http, portal.resolve("/healthz")).statusCode() == 200, "/healthz ok");

                String first = login(http, portal, "fleet-user-1", "fleet-Password-1");
                HttpResponse<String> listed = call(http, portal, "GET", "/api/desktops", first, null);
                assertThat(listed.statusCode()).as(listed.body()).isEqualTo(200);
                assertThat(JSON.readTree(listed.body()).get("desktops")).as("three free desktops through a sharded broker").hasSize(3);
                HttpResponse<String> opened = call(http, portal, "POST", "/api/sessions", first, "{}");
                assertThat(opened.statusCode()).as(opened.body()).isEqualTo(200);
                JsonNode session = JSON.readTree(opened.body());
                String sessionId = session.get("sessionId").asText();

                // SIGKILL the busiest concentrator of set a: no deregistration, its streams just die.
                RegistryEntry doomed = registry.live(Role.CONCENTRATOR, TIMEOUT).stream()
                        .filter(e -> e.label(RegistryEntry.SET).orElseThrow().equals("a"))
                        .max(java.util.Comparator.comparingInt(RegistryEntry::load)).orElseThrow();
                assertThat(doomed.load()).as("the killed concentrator holds desktops").isPositive();
                DeskgateProcess killed = fleet.get("concentrator-a" + doomed.id().substring("co-a".length()));
                killed.process().destroyForcibly();
                assertThat(killed.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
                awaitWithin(REHOME, () -> registry.live(Role.CONCENTRATOR, TIMEOUT).stream()
                        .anyMatch(e -> !e.id().equals(doomed.id()) && e.label(RegistryEntry.SET).orElseThrow().equals("a")
                                && e.load() == 3), "the killed concentrator's agents re-home to the other of set a");
                await(() -> registry.live(Role.CONCENTRATOR, TIMEOUT).stream().noneMatch(e -> e.id().equals(doomed.id())),
                        "the killed concentrator's row drops out");

                // New sessions are still brokered, for another user, on another desktop.
                String second = login(http, portal, "fleet-user-2", "fleet-Password-2");
                HttpResponse<String> another = call(http, portal, "POST", "/api/sessions", second, "{}");
                assertThat(another.statusCode()).as(another.body()).isEqualTo(200);
                assertThat(JSON.readTree(another.body()).get("desktopId").asText()).isNotEqualTo(session.get("desktopId").asText());

                // The open session keeps its desktop: its stream token refreshes (410 would mean it is gone).
                HttpResponse<String> refreshed = call(http, portal, "POST", "/api/sessions/" + sessionId + "/token", first, "{}");
                assertThat(refreshed.statusCode()).as(refreshed.body()).isEqualTo(200);
                assertThat(JSON.readTree(refreshed.body()).get("token").asText()).isNotEmpty();
            } finally {
                for (DeskgateProcess p : new ArrayList<>(fleet.values()).reversed()) {
                    if (p.process().isAlive()) assertThat(p.stop(Duration.ofSeconds(30))).isIn(0, 130, 143);
                    p.close();
                }
            }
        }
    }

    /** Set to the sum of its live concentrators' loads (desktops held). */
    private static Map<String, Integer> loads(RegistryStore registry) {
        return registry.live(Role.CONCENTRATOR, TIMEOUT).stream().collect(Collectors.groupingBy(
                e -> e.label(RegistryEntry.SET).orElse("?"), Collectors.summingInt(RegistryEntry::load)));
    }

    private static String login(HttpClient http, URI portal, String user, String password) throws Exception {
        HttpResponse<String> r = call(http, portal, "POST", "/api/login", null,
                "{\"username\":\"" + user + "\",\"password\":\"" + password + "\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String c = r.headers().firstValue("Set-Cookie").orElseThrow();
        return c.substring(0, c.indexOf(';'));
    }

    private static HttpResponse<String> call(HttpClient http, URI portal, String method, String path, String cookie, String json)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(portal.resolve(path)).timeout(Duration.ofSeconds(60))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (!method.equals("GET")) b.header("Content-Type", "application/json");
        if (cookie != null) b.header("Cookie", cookie);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void awaitWithin(Duration limit, BooleanSupplier condition, String what) {
        Conditions.await(what, limit, condition);
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

    private static void await(BooleanSupplier condition, String what) {
        Conditions.await(what, START, condition);
    }
}
