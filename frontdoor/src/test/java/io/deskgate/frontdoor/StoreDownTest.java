package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.deskgate.common.Secrets;
import io.deskgate.store.Database;
import io.deskgate.store.RegistryHeartbeat;
import io.deskgate.store.UserStore;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store stops under a running frontdoor: /healthz says so within seconds, API calls answer 503 at
 * once instead of hanging, and once the store is back everything works again, the old login included.
 */
class StoreDownTest {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void storeDownIsReportedAndRefusedQuicklyAndRecovers(@TempDir Path dir) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        EmbeddedPostgres pg = startPostgres(dir, port);
        try (ServerSocket gateway = FrontdoorFixture.acceptingSocket();
             FakeControlPlane control = new FakeControlPlane();
             Database db = Database.external("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", "")) {
            new UserStore(db.dataSource()).create(1, "alice", new PasswordHasher().hash("alice-pw"), false);
            try (RegistryHeartbeat engineRow = FrontdoorFixture.engine(db, "engine-1", control.engineTarget(), () -> 0);
                 RegistryHeartbeat gatewayRow = FrontdoorFixture.gateway(db, "gateway-1",
                         "ws://127.0.0.1:" + gateway.getLocalPort() + "/s", "127.0.0.1:40000");
                 Frontdoor fd = Frontdoor.start(FrontdoorConfig.builder().dataDir(dir).port(0).metricsPort(0).build(), db, Secrets.randomBytes(32),
                    Secrets.randomBytes(32), FakeControlPlane.CONTROL_SECRET, control.brokerTarget(), FrontdoorFixture.TIMING)) {
                String cookie = login(fd);
                assertThat(get(fd, "/healthz", null).statusCode()).isEqualTo(200);

                pg.close();
                long stopped = System.nanoTime();
                HttpResponse<String> down = await(fd, "/healthz", r -> r.statusCode() == 503, Duration.ofSeconds(30));
                assertThat(Duration.ofNanos(System.nanoTime() - stopped)).as("noticed within a few seconds")
                        .isLessThan(Duration.ofSeconds(10));
                JsonNode body = Json.MAPPER.readTree(down.body());
                assertThat(body.get("status").asText()).isEqualTo("down");
                assertThat(body.get("down").toString()).isEqualTo("[\"store\"]");

                long t0 = System.nanoTime();
                HttpResponse<String> me = get(fd, "/api/me", cookie);
                HttpResponse<String> loginWhileDown = post(fd, "/api/login", "{\"username\":\"alice\",\"password\":\"alice-pw\"}");
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("API answers fast").isLessThan(Duration.ofSeconds(2));
                assertThat(me.statusCode()).isEqualTo(503);
                assertThat(loginWhileDown.statusCode()).isEqualTo(503);
                assertThat(me.headers().firstValue("Retry-After")).isPresent();
                assertThat(Json.MAPPER.readTree(me.body()).get("status").asText()).isEqualTo("STORE_UNAVAILABLE");
                String metrics = http.send(HttpRequest.newBuilder(fd.metricsUrl().orElseThrow()).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertThat(metrics).as("both refusals counted; the scrape answers while the store is down")
                        .contains("deskgate_errors_total{kind=\"store_unavailable\",role=\"frontdoor\"} 2.0")
                        .contains("deskgate_frontdoor_portal_sessions_active NaN");

                pg = startPostgres(dir, port);
                await(fd, "/healthz", r -> r.statusCode() == 200, Duration.ofSeconds(60));
                assertThat(get(fd, "/api/me", cookie).statusCode()).as("the old login survives").isEqualTo(200);
                assertThat(login(fd)).startsWith("deskgate_login=");
            }
        } finally {
            pg.close();
        }
    }

    private static EmbeddedPostgres startPostgres(Path dir, int port) throws Exception {
        return EmbeddedPostgres.builder().setDataDirectory(dir.resolve("pg")).setCleanDataDirectory(false).setPort(port)
                .start();
    }

    private HttpResponse<String> await(Frontdoor fd, String path, Predicate<HttpResponse<String>> until, Duration within)
            throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        HttpResponse<String> r = get(fd, path, null);
        while (!until.test(r)) {
            if (System.nanoTime() > deadline) throw new AssertionError(path + " still answers " + r.statusCode() + " " + r.body());
            Thread.sleep(100);
            r = get(fd, path, null);
        }
        return r;
    }

    private String login(Frontdoor fd) throws Exception {
        HttpResponse<String> r = post(fd, "/api/login", "{\"username\":\"alice\",\"password\":\"alice-pw\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String c = r.headers().firstValue("Set-Cookie").orElseThrow();
        return c.substring(0, c.indexOf(';'));
    }

    private HttpResponse<String> get(Frontdoor fd, String path, String cookie) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(fd.url().resolve(path)).timeout(Duration.ofSeconds(20));
        if (cookie != null) b.header("Cookie", cookie);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(Frontdoor fd, String path, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(fd.url().resolve(path)).timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
