package io.deskgate.frontdoor;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.RateLimitedLog;
import io.deskgate.common.Secrets;
import io.deskgate.common.Status;
import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import io.deskgate.store.AuditLog;
import io.deskgate.store.EntitlementStore;
import io.deskgate.store.Pool;
import io.deskgate.store.PortalSessionStore;
import io.deskgate.store.PortalSessionStore.LiveLogin;
import io.deskgate.store.SessionRow;
import io.deskgate.store.SessionStore;
import io.deskgate.store.Names;
import io.deskgate.store.Tenant;
import io.deskgate.store.TenantStore;
import io.deskgate.store.User;
import io.deskgate.store.UserStore;
import io.deskgate.stream.StreamIds;
import io.deskgate.tokens.TokenClaims;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API under {@code /api}. Every call is refused with 503 at once while the store is down
 * ({@link HealthProbes}); state-changing calls must pass {@link RequestGuard} (JSON content type, own
 * origin); every route except login needs a login cookie whose portal session is live in the store
 * (logout revokes it), checked through this frontdoor's cache of live portal sessions ({@link LiveLogins}); {@code /api/admin/*} needs an administrator (403 for other users). Desktops are listed and
 * launched per pool the user is entitled to ({@link PoolAccess}). Logins follow {@link LoginAttempts}: an attempt is reserved before its password is
 * checked; failed ones are audited. A server-side failure (5xx) answers a generic message and a request
 * id, and the detail is logged under that id; expected failures (a client hanging up, an unusable user
 * name) log one short rate-limited line. Handlers run on Jetty's request threads and block on the store
 * and the control plane. Tokens, passwords and keys never reach the log.
 */
final class ApiRoutes {
    private static final Logger log = LoggerFactory.getLogger(ApiRoutes.class);
    static final String LOGIN_COOKIE = "deskgate_login";
    private static final String CLAIMS = "deskgate.claims";
    private static final String LIVE = "deskgate.live";
    private static final String INVALID_LOGIN = "invalid username or password";
    /** The tenant a login names when it names none. */
    static final String DEFAULT_TENANT = Tenant.DEFAULT_NAME;
    /** Usernames are cut to this many characters for throttling and the audit trail. */
    static final int MAX_LOGGED_USERNAME = 64;
    /** Longest user name a login may name; longer ones are refused before any store call. */
    static final int MAX_USERNAME = 256;
    static final Duration STORE_RETRY_AFTER = Duration.ofSeconds(2);
    static final Duration EXPECTED_FAILURE_LOG_INTERVAL = Duration.ofSeconds(10);

    private final Authenticator auth;
    private final UserStore users;
    private final TenantStore tenants;
    private final SessionStore sessions;
    private final PortalSessionStore portalSessions;
    private final LiveLogins liveLogins;
    private final SessionLauncher launcher;
    private final PoolAccess pools;
    private final AuditLog audit;
    private final boolean secureCookies;
    private final Duration streamTokenTtl;
    private final MeterRegistry metrics;
    /** deskgate_errors_total{role="frontdoor"}: the 5xx answers by status, and the calls refused while the store is down. */
    private final io.deskgate.metrics.RoleMetrics errors;
    private final Timer launchTimer;
    private final LoginAttempts attempts;
    private final BooleanSupplier storeUp;
    private final RateLimitedLog expected;
    private final Clock clock;

