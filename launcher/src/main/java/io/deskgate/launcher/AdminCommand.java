package io.deskgate.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code deskgate admin}: a thin client of the portal's admin HTTP API ({@link AdminClient}). Passwords come
 * from files or the environment, never from a flag value (a flag shows in {@code ps} and the shell history).
 * Lists print as tables; an error is one {@code deskgate: ...} line and exit status 1 (2 for a usage error).
 */
@Command(name = "admin", mixinStandardHelpOptions = true,
        description = "Manage tenants, users, pools and entitlements through the portal's admin API.",
        subcommands = {AdminCommand.UserCommand.class, AdminCommand.PoolCommand.class, AdminCommand.EntitleCommand.class,
                AdminCommand.TenantCommand.class})
final class AdminCommand implements Runnable {
    static final String ADMIN_PASSWORD_ENV = "DESKGATE_ADMIN_PASSWORD";
    static final String USER_PASSWORD_ENV = "DESKGATE_USER_PASSWORD";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Where the portal is and how to log in; shared by every subcommand. */
    static final class Connection {
        @Option(names = "--url", defaultValue = "http://127.0.0.1:8443/",
                description = "The portal's URL (default: ${DEFAULT-VALUE}). Plain http only to a loopback address.")
        URI url;

        @Option(names = "--admin-user", defaultValue = "admin", description = "Administrator to log in as (default: ${DEFAULT-VALUE}).")
        String adminUser;

        @Option(names = "--password-file", paramLabel = "FILE",
                description = "File holding the administrator's password (default: $" + ADMIN_PASSWORD_ENV + ").")
        Path passwordFile;

        @Option(names = "--cacert", paramLabel = "FILE", description = "Trust the certificates in this PEM file for https.")
        Path cacert;

        @Option(names = "--tenant", defaultValue = "default", description = "The tenant (default: ${DEFAULT-VALUE}).")
        String tenant;

        /** A client logged in as the administrator. */
        AdminClient open() {
            String password = secret(Optional.ofNullable(passwordFile), ADMIN_PASSWORD_ENV, "the administrator's password",
                    "--password-file FILE");
            AdminClient client = new AdminClient(url, Optional.ofNullable(cacert));
            client.login(adminUser, password);
            return client;
        }

        String tenantQuery() { return "tenant=" + enc(tenant); }
    }

