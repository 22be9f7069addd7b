package io.deskgate.store;

import java.time.Instant;
import java.util.Objects;

/** A row of {@code tenants}. Tenant {@value #DEFAULT_ID} ({@value #DEFAULT_NAME}) always exists. */
public record Tenant(int id, String name, Instant createdAt) {
    public static final int DEFAULT_ID = 1;
    public static final String DEFAULT_NAME = "default";

    public Tenant {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(createdAt, "createdAt");
        if (id < 1) throw new IllegalArgumentException("tenant id must be positive: " + id);
    }
}
