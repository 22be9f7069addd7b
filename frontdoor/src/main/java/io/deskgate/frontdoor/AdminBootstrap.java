package io.deskgate.frontdoor;

import io.deskgate.common.Secrets;
import io.deskgate.store.UserStore;
import java.util.Optional;

/** Makes sure the first administrator exists, so that a fresh installation can be logged into. */
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
}
