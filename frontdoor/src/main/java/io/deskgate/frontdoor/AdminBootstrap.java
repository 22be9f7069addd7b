package io.deskgate.frontdoor;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Secrets;
import io.deskgate.common.Status;
import io.deskgate.store.EntitlementStore;
import io.deskgate.store.Pool;
import io.deskgate.store.PoolStore;
import io.deskgate.store.User;
import io.deskgate.store.UserStore;
import java.util.List;
import java.util.Optional;

/**
 * Makes sure the first administrator and the default pool exist, so that a fresh installation can be logged
 * into and can open a desktop.
 */
public final class AdminBootstrap {
    public static final String ADMIN = "admin";
    public static final int TENANT = 1;
    static final int GENERATED_PASSWORD_CHARS = 20;

    private AdminBootstrap() {}

    /**
     * Creates user {@value #ADMIN} in tenant 1 when missing, with {@code requestedPassword} or a generated
     * one; sets the requested password when the admin already exists.
     *
     * @return the generated password when one was generated (the first start without a requested
     *         password), for the caller to show once; otherwise the empty string
     */
    public static String ensureAdmin(UserStore users, Optional<String> requestedPassword) {
        PasswordHasher hasher = new PasswordHasher();
        boolean exists = users.find(TENANT, ADMIN).isPresent();
        if (exists) {
            requestedPassword.ifPresent(p -> users.setPassword(TENANT, ADMIN, hasher.hash(p)));
            return "";
        }
        String password = requestedPassword.orElseGet(() -> Secrets.randomPassword(GENERATED_PASSWORD_CHARS));
        users.create(TENANT, ADMIN, hasher.hash(password), true);
        return requestedPassword.isPresent() ? "" : password;
    }

    /**
     * Creates pool {@value Pool#DEFAULT_NAME} of the default tenant when missing: floating, reset on logout,
     * holding the desktops of {@code agents}, with every user of the default tenant entitled (the
     * administrator on a fresh installation; on an upgrade, everyone who could open a desktop before pools
     * existed). An existing default pool is left as the administrators changed it.
     *
     * @return true when the pool was created now
     */
    public static boolean ensureDefaultPool(UserStore users, PoolStore pools, EntitlementStore entitlements,
                                            List<String> agents) {
        if (pools.find(TENANT, Pool.DEFAULT_NAME).isPresent()) return false;
        try {
            pools.create(TENANT, Pool.DEFAULT_NAME, agents, List.of(), Pool.Assignment.FLOATING, true);
        } catch (DeskgateException e) {
            if (e.status() == Status.ALREADY_EXISTS) return false; // another frontdoor made it just now
            throw e;
        }
        for (User u : users.list(TENANT)) entitlements.entitle(TENANT, u.username(), Pool.DEFAULT_NAME);
        return true;
    }
}