    /** A password from {@code file} (first line) or the environment variable {@code envName}. */
    static String secret(Optional<Path> file, String envName, String what, String flag) {
        String value;
        if (file.isPresent()) {
            try {
                value = Files.readString(file.get(), StandardCharsets.UTF_8).lines().findFirst().orElse("");
            } catch (IOException e) {
                throw new DeskgateException(Status.BAD_REQUEST, "cannot read " + file.get() + ": " + e.getMessage(), e);
            }
        } else {
            value = Optional.ofNullable(System.getenv(envName)).orElse("");
        }
        if (value.isEmpty()) {
            throw new DeskgateException(Status.BAD_REQUEST, what + " is not given: use " + flag + " or $" + envName);
        }
        return value;
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static ObjectNode object() { return JSON.createObjectNode(); }

    /** Prints {@code rows} under {@code headers}, columns padded to their widest cell. */
    static void table(PrintWriter out, List<String> headers, List<List<String>> rows) {
        int[] width = new int[headers.size()];
        for (int i = 0; i < width.length; i++) width[i] = headers.get(i).length();
        for (List<String> r : rows) for (int i = 0; i < width.length; i++) width[i] = Math.max(width[i], r.get(i).length());
        List<List<String>> all = new ArrayList<>();
        all.add(headers);
        all.addAll(rows);
        for (List<String> r : all) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < width.length; i++) {
                if (i > 0) line.append("  ");
                line.append(i == width.length - 1 ? r.get(i) : String.format("%-" + width[i] + "s", r.get(i)));
            }
            out.println(line.toString().stripTrailing());
        }
        out.flush();
    }

    static String joined(JsonNode array) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : array) out.add(n.asText());
        return out.isEmpty() ? "-" : String.join(",", out);
    }

    static void say(CommandSpec spec, String line) {
        spec.commandLine().getOut().println(line);
        spec.commandLine().getOut().flush();
    }

    @Command(name = "user", mixinStandardHelpOptions = true, description = "Add, list or remove users.",
            subcommands = {UserAdd.class, UserList.class, UserRemove.class, UserRelease.class})
    static final class UserCommand implements Runnable {
        @Spec CommandSpec spec;

        @Override
        public void run() { spec.commandLine().usage(spec.commandLine().getOut()); }
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Add a user (password hashed with Argon2id by the portal).")
    static final class UserAdd implements Runnable {
        @Spec CommandSpec spec;
        @Mixin Connection c;
        @Parameters(index = "0", paramLabel = "USER") String username;
        @Option(names = "--user-password-file", paramLabel = "FILE",
                description = "File holding the new user's password (default: $" + USER_PASSWORD_ENV + ").")
        Path userPasswordFile;
        @Option(names = "--admin", description = "Make the user an administrator (default tenant only).") boolean admin;

        @Override
        public void run() {
            String password = secret(Optional.ofNullable(userPasswordFile), USER_PASSWORD_ENV, "the new user's password",
                    "--user-password-file FILE");
            JsonNode r = c.open().post("/api/admin/users", object().put("tenant", c.tenant).put("username", username)
                    .put("password", password).put("admin", admin));
            say(spec, "added user " + r.path("username").asText() + " to tenant " + r.path("tenant").asText()
                    + (r.path("admin").asBoolean() ? " (administrator)" : ""));
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the users of a tenant.")
    static final class UserList implements Runnable {
        @Spec CommandSpec spec;
        @Mixin Connection c;

        @Override
        public void run() {
            JsonNode r = c.open().get("/api/admin/users?" + c.tenantQuery());
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode u : r.path("users")) {
                rows.add(List.of(u.path("username").asText(), u.path("admin").asBoolean() ? "yes" : "no", u.path("createdAt").asText()));
            }
            table(spec.commandLine().getOut(), List.of("USER", "ADMIN", "CREATED"), rows);
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, description = "Remove a user (refused while they have an active session).")
    static final class UserRemove implements Runnable {
        @Spec CommandSpec spec;
        @Mixin Connection c;
        @Parameters(index = "0", paramLabel = "USER") String username;

        @Override
        public void run() {
            JsonNode r = c.open().delete("/api/admin/users/" + enc(username) + "?" + c.tenantQuery());
            say(spec, "removed user " + username + " from tenant " + c.tenant + (r.path("desktopsReleased").isInt()
                    ? "; released " + r.path("desktopsReleased").asInt() + " desktop(s)"
                    : "; " + r.path("warning").asText("the desktops were not released")));
        }
    }

    @Command(name = "release", mixinStandardHelpOptions = true,
            description = "Release the desktops still dedicated to or kept for a removed user (when the removal could not).")
    static final class UserRelease implements Runnable {
        @Spec CommandSpec spec;
        @Mixin Connection c;
        @Parameters(index = "0", paramLabel = "USER") String username;

        @Override
        public void run() {
            JsonNode r = c.open().post("/api/admin/users/" + enc(username) + "/release?" + c.tenantQuery(), object());
            say(spec, "released " + r.path("desktopsReleased").asInt() + " desktop(s) of removed user " + username
                    + " of tenant " + c.tenant);
        }
    }

    @Command(name = "pool", mixinStandardHelpOptions = true, description = "Add or list pools.",
            subcommands = {PoolAdd.class, PoolList.class})
    static final class PoolCommand implements Runnable {
        @Spec CommandSpec spec;

        @Override
        public void run() { spec.commandLine().usage(spec.commandLine().getOut()); }
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Add a pool holding the desktops of agents or agent labels.")
    static final class PoolAdd implements Runnable {
        @Spec CommandSpec spec;
        @Mixin Connection c;
        @Parameters(index = "0", paramLabel = "POOL") String name;
        @Option(names = "--agent", paramLabel = "ID", description = "An agent whose desktops the pool holds (repeatable).")
        List<String> agents = new ArrayList<>();
        @Option(names = "--label", paramLabel = "LABEL", description = "An agent label whose agents' desktops the pool holds (repeatable).")
        List<String> labels = new ArrayList<>();
        @Option(names = "--assignment", defaultValue = "floating", description = "floating or persistent (default: ${DEFAULT-VALUE}).")
        String assignment;
        @Option(names = "--keep-on-logout", description = "Do not reset a desktop when its user's session ends.")
        boolean keep;

        @Override
        public void run() {
            ObjectNode body = object().put("tenant", c.tenant).put("name", name).put("assignment", assignment)
                    .put("resetOnLogout", !keep);
            ArrayNode a = body.putArray("agents");
            agents.forEach(a::add);
            ArrayNode l = body.putArray("labels");
            labels.forEach(l::add);
            JsonNode r = c.open().post("/api/admin/pools", body);
            say(spec, "added pool " + r.path("name").asText() + " to tenant " + r.path("tenant").asText());
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the pools of a tenant with their entitled users.")
    static final class PoolList implements Runnable {
        @Spec CommandSpec spec;
        @Mixin Connection c;

        @Override
        public void run() {
            JsonNode r = c.open().get("/api/admin/pools?" + c.tenantQuery());
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode p : r.path("pools")) {
                rows.add(List.of(p.path("name").asText(), joined(p.path("agents")), joined(p.path("labels")),
                        p.path("assignment").asText(), p.path("resetOnLogout").asBoolean() ? "yes" : "no", joined(p.path("users"))));
            }
            table(spec.commandLine().getOut(), List.of("POOL", "AGENTS", "LABELS", "ASSIGNMENT", "RESET", "USERS"), rows);
        }
    }

    @Command(name = "entitle", mixinStandardHelpOptions = true, description = "Entitle a user to a pool (or revoke it).")
    static final class EntitleCommand implements Runnable {
        @Spec CommandSpec spec;
        @Mixin Connection c;
        @Parameters(index = "0", paramLabel = "USER") String username;
        @Parameters(index = "1", paramLabel = "POOL") String pool;
        @Option(names = "--revoke", description = "Take the entitlement back.") boolean revoke;

        @Override
        public void run() {
            AdminClient client = c.open();
            if (revoke) {
                JsonNode r = client.delete("/api/admin/entitlements?" + c.tenantQuery() + "&username=" + enc(username)
                        + "&pool=" + enc(pool));
                say(spec, "revoked " + username + " from pool " + pool + (r.path("desktopsReleased").isInt()
                        ? "; released " + r.path("desktopsReleased").asInt() + " desktop(s)"
                        : "; " + r.path("warning").asText("the desktops were not released")));
            } else {
                JsonNode r = client.post("/api/admin/entitlements", object().put("tenant", c.tenant).put("username", username)
                        .put("pool", pool));
                say(spec, (r.path("created").asBoolean() ? "entitled " : "already entitled: ") + username + " to pool " + pool);
            }
        }
    }

    @Command(name = "tenant", mixinStandardHelpOptions = true, description = "Add or list tenants.",
            subcommands = {TenantAdd.class, TenantList.class})
    static final class TenantCommand implements Runnable {
        @Spec CommandSpec spec;

        @Override
        public void run() { spec.commandLine().usage(spec.commandLine().getOut()); }
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Add a tenant.")
    static final class TenantAdd implements Runnable {
        @Spec CommandSpec spec;
        @Mixin Connection c;
        @Parameters(index = "0", paramLabel = "TENANT") String name;

        @Override
        public void run() {
            JsonNode r = c.open().post("/api/admin/tenants", object().put("name", name));
            say(spec, "added tenant " + r.path("name").asText() + " (id " + r.path("id").asInt() + ")");
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List tenants.")
    static final class TenantList implements Runnable {
        @Spec CommandSpec spec;
        @Mixin Connection c;

        @Override
        public void run() {
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode t : c.open().get("/api/admin/tenants").path("tenants")) {
                rows.add(List.of(t.path("id").asText(), t.path("name").asText(), t.path("createdAt").asText()));
            }
            table(spec.commandLine().getOut(), List.of("ID", "TENANT", "CREATED"), rows);
        }
    }
}