    /**
     * @param secure      the portal is served over HTTPS: cookies are {@code Secure} and the expected origin is {@code https://}
     * @param storeUp     whether the store answered its last probe (see {@link HealthProbes})
     */
    ApiRoutes(Authenticator auth, UserStore users, TenantStore tenants, SessionStore sessions, PortalSessionStore portalSessions,
              LiveLogins liveLogins, SessionLauncher launcher, PoolAccess pools, AuditLog audit, boolean secure, Duration streamTokenTtl, MeterRegistry metrics,
              LoginAttempts attempts, BooleanSupplier storeUp, Clock clock) {
        this.attempts = attempts;
        this.storeUp = storeUp;
        this.clock = clock;
        this.auth = auth;
        this.users = users;
        this.tenants = tenants;
        this.sessions = sessions;
        this.portalSessions = portalSessions;
        this.liveLogins = liveLogins;
        this.launcher = launcher;
        this.pools = pools;
        this.audit = audit;
        this.secureCookies = secure;
        this.streamTokenTtl = streamTokenTtl;
        this.metrics = metrics;
        this.errors = new io.deskgate.metrics.RoleMetrics(metrics, "frontdoor");
        this.expected = new RateLimitedLog(log, 1, EXPECTED_FAILURE_LOG_INTERVAL, System::nanoTime);
        this.launchTimer = Timer.builder("deskgate.frontdoor.launch").description("session launch time")
                .register(metrics);
    }

    void register(RoutesConfig r) {
        r.before("/api/*", this::guard);
        r.post("/api/login", this::login);
        r.post("/api/logout", this::logout);
        r.get("/api/me", this::me);
        r.get("/api/desktops", this::desktops);
        r.get("/api/pools", this::pools);
        r.post("/api/sessions", this::launch);
        r.post("/api/sessions/{id}/token", this::refreshToken);
        r.delete("/api/sessions/{id}", this::end);
        r.post("/api/sessions/{id}/connections", this::connect);
        r.delete("/api/sessions/{id}/connections/{instanceId}", this::disconnect);
        r.get("/api/admin/sessions", this::adminSessions);
        r.post("/api/admin/sessions/{id}/end", this::adminEnd);
        r.exception(DeskgateException.class, (e, ctx) -> {
            if (StoreFailures.isUnavailable(e)) {
                refuse(ctx, Refused.storeDown(STORE_RETRY_AFTER));
                errors.error("store_unavailable");
                expected.info("store-unavailable", "request refused: the store is unavailable ({})", ctx.method());
            } else if (e.status().httpStatus() >= 500) {
                serverError(ctx, e.status(), e);
            } else {
                Json.error(ctx, e.status(), e.getMessage());
            }
        });
        r.exception(Throttled.class, (e, ctx) -> {
            ctx.header("Retry-After", Long.toString(e.retryAfterSeconds()));
            Json.reply(ctx, e.httpStatus(), Json.object().put("error", e.getMessage()).put("status", e.status()));
        });
        r.exception(Refused.class, (e, ctx) -> refuse(ctx, e));
        r.exception(Exception.class, (e, ctx) -> {
            if (ClientAbort.is(e)) {
                expected.info("client-abort", "client {} went away during a {} request", ctx.ip(), ctx.method());
                return;
            }
            serverError(ctx, Status.INTERNAL_ERROR, e);
        });
    }

    private static void refuse(Context ctx, Refused e) {
        e.retryAfterSeconds().ifPresent(s -> ctx.header("Retry-After", Long.toString(s)));
        Json.reply(ctx, e.httpStatus(), Json.object().put("error", e.getMessage()).put("status", e.status()));
    }

    /**
     * Answers a server-side failure without its detail (which may name hosts, SQL or upstream errors): a
     * generic message and a fresh request id; the detail goes to the log under the same id.
     */
    private void serverError(Context ctx, Status status, Exception e) {
        errors.error(status.name());
        String requestId = Secrets.randomId();
        String message = switch (status) {
            // Its messages are fixed texts written for users ("no desktop is available", "no capacity").
            case NO_DESKTOP_AVAILABLE -> e.getMessage();
            case UPSTREAM_UNAVAILABLE -> "a service behind the frontdoor is unavailable";
            default -> "internal error";
        };
        if (status == Status.INTERNAL_ERROR) {
            log.error("request {}: {} {} -> {}", requestId, ctx.method(), ctx.path(), status, e);
        } else {
            log.warn("request {}: {} {} -> {}: {}", requestId, ctx.method(), ctx.path(), status, e.getMessage());
        }
        Json.reply(ctx, status.httpStatus(), Json.object().put("error", message).put("status", status.name())
                .put("requestId", requestId));
    }

