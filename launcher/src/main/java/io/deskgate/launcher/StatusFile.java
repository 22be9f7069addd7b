package io.deskgate.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.store.OwnerOnlyFiles;
import io.deskgate.store.StoreConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code <data>/status.json}: what a running {@code deskgate up} (one JVM, or {@code --cluster}'s processes)
 * tells {@code deskgate status}: its URL, how to reach its store (the embedded server's loopback URL and
 * owner-only password file, never the password itself), and the processes it started. Owner-only, replaced
 * atomically; removed when {@code up} stops.
 *
 * @param processes the processes {@code up} started: id, role, pid, log file ({@code ""} for none)
 */
record StatusFile(String url, StoreConfig store, List<Process> processes) {
    static final String NAME = "status.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    StatusFile {
        processes = List.copyOf(processes);
    }

    /** One process {@code up} started. */
    record Process(String id, String role, long pid, String log) {}

    void write(Path dataDir) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("url", url);
        ObjectNode s = root.putObject("store");
        s.put("url", store.url());
        s.put("user", store.user());
        store.passwordFile().ifPresent(f -> s.put("password-file", f.toString()));
        ArrayNode list = root.putArray("processes");
        for (Process p : processes) {
            list.addObject().put("id", p.id()).put("role", p.role()).put("pid", p.pid()).put("log", p.log());
        }
        Path tmp = dataDir.resolve(NAME + ".tmp");
        Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root), StandardCharsets.UTF_8);
        OwnerOnlyFiles.file(tmp);
        Files.move(tmp, dataDir.resolve(NAME), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static void remove(Path dataDir) {
        try {
            Files.deleteIfExists(dataDir.resolve(NAME));
        } catch (IOException e) {
            // a stale file names processes that are gone; status says they are down
        }
    }

    /** @throws DeskgateException when nothing runs from {@code dataDir} (no file) or the file is not one of ours */
    static StatusFile read(Path dataDir) {
        Path file = dataDir.resolve(NAME);
        if (!Files.exists(file)) {
            throw new DeskgateException(Status.NOT_FOUND, "no deskgate up runs with data in " + dataDir + " (no " + NAME
                    + "); give --data DIR, or --config FILE for a fleet of deskgate run processes");
        }
        try {
            JsonNode root = JSON.readTree(file.toFile());
            JsonNode s = root.path("store");
            StoreConfig.Builder store = StoreConfig.builder().url(s.path("url").asText()).user(s.path("user").asText());
            if (s.hasNonNull("password-file")) store.passwordFile(Path.of(s.get("password-file").asText()));
            List<Process> processes = new ArrayList<>();
            for (JsonNode p : root.path("processes")) {
                processes.add(new Process(p.path("id").asText(), p.path("role").asText(), p.path("pid").asLong(), p.path("log").asText()));
            }
            return new StatusFile(root.path("url").asText(), store.build(), processes);
        } catch (IOException | IllegalArgumentException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, file + " is not readable: " + e.getMessage());
        }
    }
}
