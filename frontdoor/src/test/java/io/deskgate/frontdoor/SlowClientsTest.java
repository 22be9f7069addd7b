package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.testkit.SlowClients;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 300 unauthenticated connections that send a login's headers and trickle its body (more than Jetty's
 * default thread pool) hold no request thread: a real login, the desktop list and /healthz answer in their
 * normal time meanwhile. Own frontdoor: the attack would disturb other tests.
 */
class SlowClientsTest {
    static final int CONNECTIONS = 300;
    /** Generous for a busy machine; without the limits these calls never answer while the attack runs. */
    static final Duration NORMAL = Duration.ofSeconds(10);

    @Test
    void halfSentBodiesDoNotFreezeThePortal(@TempDir Path dir) throws Exception {
        try (FrontdoorFixture f = new FrontdoorFixture(dir)) {
            InetSocketAddress portal = new InetSocketAddress("127.0.0.1", f.url().getPort());
            try (SlowClients attack = SlowClients.start(portal, "/api/login", CONNECTIONS, Duration.ofSeconds(1))) {
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (attack.ticks() < 3 && System.nanoTime() < deadline) Thread.sleep(50);
                assertThat(attack.ticks()).as("the attack is running").isGreaterThanOrEqualTo(3);
                for (int round = 0; round < 3; round++) {
                    long t0 = System.nanoTime();
                    String cookie = f.login("alice", "alice-pw");
                    HttpResponse<String> desktops = f.send("GET", "/api/desktops", null, cookie);
                    HttpResponse<String> health = f.send("GET", "/healthz", null, null);
                    Duration took = Duration.ofNanos(System.nanoTime() - t0);
                    assertThat(desktops.statusCode()).isEqualTo(200);
                    assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
                    assertThat(took).as("login + desktops + healthz under attack (round %d, %d open)", round,
                            attack.openNow()).isLessThan(NORMAL);
                }
                assertThat(attack.openNow()).as("the slow connections were really open").isGreaterThan(CONNECTIONS / 2);
                // A steady trickle (one byte a second, never silent for the idle timeout) still loses its connection.
                long closedBy = System.nanoTime() + JettyLimits.BODY_DEADLINE.plusSeconds(20).toNanos();
                while (attack.reopened() < CONNECTIONS / 2 && System.nanoTime() < closedBy) Thread.sleep(100);
                assertThat(attack.reopened()).as("connections closed at the body deadline").isGreaterThanOrEqualTo(CONNECTIONS / 2);
            }
        }
    }
}
