package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.Secrets;
import io.deskgate.store.Database;
import io.deskgate.store.EntitlementStore;
import io.deskgate.store.PoolStore;
import io.deskgate.store.RegistryHeartbeat;
import io.deskgate.store.UserStore;
import io.deskgate.testkit.Conditions;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A frontdoor started without a fixed broker finds its brokers in the registry (issue 8 item 2): none
 * registered is a clear upstream error and a down broker in /healthz; a registered one serves the launch,
 * and of two the least loaded live one is asked.
 */
class BrokerFromRegistryTest {

    @Test
    void shouldAskTheLeastLoadedLiveBrokerAndRefuseWhenNoneIsRegistered(@TempDir Path dir) throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        try (Database db = Database.embedded(dir); FakeControlPlane control = new FakeControlPlane()) {
            new UserStore(db.dataSource()).create(1, "alice", new PasswordHasher().hash("pw"), false);
            // As deskgate up does: the default pool of agent-1's desktops, with alice entitled.
            AdminBootstrap.ensureDefaultPool(new UserStore(db.dataSource()), new PoolStore(db.dataSource()),
                    new EntitlementStore(db.dataSource()), List.of(FakeControlPlane.AGENT));
            HttpClient http = HttpClient.newHttpClient();
            try (RegistryHeartbeat gw = FrontdoorFixture.gateway(db, "gw", "ws://127.0.0.1:1/s", "127.0.0.1:40000");
                 RegistryHeartbeat e = FrontdoorFixture.engine(db, "e", control.engineTarget(), () -> 0);
                 Frontdoor fd = Frontdoor.start(FrontdoorConfig.builder().dataDir(dir).port(0).build(), db, Secrets.randomBytes(32),
                         Secrets.randomBytes(32), FakeControlPlane.CONTROL_SECRET, FrontdoorFixture.TIMING)) {
                String cookie = login(http, fd.url());
                HttpResponse<String> none = post(http, fd.url(), cookie);
                assertThat(none.statusCode()).as(none.body()).isEqualTo(502);
                assertThat(none.body()).as("the reason stays in the log").contains("UPSTREAM_UNAVAILABLE");
                assertThat(control.finds).isEmpty();
                HttpResponse<String> health = get(http, fd.url().resolve("/healthz"));
                assertThat(health.statusCode()).isEqualTo(503);
                assertThat(FrontdoorFixture.json(health).get("down").toString()).contains("broker");

                // The busier broker is a dead port: were it asked, the launch would fail.
                try (RegistryHeartbeat busy = FrontdoorFixture.broker(db, "busy", "127.0.0.1:" + deadPort, () -> 200);
                     RegistryHeartbeat idle = FrontdoorFixture.broker(db, "idle", control.brokerTarget(), () -> 0)) {
                    // the frontdoor's view of the registry shows new brokers at its next refresh (docs/architecture.md)
                    Conditions.await("the frontdoor's view lists both brokers", Duration.ofSeconds(60),
                            () -> fd.roles().view().brokers().size() == 2);
                    HttpResponse<String> ok = post(http, fd.url(), cookie);
                    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
                    assertThat(control.finds).hasSize(1);
                    assertThat(fd.launching()).as("no launch is being served now").isZero();
                }
            }
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

    private static HttpResponse<String> get(HttpClient http, URI uri) throws Exception {
        return http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}
