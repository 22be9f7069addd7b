package io.deskgate.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.deskgate.testkit.Conditions;
import io.deskgate.testkit.DeskgateProcess;
import io.deskgate.testkit.Prerequisites;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * {@code deskgate up --cluster} (issue 9 item 6), started as a user starts it: 14 {@code deskgate run} processes
 * behind Debian's HAProxy on one URL, two of them agents with real Xvnc desktops. {@code deskgate status --json}
 * lists every process up; a desktop session opened through the URL is on one engine; then each frontdoor in
 * turn is killed with SIGKILL (so the one that served the session is among them): the portal session still
 * works through the URL, the desktop session keeps its engine and its stream token refreshes, and {@code up}
 * starts the killed frontdoor again (a new pid, up in the registry).
 */
class UpClusterTest {
    private static final Duration START = Duration.ofMinutes(12);
    private static final Duration RECOVER = Duration.ofMinutes(2);
    private static final String PASSWORD = "cluster-Admin-Password-1";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldServeOneUrlFromTheFleetsProcessesAndKeepEverySessionWhenAFrontdoorIsKilled() throws Exception {
        Prerequisites.require("Xvnc", "tigervnc-standalone-server");
        Prerequisites.require("haproxy", "haproxy");
        // Under target/, not the test's temporary directory: the members' logs stay there for a failure to be read.
        Path data = Path.of("target", "up-cluster-" + System.currentTimeMillis()).toAbsolutePath();
        try (DeskgateProcess up = DeskgateProcess.start(DeskgateProcess.repoRoot(), "up", "--cluster", "--port", "0",
                "--data", data.toString(), "--desktops", "2", "--admin-password", PASSWORD)) {
            URI url = up.awaitUp(START);
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

            JsonNode processes = ClusterStatus.processes(data);
            Map<String, Integer> byRole = new TreeMap<>();
            for (JsonNode p : processes) byRole.merge(p.path("role").asText(), 1, Integer::sum);
            assertThat(byRole).containsExactlyInAnyOrderEntriesOf(Map.of("balancer", 1, "frontdoor", 2, "broker", 2,
                    "concentrator", 4, "agent", 2, "engine", 2, "gateway", 2));
            for (JsonNode p : processes) {
                assertThat(p.path("health").asText()).as(p.toString()).isEqualTo("up");
                assertThat(p.path("pid").asLong()).as(p.toString()).isPositive();
            }

            String cookie = login(http, url);
            HttpResponse<String> opened = call(http, url, "POST", "/api/sessions", cookie, "{}");
            assertThat(opened.statusCode()).as(opened.body()).isEqualTo(200);
            String sessionId = JSON.readTree(opened.body()).path("sessionId").asText();
            assertThat(sessionId).isNotEmpty();
            String engine = ClusterStatus.holding(ClusterStatus.processes(data), "engine", 1);

            for (String frontdoor : List.of("fd-1", "fd-2")) {
                long pid = ClusterStatus.pidOf(ClusterStatus.processes(data), frontdoor);
                ProcessHandle.of(pid).orElseThrow().destroyForcibly();
                Conditions.await(frontdoor + " (pid " + pid + ") exits after SIGKILL", RECOVER,
                        () -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true));

                // Through the one URL, at once: the other frontdoor serves the same portal session.
                HttpResponse<String> listed = callRetryingRefused(http, url, "GET", "/api/desktops", cookie, null);
                assertThat(listed.statusCode()).as("logged in still, after %s was killed: %s", frontdoor, listed.body()).isEqualTo(200);
                HttpResponse<String> token = callRetryingRefused(http, url, "POST", "/api/sessions/" + sessionId + "/token", cookie, "{}");
                assertThat(token.statusCode()).as("the desktop session lives on: %s", token.body()).isEqualTo(200);
                assertThat(ClusterStatus.holding(ClusterStatus.processes(data), "engine", 1)).as("the session's engine").isEqualTo(engine);

                Conditions.await("up starts " + frontdoor + " again", RECOVER, () -> {
                    JsonNode now = ClusterStatus.processes(data);
                    JsonNode row = ClusterStatus.find(now, frontdoor);
                    return row != null && row.path("health").asText().equals("up") && row.path("pid").asLong() != pid;
                });
            }

            // Ctrl-C stops every member, the balancer and PostgreSQL (which pg_ctl runs outside up's process tree).
            List<Long> pids = new ArrayList<>();
            for (JsonNode p : ClusterStatus.processes(data)) pids.add(p.path("pid").asLong());
            assertThat(up.stop(RECOVER)).as("up's exit status after SIGTERM").isIn(0, 130, 143);
            for (long pid : pids) {
                assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("pid %d after up stopped", pid).isFalse();
            }
            assertThat(ProcessHandle.allProcesses().filter(h -> h.info().commandLine().orElse("").contains(data.toString())))
                    .as("no process of the cluster's data directory is left").isEmpty();
        }
        // Kept for reading only when the test failed.
        deleteTree(data);
    }

    static void deleteTree(Path dir) throws IOException {
        try (java.util.stream.Stream<Path> paths = java.nio.file.Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) java.nio.file.Files.deleteIfExists(p);
        }
    }

    private static String login(HttpClient http, URI url) throws Exception {
        HttpResponse<String> r = call(http, url, "POST", "/api/login", null,
                "{\"username\":\"admin\",\"password\":\"" + PASSWORD + "\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String c = r.headers().firstValue("Set-Cookie").orElseThrow();
        return c.substring(0, c.indexOf(';'));
    }

    /**
     * A call through HAProxy; a connection refused or reset (HAProxy has not yet seen that the frontdoor it chose is
     * dead: it checks every second) is tried again, as a browser would, for up to {@link #RECOVER}.
     */
    private static HttpResponse<String> callRetryingRefused(HttpClient http, URI url, String method, String path, String cookie,
                                                           String json) {
        java.util.concurrent.atomic.AtomicReference<HttpResponse<String>> answer = new java.util.concurrent.atomic.AtomicReference<>();
        Conditions.await("a frontdoor answers " + method + " " + path + " through the URL", RECOVER, () -> {
            try {
                answer.set(call(http, url, method, path, cookie, json));
                return true;
            } catch (IOException e) {
                return false;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        return answer.get();
    }

    private static HttpResponse<String> call(HttpClient http, URI url, String method, String path, String cookie, String json)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(url.resolve(path)).timeout(Duration.ofSeconds(60))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (!method.equals("GET")) b.header("Content-Type", "application/json");
        if (cookie != null) b.header("Cookie", cookie);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
