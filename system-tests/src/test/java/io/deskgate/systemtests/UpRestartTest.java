package io.deskgate.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.testkit.DeskgateProcess;
import io.deskgate.testkit.Prerequisites;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A second {@code deskgate up} on the same data directory reuses it: same database, same admin. */
class UpRestartTest {
    private static final Pattern GENERATED = Pattern.compile("Admin login: user 'admin', password '([^']+)'");

    @TempDir
    Path data;

    @Test
    void shouldGenerateTheAdminPasswordOnceAndKeepItAcrossRestarts() throws Exception {
        Prerequisites.require("Xvnc", "tigervnc-standalone-server");
        String password;
        try (DeskgateProcess first = DeskgateProcess.start(DeskgateProcess.repoRoot(), "up", "--port", "0",
                "--desktops", "1", "--data", data.toString())) {
            first.awaitUp(Duration.ofSeconds(120));
            password = first.lines().stream().map(GENERATED::matcher).filter(Matcher::find)
                    .map(m -> m.group(1)).findFirst().orElseThrow(() -> new AssertionError("no generated admin password printed"));
            assertThat(first.stop(Duration.ofSeconds(30))).isIn(0, 130, 143);
        }
        try (DeskgateProcess second = DeskgateProcess.start(DeskgateProcess.repoRoot(), "up", "--port", "0",
                "--desktops", "1", "--data", data.toString())) {
            URI url = second.awaitUp(Duration.ofSeconds(120));
            assertThat(second.lines()).as("the password is shown only at first start").noneMatch(l -> GENERATED.matcher(l).find());
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> ok = http.send(login(url, password), HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).as("the first start's password still works").isEqualTo(200);
            HttpResponse<String> wrong = http.send(login(url, password + "x"), HttpResponse.BodyHandlers.ofString());
            assertThat(wrong.statusCode()).isEqualTo(401);
            assertThat(second.stop(Duration.ofSeconds(30))).isIn(0, 130, 143);
        }
    }

    private static HttpRequest login(URI url, String password) {
        return HttpRequest.newBuilder(url.resolve("/api/login")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"username\":\"admin\",\"password\":\"" + password + "\"}")).build();
    }
}