    /** Before every API call: fail fast while the store is down, refuse cross-site writes, then require a login. */
    private void guard(Context ctx) {
        ctx.header("Cache-Control", "no-store");
        if (!storeUp.getAsBoolean()) {
            errors.error("store_unavailable");
            throw Refused.storeDown(STORE_RETRY_AFTER);
        }
        String expectedOrigin = RequestGuard.originOf(secureCookies ? "https" : "http", ctx.header("Host"));
        RequestGuard.check(ctx.method().name(), ctx.header("Content-Type"), ctx.header("Origin"),
                ctx.header("Sec-Fetch-Site"), expectedOrigin).ifPresent(refusal -> {
                    throw refusal;
                });
        if (ctx.path().equals("/api/login")) return;
        Optional<TokenClaims> claims = Optional.ofNullable(ctx.cookie(LOGIN_COOKIE)).flatMap(auth::login);
        LiveLogin live = claims.flatMap(this::liveLogin)
                .orElseThrow(() -> new DeskgateException(Status.UNAUTHORIZED, "login required"));
        ctx.attribute(CLAIMS, claims.get());
        ctx.attribute(LIVE, live);
    }

    /**
     * The live login of a valid login token's portal session (with its user and tenant): this frontdoor's cache
     * while it follows the store's notifications, else the store ({@link LiveLogins}).
     */
    private Optional<LiveLogin> liveLogin(TokenClaims c) {
        UUID id;
        try {
            id = UUID.fromString(c.sessionId());
        } catch (IllegalArgumentException e) {
            return Optional.empty(); // a token from before portal sessions were stored
        }
        return liveLogins.find(id, c.tenant(), c.subject());
    }

    private void login(Context ctx) {
        String address = ctx.ip();
        // Decided before the body is parsed: a blocked address costs no JSON parsing and no store call.
        Optional<Duration> wait = attempts.addressBlocked(address, clock.instant());
        if (wait.isPresent()) {
            metrics.counter("deskgate.frontdoor.logins", "result", "throttled").increment();
            throw Throttled.tooManyAttempts(wait.get());
        }
        ObjectNode body = Json.body(ctx);
        String username = Json.requiredText(body, "username");
        String password = Json.requiredText(body, "password");
        // The tenant: a field of its own (user names may contain '@', so "user@tenant" would be ambiguous); absent or
        // empty, the default tenant. An unknown one is answered exactly like a wrong password (no tenant enumeration).
        String tenantName = Json.optionalText(body, "tenant").map(String::strip).filter(s -> !s.isEmpty()).orElse(DEFAULT_TENANT);
        boolean tenantUsable = Names.valid(tenantName);
        if (!usableUsername(username)) {
            metrics.counter("deskgate.frontdoor.logins", "result", "rejected").increment();
            expected.info("unusable-username", "login with an unusable user name (empty, too long or with control "
                    + "characters) from {} refused", address);
            throw new DeskgateException(Status.UNAUTHORIZED, INVALID_LOGIN);
        }
        String shownName = username.length() > MAX_LOGGED_USERNAME ? username.substring(0, MAX_LOGGED_USERNAME) : username;
        String shownTenant = tenantUsable ? tenantName : "(unusable)";
        // Throttled per (tenant, user name): alice of one tenant cannot lock out alice of another.
        String userKey = (shownTenant + "/" + shownName).toLowerCase(Locale.ROOT);
        wait = attempts.reserve(userKey, address, clock.instant());
        if (wait.isPresent()) {
            metrics.counter("deskgate.frontdoor.logins", "result", "throttled").increment();
            throw Throttled.tooManyAttempts(wait.get());
        }
        Optional<Tenant> tenant = tenantUsable ? tenants.find(tenantName) : Optional.empty();
        Optional<User> user = auth.verify(tenant.map(Tenant::id), username, password);
        if (user.isEmpty()) {
            metrics.counter("deskgate.frontdoor.logins", "result", "rejected").increment();
            audit.record(tenant.map(Tenant::id).orElse(Tenant.DEFAULT_ID), shownName, "login.failed", "from " + address
                    + (tenant.isEmpty() ? " naming unknown tenant " + shownTenant : ""));
            throw new DeskgateException(Status.UNAUTHORIZED, INVALID_LOGIN);
        }
        attempts.succeeded(userKey, address, clock.instant());
        UUID portalSession = UUID.randomUUID();
        Instant expiresAt = auth.loginExpiry();
        portalSessions.create(portalSession, user.get().tenant(), user.get().username(), expiresAt);
        metrics.counter("deskgate.frontdoor.logins", "result", "accepted").increment();
        audit.record(user.get().tenant(), username, "login", "from " + address);
        ctx.header("Set-Cookie", cookie(auth.loginToken(user.get(), portalSession, expiresAt), auth.loginTtl().toSeconds()));
        Json.reply(ctx, 200, Json.object().put("username", username).put("tenant", tenant.get().name()));
    }

