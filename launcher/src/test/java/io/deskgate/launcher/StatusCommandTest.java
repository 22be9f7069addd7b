package io.deskgate.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.deskgate.store.Database;
import io.deskgate.store.Registration;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.RegistryStore;
import io.deskgate.store.Role;
import io.deskgate.store.SessionRow;
import io.deskgate.store.StoreConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deskgate status} (issue 9 item 6): every process with role, id, pid, address, health, load and sessions,
 * from the registry, the processes {@code up} started and the active unique sockets; and the command against a
 * real store whose registry holds live and gone rows.
 */
class StatusCommandTest {
    @TempDir
    Path tmp;

    private static RegistryStore.Row row(Role role, String id, Map<String, String> addresses, int load, int capacity,
                                         long pid, boolean live) {
        Registration r = new Registration(role, id, UUID.randomUUID(), addresses, capacity, "test",
                Map.of(RegistryEntry.PID, Long.toString(pid)));
        return new RegistryStore.Row(new RegistryEntry(r, load, Instant.EPOCH, Instant.EPOCH), live);
    }

    private static SessionRow session(String engine, String gateway) {
        return new SessionRow(UUID.randomUUID(), 1, 1, "ag-1/1", engine, gateway, "i", SessionRow.ACTIVE, Instant.EPOCH,
                Optional.empty());
    }

    @Test
    void shouldShowEveryProcessWithItsHealthLoadAndSessionsByRole() {
        long myPid = ProcessHandle.current().pid();
        List<StatusCommand.Row> rows = StatusCommand.rows(List.of(
                        row(Role.ENGINE, "en-2", Map.of(RegistryEntry.GRPC, "127.0.0.1:2"), 0, 64, 12, true),
                        row(Role.ENGINE, "en-1", Map.of(RegistryEntry.GRPC, "127.0.0.1:1"), 2, 64, 11, true),
                        row(Role.FRONTDOOR, "fd-1", Map.of(RegistryEntry.HTTP, "http://127.0.0.1:3"), 0, 256, 13, false),
                        row(Role.GATEWAY, "gw-1", Map.of(RegistryEntry.WS, "ws://127.0.0.1:4", RegistryEntry.UDP, "127.0.0.1:5"), 2,
                                10000, 14, true)),
                List.of(new StatusFile.Process("haproxy", "balancer", myPid, ""),
                        new StatusFile.Process("fd-2", "frontdoor", Long.MAX_VALUE / 2, "")),
                List.of(session("en-1", "gw-1"), session("en-1", "gw-1")), Map.of("fd-1", 2));

        assertThat(rows).extracting(StatusCommand.Row::id).containsExactly("haproxy", "fd-1", "fd-2", "en-1", "en-2", "gw-1");
        assertThat(rows.get(0).health()).as("the balancer, alive").isEqualTo("up");
        assertThat(rows.get(1).health()).as("a row past its heartbeat timeout").isEqualTo("down");
        assertThat(rows.get(2).health()).as("a started process with no row and no process").isEqualTo("down");
        assertThat(rows.get(3)).isEqualTo(new StatusCommand.Row("engine", "en-1", Optional.of(11L), "127.0.0.1:1", "up", 2, 64,
                Optional.of(2)));
        assertThat(rows.get(4).sessions()).contains(0);
        assertThat(rows.get(5).address()).isEqualTo("ws://127.0.0.1:4");
        assertThat(rows.get(5).sessions()).contains(2);
        assertThat(rows.get(1).sessions()).as("a frontdoor's sessions: the active ones it launched").contains(2);
        assertThat(rows.get(2).sessions()).as("a started frontdoor without a registry row").isEmpty();

        String table = StatusCommand.table(rows);
        assertThat(table.lines().findFirst().orElseThrow()).startsWith("ROLE").contains("PID", "ADDRESS", "HEALTH", "LOAD", "SESSIONS");
        assertThat(table).containsPattern("engine +en-1 +11 +127\\.0\\.0\\.1:1 +up +2/64 +2");
    }

    @Test
    void shouldPrintJsonThatAScriptCanRead() throws Exception {
        List<StatusCommand.Row> rows = List.of(new StatusCommand.Row("engine", "en-1", Optional.of(11L), "127.0.0.1:1", "up", 2, 64,
                Optional.of(2)), new StatusCommand.Row("balancer", "haproxy", Optional.empty(), "", "down", 0, 0, Optional.empty()));

        JsonNode json = new ObjectMapper().readTree(StatusCommand.json(rows));

        assertThat(json.path("processes")).hasSize(2);
        assertThat(json.path("processes").get(0).path("pid").asLong()).isEqualTo(11);
        assertThat(json.path("processes").get(0).path("sessions").asInt()).isEqualTo(2);
        assertThat(json.path("processes").get(1).path("pid").isNull()).isTrue();
    }

    @Test
    void shouldReadTheRegistryOfTheStoreUpNamesInItsStatusFile() throws Exception {
        try (Database db = Database.embedded(tmp.resolve("data"))) {
            StoreConfig store = db.embeddedStoreConfig().orElseThrow();
            RegistryStore registry = new RegistryStore(db.dataSource());
            Registration engine = new Registration(Role.ENGINE, "en-1", UUID.randomUUID(), Map.of(RegistryEntry.GRPC, "127.0.0.1:9"),
                    64, "test", Map.of(RegistryEntry.PID, "4242"));
            registry.register(engine, Duration.ofSeconds(6));
            registry.heartbeat(engine, 3);
            new StatusFile("http://127.0.0.1:1/", store, List.of(new StatusFile.Process("up", "up", ProcessHandle.current().pid(), "")))
                    .write(tmp.resolve("data"));

            StringWriter out = new StringWriter();
            int status = Main.execute(new PrintWriter(out), new PrintWriter(new StringWriter()), "status", "--json", "--data",
                    tmp.resolve("data").toString());

            assertThat(status).isZero();
            JsonNode p = new ObjectMapper().readTree(out.toString()).path("processes");
            assertThat(p).hasSize(1);
            assertThat(p.get(0).path("id").asText()).isEqualTo("en-1");
            assertThat(p.get(0).path("pid").asLong()).isEqualTo(4242);
            assertThat(p.get(0).path("load").asInt()).isEqualTo(3);
            assertThat(p.get(0).path("health").asText()).isEqualTo("up");
        }
    }

    @Test
    void shouldSayClearlyWhenNothingRunsFromTheDataDirectory() {
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(err), "status", "--data", tmp.toString());

        assertThat(status).isEqualTo(1);
        assertThat(err.toString()).contains("no deskgate up runs with data in").doesNotContain("Exception");
    }
}
