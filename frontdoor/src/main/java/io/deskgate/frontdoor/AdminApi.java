package io.deskgate.frontdoor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.RateLimitedLog;
import io.deskgate.common.Status;
import io.deskgate.store.AuditLog;
import io.deskgate.store.EntitlementStore;
import io.deskgate.store.Names;
import io.deskgate.store.Pool;
import io.deskgate.store.PoolStore;
import io.deskgate.store.Tenant;
import io.deskgate.store.TenantStore;
import io.deskgate.store.User;
import io.deskgate.store.UserStore;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tenancy part of the admin API under {@code /api/admin}: tenants (add, list), users (add, list, remove),
 * pools (add, list) and entitlements (entitle, revoke). Platform administrators only (an administrator of the
 * default tenant; 403 for anyone else); {@link ApiRoutes}'s guard has already checked the login, the JSON
 * content type and the origin of a state-changing call, and {@link Json#body} bounds the body. A call names its
 * tenant by name ({@code tenant} in the body or the query, default {@value Tenant#DEFAULT_NAME}). Bad input
 * (an unknown tenant, user or pool, a taken or invalid name, an unknown field, a body too large) is answered
 * 4xx with one JSON error, changes nothing, and logs one rate-limited line. Every change is audited. Handlers
 * run on Jetty's request threads and block on the store. Passwords never reach the log or the audit trail.
 */
final class AdminApi {
    private static final Logger log = LoggerFactory.getLogger(AdminApi.class);
    static final int MIN_PASSWORD = 8;
    static final int MAX_PASSWORD = 1024;
    private static final Set<String> USER_FIELDS = Set.of("tenant", "username", "password", "admin");
    private static final Set<String> POOL_FIELDS = Set.of("tenant", "name", "agents", "labels", "assignment", "resetOnLogout");
    private static final Set<String> ENTITLEMENT_FIELDS = Set.of("tenant", "username", "pool");
    private static final Set<String> TENANT_FIELDS = Set.of("name");

    private final TenantStore tenants;
    private final UserStore users;
    private final PoolStore pools;
    private final EntitlementStore entitlements;
    private final AuditLog audit;
    private final PasswordHasher hasher;
    private final Function<Context, User> currentUser;
    private final UserRelease release;
    private final RateLimitedLog expected;

    /** Drops a user's ties to the desktops (ReleaseUser through the broker); how many desktops it released. */
    interface UserRelease {
        /**
         * @param agents only the desktops of these agents; none: every desktop
         * @throws DeskgateException when the broker cannot be asked
         */
        int release(int tenant, String username, List<String> agents);
    }

    /** @param currentUser the logged-in user of a request that passed the guard (401 otherwise) */
    private final Runnable usersChanged;

    AdminApi(TenantStore tenants, UserStore users, PoolStore pools, EntitlementStore entitlements, AuditLog audit,
             PasswordHasher hasher, Function<Context, User> currentUser, UserRelease release) {
        this(tenants, users, pools, entitlements, audit, hasher, currentUser, release, () -> { });
    }

    /**
     * @param usersChanged called after a user was removed or an entitlement given or revoked, so that this frontdoor
     *                     forgets its cached logins (which hold their users' pools) at once (the others hear of it from
     *                     the store's notification)
     */
    AdminApi(TenantStore tenants, UserStore users, PoolStore pools, EntitlementStore entitlements, AuditLog audit,
             PasswordHasher hasher, Function<Context, User> currentUser, UserRelease release, Runnable usersChanged) {
        this.usersChanged = usersChanged;
        this.release = release;
        this.tenants = tenants;
        this.users = users;
        this.pools = pools;
        this.entitlements = entitlements;
        this.audit = audit;
        this.hasher = hasher;
        this.currentUser = currentUser;
        this.expected = new RateLimitedLog(log, 1, ApiRoutes.EXPECTED_FAILURE_LOG_INTERVAL, System::nanoTime);
    }

    void register(RoutesConfig r) {
        r.get("/api/admin/tenants", admin("tenant list", this::listTenants));
        r.post("/api/admin/tenants", admin("tenant add", this::addTenant));
        r.get("/api/admin/users", admin("user list", this::listUsers));
        r.post("/api/admin/users", admin("user add", this::addUser));
        r.delete("/api/admin/users/{username}", admin("user remove", this::removeUser));
        r.post("/api/admin/users/{username}/release", admin("user release", this::releaseUser));
        r.get("/api/admin/pools", admin("pool list", this::listPools));
        r.post("/api/admin/pools", admin("pool add", this::addPool));
        r.post("/api/admin/entitlements", admin("entitle", this::entitle));
        r.delete("/api/admin/entitlements", admin("revoke", this::revoke));
    }

    private interface AdminHandler {
        void handle(Context ctx, User admin) throws Exception;
    }

    /** Requires a platform administrator, then runs {@code h}; a refusal of bad input logs one rate-limited line. */
    private Handler admin(String call, AdminHandler h) {
        return ctx -> {
            User admin = currentUser.apply(ctx);
            if (!admin.admin() || admin.tenant() != Tenant.DEFAULT_ID) {
                throw new DeskgateException(Status.FORBIDDEN, "platform administrators only");
            }
            try {
                h.handle(ctx, admin);
            } catch (DeskgateException e) {
                if (e.status().httpStatus() < 500) {
                    expected.info("admin-refused", "admin {} by {} refused: {}", call, admin.username(), e.getMessage());
                }
                throw e;
            }
        };
    }

    private void listTenants(Context ctx, User admin) {
        ArrayNode list = Json.MAPPER.createArrayNode();
        for (Tenant t : tenants.list()) {
            list.addObject().put("id", t.id()).put("name", t.name()).put("createdAt", t.createdAt().toString());
        }
        Json.reply(ctx, 200, Json.object().set("tenants", list));
    }

    private void addTenant(Context ctx, User admin) {
        ObjectNode body = body(ctx, TENANT_FIELDS);
        Tenant t = tenants.create(Json.requiredText(body, "name"));
        audit.record(admin.tenant(), admin.username(), "admin.tenant.add", "tenant " + t.name() + " (id " + t.id() + ")");
        Json.reply(ctx, 201, Json.object().put("id", t.id()).put("name", t.name()));
    }

    private void listUsers(Context ctx, User admin) {
        Tenant t = tenantOf(Optional.ofNullable(ctx.queryParam("tenant")));
        ArrayNode list = Json.MAPPER.createArrayNode();
        for (User u : users.list(t.id())) {
            list.addObject().put("username", u.username()).put("admin", u.admin()).put("createdAt", u.createdAt().toString());
        }
        Json.reply(ctx, 200, Json.object().put("tenant", t.name()).set("users", list));
    }

    private void addUser(Context ctx, User admin) {
        ObjectNode body = body(ctx, USER_FIELDS);
        Tenant t = tenantOf(Json.optionalText(body, "tenant"));
        String username = Names.require("user name", Json.requiredText(body, "username"));
        String password = Json.requiredText(body, "password");
        boolean isAdmin = optionalBoolean(body, "admin").orElse(false);
        if (password.length() < MIN_PASSWORD || password.length() > MAX_PASSWORD) {
            throw new DeskgateException(Status.BAD_REQUEST, "password must be " + MIN_PASSWORD + " to " + MAX_PASSWORD + " characters");
        }
        if (isAdmin && t.id() != Tenant.DEFAULT_ID) {
            // Only the platform's administrators exist; a tenant's own administrator would need an API that
            // confines it to its tenant, which is not built (docs/security.md "The admin API").
            throw new DeskgateException(Status.BAD_REQUEST, "administrators exist only in tenant " + Tenant.DEFAULT_NAME);
        }
        users.create(t.id(), username, hasher.hash(password), isAdmin);
        audit.record(t.id(), admin.username(), "admin.user.add", "user " + username + (isAdmin ? " (administrator)" : ""));
        Json.reply(ctx, 201, Json.object().put("tenant", t.name()).put("username", username).put("admin", isAdmin));
    }

    private void removeUser(Context ctx, User admin) {
        Tenant t = tenantOf(Optional.ofNullable(ctx.queryParam("tenant")));
        String username = ctx.pathParam("username");
        if (t.id() == admin.tenant() && username.equals(admin.username())) {
            throw new DeskgateException(Status.BAD_REQUEST, "an administrator cannot remove themselves");
        }
        switch (users.remove(t.id(), username)) {
            case NOT_FOUND -> throw new DeskgateException(Status.NOT_FOUND, "no user " + shown(username) + " in tenant " + t.name());
            case HAS_ACTIVE_SESSION -> throw new DeskgateException(Status.ALREADY_EXISTS,
                    "user " + username + " has an active session; end it first");
            case REMOVED -> usersChanged.run();
        }
        audit.record(t.id(), admin.username(), "admin.user.remove", "user " + username);
        ObjectNode reply = Json.object().put("tenant", t.name()).put("username", username).put("removed", true);
        try {
            // After the store: a removal refused there (an active session) must not reset the user's kept desktops.
            reply.put("desktopsReleased", release.release(t.id(), username, List.of()));
        } catch (DeskgateException e) {
            log.warn("user {} of tenant {} removed, but the broker did not release their desktops: {}", username, t.name(),
                    e.getMessage());
            reply.putNull("desktopsReleased").put("warning", "the broker did not answer: desktops dedicated to or kept for "
                    + "this user stay so; release them with POST /api/admin/users/" + username + "/release");
        }
        Json.reply(ctx, 200, reply);
    }

    /**
     * Releases the desktops still tied to a removed user (the release a removal does, again: for when the broker did
     * not answer then). Refused 409 for an existing user: removing them releases their desktops, and releasing those
     * of a user who may be working would reset their session.
     */
    private void releaseUser(Context ctx, User admin) {
        Tenant t = tenantOf(Optional.ofNullable(ctx.queryParam("tenant")));
        String username = Names.require("user name", ctx.pathParam("username"));
        if (users.find(t.id(), username).isPresent()) {
            throw new DeskgateException(Status.ALREADY_EXISTS, "user " + username + " exists: removing the user releases "
                    + "their desktops");
        }
        int released = release.release(t.id(), username, List.of());
        audit.record(t.id(), admin.username(), "admin.user.release", "user " + username + ": " + released + " desktop(s)");
        Json.reply(ctx, 200, Json.object().put("tenant", t.name()).put("username", username).put("desktopsReleased", released));
    }

    private void listPools(Context ctx, User admin) {
        Tenant t = tenantOf(Optional.ofNullable(ctx.queryParam("tenant")));
        ArrayNode list = Json.MAPPER.createArrayNode();
        for (Pool p : pools.list(t.id())) {
            ObjectNode o = poolJson(p);
            list.add(o);
            ArrayNode entitled = o.putArray("users");
            entitlements.users(t.id(), p.name()).forEach(entitled::add);
        }
        Json.reply(ctx, 200, Json.object().put("tenant", t.name()).set("pools", list));
    }

    private void addPool(Context ctx, User admin) {
        ObjectNode body = body(ctx, POOL_FIELDS);
        Tenant t = tenantOf(Json.optionalText(body, "tenant"));
        String name = Json.requiredText(body, "name");
        List<String> agents = textList(body, "agents");
        List<String> labels = textList(body, "labels");
        Pool.Assignment assignment;
        try {
            assignment = Pool.Assignment.fromWire(Json.optionalText(body, "assignment").orElse(Pool.Assignment.FLOATING.wire()));
        } catch (IllegalArgumentException e) {
            throw new DeskgateException(Status.BAD_REQUEST, e.getMessage());
        }
        boolean reset = optionalBoolean(body, "resetOnLogout").orElse(true);
        Pool p = pools.create(t.id(), name, agents, labels, assignment, reset);
        audit.record(t.id(), admin.username(), "admin.pool.add", "pool " + p.name() + " agents " + p.agents()
                + " labels " + p.labels() + " " + p.assignment().wire() + (p.resetOnLogout() ? ", reset on logout" : ""));
        Json.reply(ctx, 201, poolJson(p).put("tenant", t.name()));
    }

    private void entitle(Context ctx, User admin) {
        ObjectNode body = body(ctx, ENTITLEMENT_FIELDS);
        Tenant t = tenantOf(Json.optionalText(body, "tenant"));
        String username = Json.requiredText(body, "username");
        String pool = Json.requiredText(body, "pool");
        boolean created = entitlements.entitle(t.id(), username, pool);
        if (created) usersChanged.run(); // cached logins hold their users' pools: forgotten here at once
        if (created) audit.record(t.id(), admin.username(), "admin.entitle", "user " + username + " pool " + pool);
        Json.reply(ctx, created ? 201 : 200, Json.object().put("tenant", t.name()).put("username", username)
                .put("pool", pool).put("entitled", true).put("created", created));
    }

    private void revoke(Context ctx, User admin) {
        Tenant t = tenantOf(Optional.ofNullable(ctx.queryParam("tenant")));
        String username = requiredQuery(ctx, "username");
        String pool = requiredQuery(ctx, "pool");
        if (!entitlements.revoke(t.id(), username, pool)) {
            throw new DeskgateException(Status.NOT_FOUND, "user " + shown(username) + " is not entitled to pool " + shown(pool));
        }
        usersChanged.run(); // cached logins hold their users' pools: forgotten here at once (the others by notification)
        audit.record(t.id(), admin.username(), "admin.revoke", "user " + username + " pool " + pool);
        ObjectNode reply = Json.object().put("tenant", t.name()).put("username", username).put("pool", pool).put("entitled", false);
        // The user's ties to the pool's desktops go with the entitlement: its agents that no pool the user is still
        // entitled to holds (a desktop they may still open through another pool keeps its dedication and their work).
        Set<String> agents = new java.util.LinkedHashSet<>(pools.find(t.id(), pool).map(Pool::agents).orElse(List.of()));
        for (Pool still : entitlements.pools(t.id(), username)) still.agents().forEach(agents::remove);
        if (!agents.isEmpty()) {
            try {
                reply.put("desktopsReleased", release.release(t.id(), username, List.copyOf(agents)));
            } catch (DeskgateException e) {
                log.warn("user {} of tenant {}: entitlement to pool {} revoked, but the broker did not release their desktops: {}",
                        username, t.name(), pool, e.getMessage());
                reply.putNull("desktopsReleased").put("warning", "the broker did not answer: desktops of the pool dedicated to "
                        + "or kept for this user stay so until the user is removed");
            }
        } else {
            reply.put("desktopsReleased", 0);
        }
        Json.reply(ctx, 200, reply);
    }

    private static ObjectNode poolJson(Pool p) {
        ObjectNode o = Json.object().put("name", p.name());
        ArrayNode agents = o.putArray("agents");
        p.agents().forEach(agents::add);
        ArrayNode labels = o.putArray("labels");
        p.labels().forEach(labels::add);
        return o.put("assignment", p.assignment().wire()).put("resetOnLogout", p.resetOnLogout());
    }

    /** The named tenant, the default one when none is named; 404 for an unknown one. */
    private Tenant tenantOf(Optional<String> name) {
        return tenants.require(name.filter(s -> !s.isEmpty()).orElse(Tenant.DEFAULT_NAME));
    }

    /** The body as an object holding only {@code allowed} fields: a misspelt field is refused, not ignored. */
    private static ObjectNode body(Context ctx, Set<String> allowed) {
        ObjectNode body = Json.body(ctx);
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw new DeskgateException(Status.BAD_REQUEST, "unknown field " + (Names.valid(f) ? f : "in the body")
                        + "; expected " + String.join(", ", allowed.stream().sorted().toList()));
            }
        }
        return body;
    }

    private static Optional<Boolean> optionalBoolean(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return Optional.empty();
        if (!n.isBoolean()) throw new DeskgateException(Status.BAD_REQUEST, "field " + field + " must be true or false");
        return Optional.of(n.booleanValue());
    }

    /** A field holding an array of strings; absent or null reads as empty. */
    private static List<String> textList(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return List.of();
        if (!n.isArray()) throw new DeskgateException(Status.BAD_REQUEST, "field " + field + " must be an array of strings");
        List<String> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isTextual()) throw new DeskgateException(Status.BAD_REQUEST, "field " + field + " must be an array of strings");
            out.add(e.textValue());
        }
        return out;
    }

    private static String requiredQuery(Context ctx, String name) {
        String v = ctx.queryParam(name);
        if (v == null || v.isEmpty()) throw new DeskgateException(Status.BAD_REQUEST, "query parameter " + name + " is required");
        return v;
    }

    private static String shown(String name) {
        return Names.valid(name) ? name : "with that name";
    }
}
