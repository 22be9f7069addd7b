package io.deskgate.store;

import java.time.Instant;

/** A row of {@code users}. {@code passwordHash} is an Argon2id PHC string: never log it. */
public record User(long id, int tenant, String username, String passwordHash, boolean admin, Instant createdAt) {
    @Override public String toString() {
        return "User[id=" + id + ", tenant=" + tenant + ", username=" + username + ", admin=" + admin + "]";
    }
}
