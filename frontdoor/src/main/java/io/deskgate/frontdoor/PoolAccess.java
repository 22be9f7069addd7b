package io.deskgate.frontdoor;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.control.Desktop;
import io.deskgate.control.PoolScope;
import io.deskgate.store.EntitlementStore;
import io.deskgate.store.Names;
import io.deskgate.store.Pool;
import io.deskgate.store.User;
import java.util.List;
import java.util.Optional;

/**
 * Which pools a user may open desktops from, and which desktops a pool holds: the entitlement check of a
 * launch, done before the broker is asked (the broker then chooses only within the pool's scope). The
 * user is compared as (tenant, user name). Thread-safe; blocks on the store.
 */
final class PoolAccess {
    private final EntitlementStore entitlements;

    PoolAccess(EntitlementStore entitlements) {
        this.entitlements = entitlements;
    }

    /** The pools {@code u} is entitled to, by name. */
    List<Pool> entitled(User u) {
        return entitlements.pools(u.tenant(), u.username());
    }

    /**
     * The pool a launch uses: the named one, or without a name the default pool when the user is entitled to
     * it, else their only pool.
     *
     * @throws DeskgateException {@link Status#FORBIDDEN} naming the pool when the user is not entitled to it (or
     *                           to any pool), {@link Status#BAD_REQUEST} when no pool is named and several could be meant
     */
    Pool forLaunch(User u, Optional<String> poolName) {
        return forLaunch(entitled(u), poolName);
    }

    /** As {@link #forLaunch(User, Optional)} from the pools the user is entitled to, {@code pools} (read by the caller). */
    static Pool forLaunch(List<Pool> pools, Optional<String> poolName) {
        if (poolName.isPresent()) {
            String name = poolName.get();
            return pools.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow(() -> new DeskgateException(
                    Status.FORBIDDEN, "you are not entitled to pool " + (Names.valid(name) ? name : "with that name")));
        }
        if (pools.isEmpty()) throw new DeskgateException(Status.FORBIDDEN, "you are not entitled to any pool");
        Optional<Pool> byDefault = pools.stream().filter(p -> p.name().equals(Pool.DEFAULT_NAME)).findFirst();
        if (byDefault.isPresent()) return byDefault.get();
        if (pools.size() == 1) return pools.getFirst();
        throw new DeskgateException(Status.BAD_REQUEST, "name a pool: you are entitled to "
                + String.join(", ", pools.stream().map(Pool::name).toList()));
    }

    /** What the broker is told the pool holds, and whether it assigns persistently. */
    static PoolScope scope(Pool p) {
        return PoolScope.newBuilder().addAllAgents(p.agents()).addAllLabels(p.labels())
                .setPersistent(p.assignment() == Pool.Assignment.PERSISTENT).build();
    }

    /**
     * Whether the end of {@code u}'s session on {@code desktopId} keeps the desktop (EndSession's {@code keep}):
     * only when every pool the user is entitled to that holds the desktop keeps desktops at logout (reset-on-logout
     * off), and there is at least one. Sessions do not record their pool, so this is decided from the pools that
     * hold the desktop now; when they disagree, or none does (the entitlement was revoked, the pool changed), the
     * desktop is reset: the safe side.
     */
    boolean keepsAtLogout(User u, String desktopId) {
        Desktop d = Desktop.newBuilder().setDesktopId(desktopId).build();
        List<Pool> holding = entitled(u).stream().filter(p -> holds(p, d)).toList();
        return !holding.isEmpty() && holding.stream().noneMatch(Pool::resetOnLogout);
    }

    /**
     * The pool a further connection of a session on {@code desktopId} uses: an entitled pool naming the desktop's
     * agent, else the pool {@link #forLaunch} picks (a pool selecting by label; the broker checks the desktop is in
     * its scope).
     *
     * @throws DeskgateException {@link Status#FORBIDDEN} when the user is no longer entitled to any pool
     */
    Pool forDesktop(User u, String desktopId) {
        return forDesktop(entitled(u), desktopId);
    }

    /** As {@link #forDesktop(User, String)} from the pools the user is entitled to, {@code pools} (read by the caller). */
    static Pool forDesktop(List<Pool> pools, String desktopId) {
        Desktop d = Desktop.newBuilder().setDesktopId(desktopId).build();
        return pools.stream().filter(p -> holds(p, d)).findFirst().orElseGet(() -> forLaunch(pools, Optional.empty()));
    }

    /** Whether {@code p} holds {@code d}: the broker's rule (its agent is named, or carries one of the labels). */
    static boolean holds(Pool p, Desktop d) {
        String id = d.getDesktopId();
        int slash = id.lastIndexOf('/');
        if (slash > 0 && p.agents().contains(id.substring(0, slash))) return true;
        for (String label : d.getLabelsList()) if (p.labels().contains(label)) return true;
        return false;
    }
}
