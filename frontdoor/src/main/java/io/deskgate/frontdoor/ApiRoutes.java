package io.deskgate.frontdoor;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.common.TokenClaims;
import io.deskgate.store.SessionRow;
import io.deskgate.store.SessionStore;
import io.deskgate.store.User;
import io.deskgate.store.UserStore;
import io.deskgate.wire.control.Desktop;
import io.deskgate.wire.control.DesktopState;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API under {@code /api}. Every route except login needs a valid login cookie. Handlers run
 * on Jetty's request threads and block on the store and the control plane. Tokens, passwords and keys
 * never reach the log.
 */
final class ApiRoutes {
    private static final Logger log = LoggerFactory.getLogger(ApiRoutes.class);
    static final String LOGIN_COOKIE = "deskgate_login";
    private static final String CLAIMS = "deskgate.claims";
    private static final String INVALID_LOGIN = "invalid username or password";
    /** Until tenants can be chosen at login, everyone logs into the default tenant. */
    static final int TENANT = 1;

    private final Authenticator auth;
    private final UserStore users;
    private final SessionStore sessions;
    private final SessionLauncher launcher;
    private final io.deskgate.store.AuditLog audit;
    private final boolean secureCookies;
    private final Duration streamTokenTtl;
    private final MeterRegistry metrics;
    private final Timer launchTimer;

    ApiRoutes(Authenticator auth, UserStore users, SessionStore sessions, SessionLauncher launcher,
              io.deskgate.store.AuditLog audit, boolean secureCookies, Duration streamTokenTtl, MeterRegistry metrics) {
        this.auth = auth;
        this.users = users;
        this.sessions = sessions;
        this.launcher = launcher;
        this.audit = audit;
        this.secureCookies = secureCookies;
        this.streamTokenTtl = streamTokenTtl;
        this.metrics = metrics;
        this.launchTimer = Timer.builder("deskgate.frontdoor.launch").description("session launch time")
                .register(metrics);
    }

    void register(RoutesConfig r) {
        r.before("/api/*", this::requireLogin);
        r.post("/api/login", this::login);
        r.post("/api/logout", this::logout);
        r.get("/api/me", this::me);
        r.get("/api/desktops", this::desktops);
        r.post("/api/sessions", this::launch);
        r.post("/api/sessions/{id}/token", this::refreshToken);
        r.delete("/api/sessions/{id}", this::end);
        r.exception(DeskgateException.class, (e, ctx) -> {
            if (e.status().httpStatus() >= 500) log.warn("{} {} -> {}: {}", ctx.method(), ctx.path(), e.status(), e.getMessage());
            Json.error(ctx, e.status(), e.getMessage());
        });
        r.exception(Exception.class, (e, ctx) -> {
            log.error("{} {} failed", ctx.method(), ctx.path(), e);
            Json.error(ctx, Status.INTERNAL_ERROR, "internal error");
        });
    }

    private void requireLogin(Context ctx) {
        ctx.header("Cache-Control", "no-store");
        if (ctx.path().equals("/api/login")) return;
        TokenClaims claims = Optional.ofNullable(ctx.cookie(LOGIN_COOKIE)).flatMap(auth::login)
                .orElseThrow(() -> new DeskgateException(Status.UNAUTHORIZED, "login required"));
        ctx.attribute(CLAIMS, claims);
    }

    private void login(Context ctx) {
        ObjectNode body = Json.body(ctx);
        String username = Json.requiredText(body, "username");
        String password = Json.requiredText(body, "password");
        Optional<User> user = auth.verify(TENANT, username, password);
        if (user.isEmpty()) {
            metrics.counter("deskgate.frontdoor.logins", "result", "rejected").increment();
            throw new DeskgateException(Status.UNAUTHORIZED, INVALID_LOGIN);
        }
        metrics.counter("deskgate.frontdoor.logins", "result", "accepted").increment();
        audit.record(TENANT, username, "login", "from " + ctx.ip());
        ctx.header("Set-Cookie", cookie(auth.loginToken(user.get()), auth.loginTtl().toSeconds()));
        Json.reply(ctx, 200, Json.object().put("username", username));
    }

    private void logout(Context ctx) {
        ctx.header("Set-Cookie", cookie("", 0));
        Json.reply(ctx, 200, Json.object().put("loggedOut", true));
    }

    private void me(Context ctx) {
        User u = currentUser(ctx);
        Json.reply(ctx, 200, Json.object().put("username", u.username()).put("admin", u.admin()));
    }

    private void desktops(Context ctx) {
        User u = currentUser(ctx);
        ArrayNode list = Json.MAPPER.createArrayNode();
        for (Desktop d : launcher.listDesktops()) {
            boolean mine = d.getUser().equals(u.username());
            if (d.getState() != DesktopState.AVAILABLE && !mine) continue;
            list.addObject().put("id", d.getDesktopId()).put("state", d.getState().name())
                    .put("width", d.getWidth()).put("height", d.getHeight()).put("mine", mine);
        }
        Json.reply(ctx, 200, Json.object().set("desktops", list));
    }

    private void launch(Context ctx) {
        User u = currentUser(ctx);
        Optional<String> desktopId = Json.optionalText(Json.body(ctx), "desktopId").filter(s -> !s.isEmpty());
        Timer.Sample sample = Timer.start(metrics);
        SessionLauncher.Launched l;
        try {
            l = launcher.launch(u, desktopId);
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
                .put("gatewayUrl", l.gateway().wsUrl())
                .put("token", auth.streamToken(u.username(), u.tenant(), sessionId, streamTokenTtl))
                .put("width", l.width())
                .put("height", l.height()));
    }

    private void refreshToken(Context ctx) {
        User u = currentUser(ctx);
        SessionRow row = ownActiveSession(ctx, u);
        Json.reply(ctx, 200, Json.object()
                .put("sessionId", row.id().toString())
                .put("token", auth.streamToken(u.username(), u.tenant(), row.id().toString(), streamTokenTtl)));
    }

    private void end(Context ctx) {
        User u = currentUser(ctx);
        SessionRow row = ownActiveSession(ctx, u);
        launcher.stop(row, u.username());
        Json.reply(ctx, 200, Json.object().put("sessionId", row.id().toString()).put("ended", true));
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

    private User currentUser(Context ctx) {
        TokenClaims claims = ctx.attribute(CLAIMS);
        if (claims == null) throw new DeskgateException(Status.UNAUTHORIZED, "login required");
        return users.find(claims.tenant(), claims.subject())
                .orElseThrow(() -> new DeskgateException(Status.UNAUTHORIZED, "login required"));
    }

    private String cookie(String value, long maxAgeSeconds) {
        return LOGIN_COOKIE + "=" + value + "; Path=/; Max-Age=" + maxAgeSeconds + "; HttpOnly; SameSite=Strict"
                + (secureCookies ? "; Secure" : "");
    }
}
