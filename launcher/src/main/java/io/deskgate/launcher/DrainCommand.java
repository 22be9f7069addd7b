package io.deskgate.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code deskgate drain engine|gateway ID}, {@code deskgate undrain engine|gateway ID} and {@code deskgate drains}:
 * stop new sessions going to an engine or a gateway (every frontdoor honours the flag, which is in the store),
 * let them go there again, list what is drained. The sessions a drained instance serves keep running. A thin
 * client of the portal's admin API ({@code /api/admin/drains}), logged in as {@code deskgate admin} is.
 */
final class DrainCommand {
    private DrainCommand() {}

    private static String role(String role) {
        if (!role.equals("engine") && !role.equals("gateway")) {
            throw new DeskgateException(Status.BAD_REQUEST, "drain an engine or a gateway, not " + (role.length() > 32 ? "that" : role));
        }
        return role;
    }

    @Command(name = "drain", mixinStandardHelpOptions = true,
            description = "Stop new sessions going to an engine or a gateway; the sessions it serves keep running.")
    static final class Drain implements Runnable {
        @Spec CommandSpec spec;
        @Mixin AdminCommand.Connection c;
        @Parameters(index = "0", paramLabel = "ROLE", description = "engine or gateway") String role;
        @Parameters(index = "1", paramLabel = "ID", description = "its id in the registry") String id;

        @Override
        public void run() {
            JsonNode r = c.open().post("/api/admin/drains", AdminCommand.object().put("role", role(role)).put("id", id));
            AdminCommand.say(spec, (r.path("changed").asBoolean() ? "drained " : "already drained: ") + role + " " + id
                    + " (no new sessions go there)");
        }
    }

    @Command(name = "undrain", mixinStandardHelpOptions = true, description = "Let new sessions go to a drained engine or gateway again.")
    static final class Undrain implements Runnable {
        @Spec CommandSpec spec;
        @Mixin AdminCommand.Connection c;
        @Parameters(index = "0", paramLabel = "ROLE", description = "engine or gateway") String role;
        @Parameters(index = "1", paramLabel = "ID", description = "its id in the registry") String id;

        @Override
        public void run() {
            JsonNode r = c.open().delete("/api/admin/drains/" + role(role) + "/" + AdminCommand.enc(id));
            AdminCommand.say(spec, (r.path("changed").asBoolean() ? "undrained " : "was not drained: ") + role + " " + id);
        }
    }

    @Command(name = "drains", mixinStandardHelpOptions = true, description = "List the drained engines and gateways.")
    static final class Drains implements Runnable {
        @Spec CommandSpec spec;
        @Mixin AdminCommand.Connection c;

        @Override
        public void run() {
            JsonNode r = c.open().get("/api/admin/drains");
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode id : r.path("engines")) rows.add(List.of("engine", id.asText()));
            for (JsonNode id : r.path("gateways")) rows.add(List.of("gateway", id.asText()));
            AdminCommand.table(spec.commandLine().getOut(), List.of("ROLE", "ID"), rows);
        }
    }
}