    /**
     * Whether a login may name {@code username} at all: 1 to {@link #MAX_USERNAME} characters, none of them a
     * control character (PostgreSQL rejects NUL in text, and no user is created with one).
     */
    static boolean usableUsername(String username) {
        if (username.isEmpty() || username.length() > MAX_USERNAME) return false;
        for (int i = 0; i < username.length(); i++) {
            if (Character.isISOControl(username.charAt(i))) return false;
        }
        return true;
    }

    /** Revokes the portal session on the server (the cookie stops working everywhere), then clears the cookie. */
    private void logout(Context ctx) {
        TokenClaims claims = ctx.attribute(CLAIMS);
        if (claims != null) {
            UUID id = UUID.fromString(claims.sessionId());
            portalSessions.revoke(id);
            liveLogins.revokedHere(id);
        }
        ctx.header("Set-Cookie", cookie("", 0));
        Json.reply(ctx, 200, Json.object().put("loggedOut", true));
    }

    private void me(Context ctx) {
        LiveLogin live = ctx.attribute(LIVE);
        if (live == null) throw new DeskgateException(Status.UNAUTHORIZED, "login required");
        User u = live.user();
        Json.reply(ctx, 200, Json.object().put("username", u.username()).put("tenant", live.tenantName()).put("admin", u.admin()));
    }

    /**
     * The desktops of the pools the caller is entitled to that they may open: available ones and their own.
     * A desktop in several of those pools is listed once, under the first pool by name.
     */
    private void desktops(Context ctx) {
        User u = currentUser(ctx);
        List<Pool> entitled = pools.entitled(u);
        ArrayNode list = Json.MAPPER.createArrayNode();
        for (Desktop d : launcher.listDesktops(u.tenant(), u.username(), entitled).desktops()) {
            Optional<Pool> pool = entitled.stream().filter(p -> PoolAccess.holds(p, d)).findFirst();
            if (pool.isEmpty() || !openable(d, u)) continue;
            desktopJson(list.addObject(), d, u).put("pool", pool.get().name());
        }
        Json.reply(ctx, 200, Json.object().set("desktops", list));
    }

    /** The pools the caller is entitled to, each with the desktops of it they may open (available and their own). */
    private void pools(Context ctx) {
        User u = currentUser(ctx);
        List<Pool> entitled = pools.entitled(u);
        List<Desktop> desktops = entitled.isEmpty() ? List.of() : launcher.listDesktops(u.tenant(), u.username(), entitled).desktops();
        ArrayNode list = Json.MAPPER.createArrayNode();
        for (Pool p : entitled) {
            ObjectNode o = list.addObject().put("name", p.name()).put("assignment", p.assignment().wire());
            ArrayNode ds = o.putArray("desktops");
            for (Desktop d : desktops) if (PoolAccess.holds(p, d) && openable(d, u)) desktopJson(ds.addObject(), d, u);
        }
        Json.reply(ctx, 200, Json.object().set("pools", list));
    }

