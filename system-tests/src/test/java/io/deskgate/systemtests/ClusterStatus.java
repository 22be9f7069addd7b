package io.deskgate.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.deskgate.testkit.DeskgateProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code ./deskgate status --json --data DIR} as the cluster tests read it: its processes, found by id or by what they hold. */
final class ClusterStatus {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ClusterStatus() {}

    /** The processes {@code status --json} lists for the {@code up} of data directory {@code data}. */
    static JsonNode processes(Path data) {
        try {
            ProcessBuilder pb = new ProcessBuilder(DeskgateProcess.repoRoot().resolve("deskgate").toString(), "status", "--json",
                    "--data", data.toString()).directory(DeskgateProcess.repoRoot().toFile());
            pb.environment().put("DESKGATE_NO_BUILD", "1");
            pb.redirectError(ProcessBuilder.Redirect.DISCARD);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("deskgate status ends").isTrue();
            assertThat(p.exitValue()).as("deskgate status: %s", out).isZero();
            return JSON.readTree(out).path("processes");
        } catch (IOException e) {
            throw new AssertionError("deskgate status: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The row of process {@code id}, or null. */
    static JsonNode find(JsonNode processes, String id) {
        for (JsonNode p : processes) if (p.path("id").asText().equals(id)) return p;
        return null;
    }

    /** The pid of process {@code id}, which must be listed. */
    static long pidOf(JsonNode processes, String id) {
        JsonNode row = find(processes, id);
        assertThat(row).as("%s in %s", id, processes).isNotNull();
        return row.path("pid").asLong();
    }

    /** The ids of the processes of {@code role}, in status's order. */
    static List<String> ids(JsonNode processes, String role) {
        List<String> ids = new ArrayList<>();
        for (JsonNode p : processes) if (p.path("role").asText().equals(role)) ids.add(p.path("id").asText());
        return ids;
    }

    /** The one process of {@code role} whose sessions column counts {@code sessions} (asserted to be exactly one). */
    static String holding(JsonNode processes, String role, int sessions) {
        List<String> holding = new ArrayList<>();
        for (JsonNode p : processes) {
            if (p.path("role").asText().equals(role) && p.path("sessions").asInt() == sessions) holding.add(p.path("id").asText());
        }
        assertThat(holding).as("one %s holds %d session(s): %s", role, sessions, processes).hasSize(1);
        return holding.getFirst();
    }
}
