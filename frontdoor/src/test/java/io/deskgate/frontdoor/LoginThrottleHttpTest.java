package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.store.AuditLog;
import java.net.InetAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
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

    @Test
    void twoHundredConcurrentWrongPasswordsRunAtMostTheLimitOfPasswordChecksAndNo503(@TempDir Path dir) throws Exception {
        try (FrontdoorFixture f = new FrontdoorFixture(dir)) {
            double checksBefore = f.metric("deskgate_frontdoor_password_checks_total");
            List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
            HttpClient http = HttpClient.newBuilder().executor(Executors.newVirtualThreadPerTaskExecutor()).build();
            for (int i = 0; i < 200; i++) {
                answers.add(http.sendAsync(HttpRequest.newBuilder(f.url().resolve("/api/login"))
                        .header("Content-Type", "application/json").timeout(Duration.ofSeconds(60))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"username\":\"alice\",\"password\":\"guess-" + i + "\"}"))
                        .build(), HttpResponse.BodyHandlers.ofString()));
            }
            Map<Integer, Long> byStatus = new TreeMap<>();
            for (CompletableFuture<HttpResponse<String>> a : answers) byStatus.merge(a.get(90, TimeUnit.SECONDS).statusCode(), 1L, Long::sum);
            double checks = f.metric("deskgate_frontdoor_password_checks_total") - checksBefore;
            assertThat(checks).as("password checks run (answers %s)", byStatus)
                    .isLessThanOrEqualTo(LoginAttempts.USERNAME_POLICY.maxFailures());
            assertThat(byStatus).as("answers by status").containsOnlyKeys(401, 429);
            assertThat(byStatus.get(401)).isEqualTo((long) checks);
            assertThat(login(f, "bob", "bob-pw").statusCode()).as("another user from the same address, right after")
                    .isEqualTo(200);
        }
    }

    @Test
    void aStrangersFailuresDoNotLockTheUserOutOfTheAddressesTheyLoggedInFrom(@TempDir Path dir) throws Exception {
        try (FrontdoorFixture f = new FrontdoorFixture(dir)) {
            HttpClient home = from("127.0.0.1");
            HttpClient stranger = from("127.0.0.2");
            HttpClient elsewhere = from("127.0.0.3");
            assertThat(login(home, f, "alice", "alice-pw").statusCode()).isEqualTo(200);
            for (int i = 0; i < LoginAttempts.USERNAME_POLICY.maxFailures(); i++) {
                assertThat(login(stranger, f, "alice", "guess-" + i).statusCode()).isEqualTo(401);
            }
            assertThat(login(stranger, f, "alice", "alice-pw").statusCode()).as("the stranger is blocked").isEqualTo(429);
            assertThat(login(elsewhere, f, "alice", "alice-pw").statusCode()).as("an address alice never used")
                    .isEqualTo(429);
            assertThat(login(home, f, "alice", "alice-pw").statusCode()).as("alice from her own address").isEqualTo(200);
        }
    }

    @Test
    void anAddressIsBlockedStrictlyWhateverTheUserNames(@TempDir Path dir) throws Exception {
        try (FrontdoorFixture f = new FrontdoorFixture(dir)) {
            HttpClient sprayer = from("127.0.0.4");
            int limit = LoginAttempts.ADDRESS_POLICY.maxFailures();
            for (int i = 0; i < limit; i++) {
                assertThat(login(sprayer, f, "user" + i, "pw").statusCode()).isEqualTo(401);
            }
            assertThat(login(sprayer, f, "bob", "bob-pw").statusCode()).as("even a right password").isEqualTo(429);
            assertThat(login(f, "bob", "bob-pw").statusCode()).as("bob from another address").isEqualTo(200);
        }
    }

    private static HttpClient from(String address) throws Exception {
        return HttpClient.newBuilder().localAddress(InetAddress.getByName(address)).build();
    }

    private static HttpResponse<String> login(HttpClient http, FrontdoorFixture f, String user, String password)
            throws Exception {
        return http.send(HttpRequest.newBuilder(f.url().resolve("/api/login")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"username\":\"" + user + "\",\"password\":\"" + password + "\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> login(FrontdoorFixture f, String user, String password) throws Exception {
        return f.send("POST", "/api/login", "{\"username\":\"" + user + "\",\"password\":\"" + password + "\"}", null);
    }
}