    /** Free (AVAILABLE and dedicated to nobody: a persistent pool's desktop names its user) or the user's own. */
    private static boolean openable(Desktop d, User u) {
        return d.getState() == DesktopState.AVAILABLE && d.getUser().isEmpty() || mine(d, u);
    }

    private static boolean mine(Desktop d, User u) {
        return d.getTenant() == u.tenant() && d.getUser().equals(u.username());
    }

    /** With {@code sessionId} on the caller's own desktop that a session holds: the portal opens it as a further connection. */
    private static ObjectNode desktopJson(ObjectNode o, Desktop d, User u) {
        o.put("id", d.getDesktopId()).put("state", d.getState().name())
                .put("width", d.getWidth()).put("height", d.getHeight()).put("mine", mine(d, u));
        if (mine(d, u) && !d.getSessionId().isEmpty()) o.put("sessionId", d.getSessionId());
        return o;
    }

    private void launch(Context ctx) {
        EntitlementStore.UserPools up = currentUserWithPools(ctx);
        User u = up.user();
        ObjectNode body = Json.body(ctx);
        Optional<String> desktopId = Json.optionalText(body, "desktopId").filter(s -> !s.isEmpty());
        Pool pool = PoolAccess.forLaunch(up.pools(), Json.optionalText(body, "pool").filter(s -> !s.isEmpty()));
        Timer.Sample sample = Timer.start(metrics);
        SessionLauncher.Launched l;
        try {
            l = launcher.launch(u, pool, desktopId);
            metrics.counter("deskgate.frontdoor.launches", "result", "ok").increment();
        } catch (DeskgateException e) {
            metrics.counter("deskgate.frontdoor.launches", "result", e.status().name()).increment();
            throw e;
        } finally {
            sample.stop(launchTimer);
        }
        String sessionId = l.sessionId().toString();
        Json.reply(ctx, 200, Json.object()
                .put("sessionId", sessionId)
                .put("desktopId", l.desktop().getDesktopId())
                .put("pool", pool.name())
                .put("gatewayUrl", GatewayUrls.forRequest(l.gateway().wsUrl(), ctx.header("Host")))
                .put("token", auth.streamToken(u.username(), u.tenant(), sessionId, streamTokenTtl))
                .put("width", l.width())
                .put("height", l.height()));
    }

    /**
     * A fresh stream token for the caller's active session, as long as the broker still has the session's
     * desktop held by that session; otherwise the session is marked ended and the answer is 410. With
     * {@code ?instance=<instanceId>} (a further connection, {@code POST .../connections}) the token names that
     * instance's stream, {@code <session>/<instance>}; a malformed instance id is 400. The id needs no further
     * check: the stream it names is derived from the caller's own session id (docs/security.md).
     */
    private void refreshToken(Context ctx) {
        User u = currentUser(ctx);
        String instance = ctx.queryParam("instance");
        String stream;
        if (instance == null) {
            stream = null;
        } else {
            try {
                UUID id = UUID.fromString(instance);
                if (!id.toString().equals(instance)) throw new IllegalArgumentException("not canonical");
                stream = instance;
            } catch (IllegalArgumentException e) {
                throw new DeskgateException(Status.BAD_REQUEST, "instance must be a connection's instanceId");
            }
        }
        SessionRow row = ownActiveSession(ctx, u);
        if (!launcher.holdsDesktop(row, u.username())) {
            launcher.markGone(row);
            throw new DeskgateException(Status.SESSION_ENDED, "the session has ended");
        }
        Json.reply(ctx, 200, Json.object()
                .put("sessionId", row.id().toString())
                .put("token", auth.streamToken(u.username(), u.tenant(),
                        stream == null ? row.id().toString() : StreamIds.name(row.id(), UUID.fromString(stream)), streamTokenTtl)));
    }

