package io.deskgate.frontdoor;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.RateLimitedLog;
import io.deskgate.common.Status;
import io.deskgate.store.AuditLog;
import io.deskgate.store.DrainStore;
import io.deskgate.store.Role;
import io.deskgate.store.Tenant;
import io.deskgate.store.User;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.Iterator;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The drain part of the admin API (issue 9; {@code deskgate admin drain|undrain|drains}): a drained engine or
 * gateway gets no new sessions from any frontdoor (the flag is in the store) and keeps the ones it serves.
 * {@code GET /api/admin/drains}, {@code POST /api/admin/drains {"role":"engine","id":"engine-2"}},
 * {@code DELETE /api/admin/drains/{role}/{id}}. Platform administrators only (403 for anyone else); bad input is
 * 400 with one JSON error and one rate-limited log line, and changes nothing; every change is audited.
 */
final class DrainApi {
    private static final Logger log = LoggerFactory.getLogger(DrainApi.class);
    private static final Set<String> FIELDS = Set.of("role", "id");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    private final DrainStore drains;
    private final AuditLog audit;
    private final Function<Context, User> currentUser;
    /** Called after each drain or undrain, so that this frontdoor's launches see it at once ({@link LiveRoles#refresh()}). */
    private final Runnable drainsChanged;
    private final RateLimitedLog expected = new RateLimitedLog(log, 1, ApiRoutes.EXPECTED_FAILURE_LOG_INTERVAL, System::nanoTime);

    DrainApi(DrainStore drains, AuditLog audit, Function<Context, User> currentUser) {
        this(drains, audit, currentUser, () -> { });
    }

    /** @param drainsChanged called after each drain or undrain (this frontdoor's view of the registry is renewed) */
    DrainApi(DrainStore drains, AuditLog audit, Function<Context, User> currentUser, Runnable drainsChanged) {
        this.drains = drains;
        this.audit = audit;
        this.currentUser = currentUser;
        this.drainsChanged = drainsChanged;
    }

    void register(RoutesConfig r) {
        r.get("/api/admin/drains", this::list);
        r.post("/api/admin/drains", this::drain);
        r.delete("/api/admin/drains/{role}/{id}", this::undrain);
    }

    private void list(Context ctx) {
        admin(ctx);
        ObjectNode body = Json.object();
        ArrayNode engines = body.putArray("engines");
        drains.drained(Role.ENGINE).forEach(engines::add);
        ArrayNode gateways = body.putArray("gateways");
        drains.drained(Role.GATEWAY).forEach(gateways::add);
        Json.reply(ctx, 200, body);
    }

    private void drain(Context ctx) {
        User admin = admin(ctx);
        ObjectNode body = Json.body(ctx);
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) throw refused(admin, "unknown field " + (f.length() > 32 ? "(too long)" : f));
        }
        Role role = role(admin, Json.requiredText(body, "role"));
        String id = id(admin, Json.requiredText(body, "id"));
        boolean changed = drains.drain(role, id, admin.username());
        drainsChanged.run();
        if (changed) {
            audit.record(admin.tenant(), admin.username(), "admin.drain", role.sqlName() + " " + id);
            log.info("{} {} drained by {}: no new sessions go there", role.sqlName(), id, admin.username());
        }
        Json.reply(ctx, 200, Json.object().put("role", role.sqlName()).put("id", id).put("drained", true).put("changed", changed));
    }

    private void undrain(Context ctx) {
        User admin = admin(ctx);
        Role role = role(admin, ctx.pathParam("role"));
        String id = id(admin, ctx.pathParam("id"));
        boolean changed = drains.undrain(role, id);
        drainsChanged.run();
        if (changed) {
            audit.record(admin.tenant(), admin.username(), "admin.undrain", role.sqlName() + " " + id);
            log.info("{} {} undrained by {}: it takes new sessions again", role.sqlName(), id, admin.username());
        }
        Json.reply(ctx, 200, Json.object().put("role", role.sqlName()).put("id", id).put("drained", false).put("changed", changed));
    }

    private User admin(Context ctx) {
        User u = currentUser.apply(ctx);
        if (!u.admin() || u.tenant() != Tenant.DEFAULT_ID) {
            expected.info("drain-forbidden", "drain call by {} refused: not a platform administrator", u.username());
            throw new DeskgateException(Status.FORBIDDEN, "platform administrators only");
        }
        return u;
    }

    private Role role(User admin, String name) {
        return switch (name) {
            case "engine" -> Role.ENGINE;
            case "gateway" -> Role.GATEWAY;
            default -> throw refused(admin, "role must be engine or gateway");
        };
    }

    private String id(User admin, String id) {
        if (!ID.matcher(id).matches()) throw refused(admin, "id must be 1-128 letters, digits or . _ : -");
        return id;
    }

    private DeskgateException refused(User admin, String why) {
        expected.info("drain-refused", "drain call by {} refused: {}", admin.username(), why);
        return new DeskgateException(Status.BAD_REQUEST, why);
    }
}
