package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.store.AuditLog;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Own frontdoor: the blocks it sets up would disturb other tests' logins. */
class LoginThrottleHttpTest {

    @Test
    void fiveFailedLoginsBlockTheUsernameWith429EvenForTheRightPasswordAndAreAudited(@TempDir Path dir) throws Exception {
        try (FrontdoorFixture f = new FrontdoorFixture(dir)) {
            for (int i = 0; i < 5; i++) {
                assertThat(login(f, "alice", "guess-" + i).statusCode()).isEqualTo(401);
            }
            HttpResponse<String> blocked = login(f, "alice", "alice-pw");
            assertThat(blocked.statusCode()).isEqualTo(429);
            assertThat(FrontdoorFixture.json(blocked).get("status").asText()).isEqualTo("TOO_MANY_REQUESTS");
            assertThat(blocked.headers().firstValue("Retry-After").map(Long::parseLong).orElseThrow()).isBetween(1L, 30L);
            assertThat(blocked.headers().firstValue("Set-Cookie")).isEmpty();

            assertThat(login(f, "bob", "bob-pw").statusCode()).as("another user from the same address").isEqualTo(200);

            List<AuditLog.Entry> audit = new AuditLog(f.db.dataSource()).recent(1, 20);
            assertThat(audit).filteredOn(e -> e.action().equals("login.failed")).hasSize(5)
                    .allSatisfy(e -> {
                        assertThat(e.actor()).isEqualTo("alice");
                        assertThat(e.detail()).startsWith("from ").doesNotContain("guess");
                    });
        }
    }

    private static HttpResponse<String> login(FrontdoorFixture f, String user, String password) throws Exception {
        return f.send("POST", "/api/login", "{\"username\":\"" + user + "\",\"password\":\"" + password + "\"}", null);
    }
}
