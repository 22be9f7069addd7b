package io.deskgate.launcher;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deskgate.config.ConfigException;
import io.deskgate.store.Database;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.RegistryStore;
import io.deskgate.store.RegistryTiming;
import io.deskgate.store.Role;
import io.deskgate.store.SessionRow;
import io.deskgate.store.SessionStore;
import io.deskgate.store.StoreConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code deskgate status [--json] [--data DIR | --config FILE]}: every process of a running Deskgate with its
 * role, id, pid, address, health, load and sessions (issue 9 item 6). The store says what runs: the registry's
 * rows (live ones {@code up}; a row past its heartbeat timeout {@code down}), the processes {@code up} started
 * (from {@code <data>/status.json}; one with no live row is {@code down}, the balancer {@code up} while its pid
 * lives), and the active unique sockets per engine and gateway, and per frontdoor those it launched. Reads only;
 * changes nothing.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "List every process of a running Deskgate: role, id, pid, address, health, load and sessions.")
final class StatusCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Option(names = "--data", paramLabel = "DIR", description = "The data directory of the deskgate up to ask (default: up's default).")
    Path dataDir;

    @Option(names = "--config", paramLabel = "FILE",
            description = "A fleet's config file (its store and registry sections), for roles run with deskgate run.")
    Path config;

    @Spec
    CommandSpec spec;

    /** One process as status shows it. */
    record Row(String role, String id, Optional<Long> pid, String address, String health, int load, int capacity,
               Optional<Integer> sessions) {}

    @Override
    public Integer call() {
        StoreConfig store;
        RegistryTiming timing = RegistryTiming.DEFAULT;
        List<StatusFile.Process> started = List.of();
        if (config != null) {
            DeskgateConfigFile file = DeskgateConfigFile.read(config);
            store = file.store().orElseThrow(() -> new ConfigException(file.source() + ": status --config needs a store section"));
            timing = file.registry();
        } else {
            Path data = dataDir != null ? dataDir : UpOptions.defaultDataDir();
            StatusFile status = StatusFile.read(data.toAbsolutePath());
            store = status.store();
            started = status.processes();
        }
        List<Row> rows;
        try (Database db = Database.external(store, System.getenv())) {
            SessionStore sessions = new SessionStore(db.dataSource());
            rows = rows(new RegistryStore(db.dataSource()).all(timing.timeout()), started, sessions.listActive(),
                    sessions.activeByFrontdoor());
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? json(rows) : table(rows));
        out.flush();
        return 0;
    }

    /**
     * The rows to show (pure): every registry row, then each started process without one; by role in start order,
     * then id.
     *
     * @param registry every registry row with whether it is live
     */
    static List<Row> rows(List<RegistryStore.Row> registry, List<StatusFile.Process> started, List<SessionRow> sessions) {
        return rows(registry, started, sessions, Map.of());
    }

    /**
     * The same, each frontdoor's sessions the active ones it launched ({@link SessionStore#activeByFrontdoor}).
     *
     * @param byFrontdoor active sessions by the frontdoor id that launched them
     */
    static List<Row> rows(List<RegistryStore.Row> registry, List<StatusFile.Process> started, List<SessionRow> sessions,
                          Map<String, Integer> byFrontdoor) {
        Map<String, Integer> byEngine = new LinkedHashMap<>();
        Map<String, Integer> byGateway = new LinkedHashMap<>();
        for (SessionRow s : sessions) {
            byEngine.merge(s.engineId(), 1, Integer::sum);
            byGateway.merge(s.gatewayId(), 1, Integer::sum);
        }
        List<Row> rows = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        for (RegistryStore.Row r : registry) {
            RegistryEntry e = r.entry();
            String role = e.role().sqlName();
            Optional<Integer> sessionCount = switch (e.role()) {
                case ENGINE -> Optional.of(byEngine.getOrDefault(e.id(), 0));
                case GATEWAY -> Optional.of(byGateway.getOrDefault(e.id(), 0));
                case FRONTDOOR -> Optional.of(byFrontdoor.getOrDefault(e.id(), 0));
                default -> Optional.empty();
            };
            Optional<Long> pid = e.label(RegistryEntry.PID).flatMap(StatusCommand::parsePid);
            rows.add(new Row(role, e.id(), pid, address(e), r.live() ? "up" : "down", e.load(),
                    e.registration().capacity(), sessionCount));
            seen.add(role + "/" + e.id());
        }
        for (StatusFile.Process p : started) {
            if (seen.contains(p.role() + "/" + p.id())) continue;
            boolean alive = ProcessHandle.of(p.pid()).map(ProcessHandle::isAlive).orElse(false);
            // A process of up's own without a registry row: the balancer (up while it lives), or a role not (yet) registered.
            String health = p.role().equals("balancer") || p.role().equals("up") ? (alive ? "up" : "down") : (alive ? "starting" : "down");
            if (p.role().equals("up") && !registry.isEmpty()) continue;
            rows.add(new Row(p.role(), p.id(), Optional.of(p.pid()), "", health, 0, 0, Optional.empty()));
        }
        List<String> order = List.of("balancer", "frontdoor", "broker", "concentrator", "agent", "engine", "gateway", "up");
        rows.sort(java.util.Comparator.comparingInt((Row r) -> order.indexOf(r.role())).thenComparing(Row::id));
        return rows;
    }

    private static Optional<Long> parsePid(String s) {
        try {
            return Optional.of(Long.parseLong(s));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The address a person would look for: a portal's URL, a gateway's WebSocket URL, else the gRPC endpoint. */
    private static String address(RegistryEntry e) {
        return e.address(RegistryEntry.HTTP).or(() -> e.address(RegistryEntry.WS)).or(() -> e.address(RegistryEntry.GRPC))
                .orElse("");
    }

    static String table(List<Row> rows) {
        List<String[]> cells = new ArrayList<>();
        cells.add(new String[] {"ROLE", "ID", "PID", "ADDRESS", "HEALTH", "LOAD", "SESSIONS"});
        for (Row r : rows) {
            cells.add(new String[] {r.role(), r.id(), r.pid().map(String::valueOf).orElse("-"), r.address().isEmpty() ? "-" : r.address(),
                    r.health(), r.capacity() > 0 ? r.load() + "/" + r.capacity() : "-", r.sessions().map(String::valueOf).orElse("-")});
        }
        int[] width = new int[7];
        for (String[] c : cells) for (int i = 0; i < c.length; i++) width[i] = Math.max(width[i], c[i].length());
        StringBuilder b = new StringBuilder();
        for (String[] c : cells) {
            for (int i = 0; i < c.length; i++) {
                b.append(c[i]);
                if (i < c.length - 1) b.append(" ".repeat(width[i] - c[i].length() + 2));
            }
            b.append('\n');
        }
        return b.toString();
    }

    static String json(List<Row> rows) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        ArrayNode list = root.putArray("processes");
        for (Row r : rows) {
            ObjectNode n = list.addObject();
            n.put("role", r.role());
            n.put("id", r.id());
            r.pid().ifPresentOrElse(p -> n.put("pid", p), () -> n.putNull("pid"));
            n.put("address", r.address());
            n.put("health", r.health());
            n.put("load", r.load());
            n.put("capacity", r.capacity());
            r.sessions().ifPresentOrElse(s -> n.put("sessions", s), () -> n.putNull("sessions"));
        }
        try {
            return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