    /**
     * Another connection of the caller's unique socket (a second tab, a reconnect after a network drop): a
     * second transcoding instance on the socket's engine, a fresh stream token for the same socket. 403 when
     * the socket is another user's or another tenant's, 404 when there is no such active socket.
     */
    private void connect(Context ctx) {
        EntitlementStore.UserPools up = currentUserWithPools(ctx);
        User u = up.user();
        SessionRow row = ownSocket(ctx, u);
        Pool pool = PoolAccess.forDesktop(up.pools(), row.desktopId());
        SessionLauncher.Connected c;
        try {
            c = launcher.connect(row, u, pool);
            metrics.counter("deskgate.frontdoor.connections", "result", "ok").increment();
        } catch (DeskgateException e) {
            metrics.counter("deskgate.frontdoor.connections", "result", e.status().name()).increment();
            throw e;
        }
        String sessionId = row.id().toString();
        Json.reply(ctx, 200, Json.object()
                .put("sessionId", sessionId)
                .put("instanceId", c.instanceId())
                .put("desktopId", row.desktopId())
                .put("pool", pool.name())
                .put("gatewayUrl", GatewayUrls.forRequest(c.gateway().wsUrl(), ctx.header("Host")))
                // The token names this connection's own stream (docs/protocol.md §2.9), not the session's first.
                .put("token", auth.streamToken(u.username(), u.tenant(), StreamIds.name(row.id(), UUID.fromString(c.instanceId())),
                        streamTokenTtl))
                .put("width", c.width())
                .put("height", c.height()));
    }

    /** Closes one connection of the caller's unique socket; the last one to close releases the socket. */
    private void disconnect(Context ctx) {
        User u = currentUser(ctx);
        SessionRow row = ownSocket(ctx, u);
        String instanceId = ctx.pathParam("instanceId");
        if (instanceId.isEmpty() || instanceId.length() > 128) throw new DeskgateException(Status.NOT_FOUND, "no such connection");
        SessionLauncher.Closed closed = launcher.closeConnection(row, instanceId, u.username(),
                pools.keepsAtLogout(u, row.desktopId()));
        Json.reply(ctx, 200, Json.object().put("sessionId", row.id().toString()).put("instanceId", instanceId)
                .put("closed", true).put("remaining", closed.remainingInstances()).put("released", closed.released()));
    }

    /**
     * The active unique socket named in the path when it is the caller's: 403 (one rate-limited log line) when it
     * is another user's or another tenant's, 404 when there is no such active socket.
     */
    private SessionRow ownSocket(Context ctx, User u) {
        SessionRow row = activeSession(ctx).orElseThrow(() -> new DeskgateException(Status.NOT_FOUND, "no such session"));
        if (row.userId() != u.id() || row.tenant() != u.tenant()) {
            expected.info("foreign-socket", "user {} of tenant {} asked for a unique socket of another user", u.username(), u.tenant());
            throw new DeskgateException(Status.FORBIDDEN, "that session is not yours");
        }
        return row;
    }

    private void end(Context ctx) {
        User u = currentUser(ctx);
        SessionRow row = ownActiveSession(ctx, u);
        boolean keep = pools.keepsAtLogout(u, row.desktopId());
        launcher.stop(row, u.username(), keep);
        Json.reply(ctx, 200, Json.object().put("sessionId", row.id().toString()).put("ended", true).put("kept", keep));
    }

