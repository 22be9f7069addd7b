package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.Secrets;
import io.deskgate.store.Database;
import io.deskgate.store.RegistryHeartbeat;
import io.deskgate.store.EntitlementStore;
import io.deskgate.store.PoolStore;
import io.deskgate.store.UserStore;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Engine selection from the registry against real gRPC servers, one of them gone; and a control plane
 * that does not accept the frontdoor's credential counts as unreachable.
 */
class EngineDownTest {

    @Test
    void unreachableEngineIsSkippedAndNoReachableEngineIs502WithoutReservingADesktop(@TempDir Path dir) throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        try (Database db = Database.embedded(dir); FakeControlPlane control = new FakeControlPlane()) {
            new UserStore(db.dataSource()).create(1, "alice", new PasswordHasher().hash("pw"), false);
            entitleToDefaultPool(db);
            HttpClient http = HttpClient.newHttpClient();
            // The dead engine still heartbeats (it died within the timeout) and reports the lower load: tried first.
            try (RegistryHeartbeat gw = FrontdoorFixture.gateway(db, "gw", "ws://127.0.0.1:1/s", "127.0.0.1:40000");
                 RegistryHeartbeat dead = FrontdoorFixture.engine(db, "dead", "127.0.0.1:" + deadPort, () -> 0);
                 RegistryHeartbeat alive = FrontdoorFixture.engine(db, "alive", control.engineTarget(), () -> 1);
                 Frontdoor fd = Frontdoor.start(FrontdoorConfig.builder().dataDir(dir).port(0).build(), db, Secrets.randomBytes(32),
                    Secrets.randomBytes(32), FakeControlPlane.CONTROL_SECRET, control.brokerTarget(), FrontdoorFixture.TIMING)) {
                String cookie = login(http, fd.url());
                HttpResponse<String> ok = post(http, fd.url(), cookie);
                assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
                assertThat(control.launches).hasSize(1);
            }
            control.reset();
            try (RegistryHeartbeat gw = FrontdoorFixture.gateway(db, "gw", "ws://127.0.0.1:1/s", "127.0.0.1:40000");
                 RegistryHeartbeat dead = FrontdoorFixture.engine(db, "dead", "127.0.0.1:" + deadPort, () -> 0);
                 Frontdoor fd = Frontdoor.start(FrontdoorConfig.builder().dataDir(dir).port(0).build(), db, Secrets.randomBytes(32),
                    Secrets.randomBytes(32), FakeControlPlane.CONTROL_SECRET, control.brokerTarget(), FrontdoorFixture.TIMING)) {
                HttpResponse<String> r = post(http, fd.url(), login(http, fd.url()));
                assertThat(r.statusCode()).isEqualTo(502);
                assertThat(r.body()).contains("UPSTREAM_UNAVAILABLE").contains("requestId").doesNotContain("dead");
                assertThat(control.finds).as("no desktop reserved").isEmpty();
            }
        }
    }

    @Test
    void controlPlaneWithAnotherControlSecretRefusesTheFrontdoorAndTheLaunchIs502(@TempDir Path dir) throws Exception {
        try (Database db = Database.embedded(dir); FakeControlPlane control = new FakeControlPlane()) {
            new UserStore(db.dataSource()).create(1, "alice", new PasswordHasher().hash("pw"), false);
            entitleToDefaultPool(db);
            HttpClient http = HttpClient.newHttpClient();
            try (RegistryHeartbeat gw = FrontdoorFixture.gateway(db, "gw", "ws://127.0.0.1:1/s", "127.0.0.1:40000");
                 RegistryHeartbeat e = FrontdoorFixture.engine(db, "e", control.engineTarget(), () -> 0);
                 Frontdoor fd = Frontdoor.start(FrontdoorConfig.builder().dataDir(dir).port(0).build(), db, Secrets.randomBytes(32),
                    Secrets.randomBytes(32), Secrets.randomBytes(32), control.brokerTarget(), FrontdoorFixture.TIMING)) {
                HttpResponse<String> r = post(http, fd.url(), login(http, fd.url()));
                assertThat(r.statusCode()).isEqualTo(502);
                assertThat(control.finds).as("no desktop reserved").isEmpty();
                assertThat(control.launches).isEmpty();
            }
            assertThatThrownBy(() -> Frontdoor.start(FrontdoorConfig.builder().dataDir(dir).port(0).build(), db, Secrets.randomBytes(32),
                    Secrets.randomBytes(32), new byte[0], control.brokerTarget(), FrontdoorFixture.TIMING))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no control secret configured");
        }
    }

    private static String login(HttpClient http, URI base) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/api/login"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"username\":\"alice\",\"password\":\"pw\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        String c = r.headers().firstValue("Set-Cookie").orElseThrow();
        return c.substring(0, c.indexOf(';'));
    }

    private static HttpResponse<String> post(HttpClient http, URI base, String cookie) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve("/api/sessions")).header("Cookie", cookie)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The default pool of agent-1's desktops, with alice entitled (as deskgate up makes it). */
    private static void entitleToDefaultPool(Database db) {
        AdminBootstrap.ensureDefaultPool(new UserStore(db.dataSource()), new PoolStore(db.dataSource()),
                new EntitlementStore(db.dataSource()), List.of(FakeControlPlane.AGENT));
    }
}
