package io.deskgate.launcher;

import io.deskgate.metrics.RoleMetrics;
import io.deskgate.store.Database;
import io.deskgate.store.RegistryStore;
import io.deskgate.store.RegistryTiming;
import io.deskgate.store.SecretStore;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * What every role of one fleet shares: the store (embedded for {@code up}, external for {@code run}), its
 * registry with the fleet's heartbeat timing, and the secrets kept in the store's {@code secrets} table
 * (created at random by whichever role reads them first, {@link SecretStore#getOrCreate}); and the one metrics
 * registry every role started with it counts into ({@code up}: every role of the JVM, so one endpoint serves them all;
 * {@code run}: its one role). Immutable but for the meters; the caller owns the database.
 */
final class Fleet {
    private final Database db;
    private final RegistryStore registry;
    private final RegistryTiming timing;
    private final byte[] tokenKey;
    private final byte[] streamMasterSecret;
    private final byte[] controlSecret;
    private final PrometheusMeterRegistry metrics = RoleMetrics.newRegistry();

    private Fleet(Database db, RegistryTiming timing, byte[] tokenKey, byte[] streamMasterSecret, byte[] controlSecret) {
        this.db = db;
        this.registry = new RegistryStore(db.dataSource());
        this.timing = timing;
        this.tokenKey = tokenKey;
        this.streamMasterSecret = streamMasterSecret;
        this.controlSecret = controlSecret;
    }

    /** Reads (or, the first time, creates) the fleet's secrets in {@code db}. */
    static Fleet of(Database db, RegistryTiming timing) {
        SecretStore secrets = new SecretStore(db.dataSource());
        byte[] tokenKey = secrets.getOrCreate("token-key", 32);
        byte[] streamMaster = secrets.getOrCreate("stream-master-secret", 32);
        // Every gRPC call between the roles carries a credential derived from this (ControlAuth), so that
        // another local account cannot ask the broker for a desktop's one-time VNC password.
        byte[] control = secrets.getOrCreate("control-secret", 32);
        return new Fleet(db, timing, tokenKey, streamMaster, control);
    }

    Database db() { return db; }

    RegistryStore registry() { return registry; }

    RegistryTiming timing() { return timing; }

    byte[] tokenKey() { return tokenKey.clone(); }

    byte[] streamMasterSecret() { return streamMasterSecret.clone(); }

    byte[] controlSecret() { return controlSecret.clone(); }

    /** The registry its roles count into: their meters are named {@code deskgate_<role>_*}. */
    PrometheusMeterRegistry metrics() { return metrics; }

    /** {@code role}'s handle on {@link #metrics()}. */
    RoleMetrics metrics(String role) { return new RoleMetrics(metrics, role); }
}