    /**
     * Every active session of every user, for administrators (403 for anyone else): user, desktop, the
     * desktop's state as the broker reports it ({@code GONE} when the desktop no longer holds the session,
     * {@code UNKNOWN} when the broker does not answer) and since when the session exists.
     */
    private void adminSessions(Context ctx) {
        requireAdmin(ctx);
        Map<String, Desktop> bySession = new HashMap<>();
        boolean brokerAnswered = true;
        try {
            SessionLauncher.Listing all = launcher.listHeld(requireAdmin(ctx).tenant());
            for (Desktop d : all.desktops()) if (!d.getSessionId().isEmpty()) bySession.put(d.getSessionId(), d);
        } catch (DeskgateException e) {
            brokerAnswered = false;
            log.warn("admin session list without desktop states: {}", e.getMessage());
        }
        Map<Long, String> names = new HashMap<>();
        ArrayNode list = Json.MAPPER.createArrayNode();
        for (SessionRow row : sessions.listActive()) {
            String user = names.computeIfAbsent(row.userId(), id -> users.findById(id).map(User::username).orElse("?"));
            Desktop d = bySession.get(row.id().toString());
            String state = !brokerAnswered ? "UNKNOWN"
                    : d != null && d.getDesktopId().equals(row.desktopId()) ? d.getState().name() : "GONE";
            list.addObject().put("id", row.id().toString()).put("user", user).put("desktopId", row.desktopId())
                    .put("state", state).put("since", row.createdAt().toString()).put("engineId", row.engineId());
        }
        Json.reply(ctx, 200, Json.object().set("sessions", list));
    }

    /**
     * Ends any active session (administrators only): stops its instance and resets its desktop, whatever its pool
     * says (an administrator's end is a log-off: nothing of the session is kept).
     */
    private void adminEnd(Context ctx) {
        User admin = requireAdmin(ctx);
        SessionRow row = activeSession(ctx).orElseThrow(() -> new DeskgateException(Status.NOT_FOUND, "no such session"));
        launcher.stop(row, admin.username());
        log.info("session {} on desktop {} ended by administrator {}", row.id(), row.desktopId(), admin.username());
        Json.reply(ctx, 200, Json.object().put("sessionId", row.id().toString()).put("ended", true));
    }

    private User requireAdmin(Context ctx) {
        User u = currentUser(ctx);
        if (!u.admin()) throw new DeskgateException(Status.FORBIDDEN, "administrators only");
        return u;
    }

    /** The active session named in the path, of any user. */
    private Optional<SessionRow> activeSession(Context ctx) {
        UUID id;
        try {
            id = UUID.fromString(ctx.pathParam("id"));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        return sessions.findById(id).filter(SessionRow::active);
    }

    /** The caller's own active session named in the path; 404 for anything else, without saying why. */
    private SessionRow ownActiveSession(Context ctx, User u) {
        UUID id;
        try {
            id = UUID.fromString(ctx.pathParam("id"));
        } catch (IllegalArgumentException e) {
            throw new DeskgateException(Status.NOT_FOUND, "no such session");
        }
        return sessions.findById(id).filter(r -> r.userId() == u.id() && r.active())
                .orElseThrow(() -> new DeskgateException(Status.NOT_FOUND, "no such session"));
    }

    /**
     * The logged-in user of a request that passed {@link #guard}, as read with its live portal session (a user's
     * removal revokes their portal sessions, and any change to a user drops every cached login); 401 when there is none.
     */
    User currentUser(Context ctx) {
        LiveLogin live = ctx.attribute(LIVE);
        if (live == null) throw new DeskgateException(Status.UNAUTHORIZED, "login required");
        return live.user();
    }

    /**
     * As {@link #currentUser}, with the pools the user is entitled to (what a launch needs: the user and the
     * entitlement check), from the same live login: no store round trip while it is cached (issue 9, launch speed).
     * Revocation as for the login itself: any change to an entitlement or a pool drops every cached login, at this
     * frontdoor at once ({@link AdminApi}) and at the others by the store's notification (migration V10).
     */
    private EntitlementStore.UserPools currentUserWithPools(Context ctx) {
        LiveLogin live = ctx.attribute(LIVE);
        if (live == null) throw new DeskgateException(Status.UNAUTHORIZED, "login required");
        return new EntitlementStore.UserPools(live.user(), live.pools());
    }

    private String cookie(String value, long maxAgeSeconds) {
        return LOGIN_COOKIE + "=" + value + "; Path=/; Max-Age=" + maxAgeSeconds + "; HttpOnly; SameSite=Strict"
                + (secureCookies ? "; Secure" : "");
    }
}
