package io.deskgate.frontdoor;

import io.deskgate.frontdoor.Frontdoor.EngineEndpoint;
import io.deskgate.frontdoor.Frontdoor.GatewayEndpoint;
import io.deskgate.store.RegistryStore;
import io.deskgate.store.RegistryTiming;
import io.deskgate.store.Role;
import io.deskgate.store.RegistryEntry;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The brokers, engines and gateways the registry lists as live (heartbeats within the timeout, judged by
 * the database), least loaded first, with the drain flags of the engines and gateways; or one fixed broker,
 * when the frontdoor was given one. One reading is one statement ({@link RegistryStore#snapshot}).
 *
 * <p>A launch takes its one reading from {@link #view()}: with a refresh interval ({@code frontdoor.roles-refresh},
 * default 1 s), the view a background thread renews every interval ({@link #start}), so that a launch reads
 * nothing from the registry; with a zero interval, a fresh reading per launch. A change in the registry or the
 * drain flags (a drain made through another frontdoor, an engine that registered) therefore reaches this
 * frontdoor's launches within one interval plus one reading's time; a drain made through this frontdoor's own
 * admin API at once ({@link #refresh()} after the change). The health probes and the Content-Security-Policy
 * read the last result ({@link #last()}), which survives a store outage unchanged. Thread-safe.
 */
final class LiveRoles implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LiveRoles.class);
    /** The roles a reading asks for. */
    private static final Set<Role> READ = EnumSet.of(Role.BROKER, Role.ENGINE, Role.GATEWAY);
    private static final Set<Role> READ_WITHOUT_BROKERS = EnumSet.of(Role.ENGINE, Role.GATEWAY);

    /**
     * One reading of the registry.
     *
     * @param engineRows     the live engines' rows (published tallies, capacities, heartbeat times), least loaded first
     * @param drainedEngines the live engines that carry a drain flag
     * @param drainedGateways the live gateways that carry a drain flag
     * @param reading        this reading's number: readings are numbered in the order they started (0: none)
     */
    record Snapshot(List<String> brokers, List<EngineEndpoint> engines, List<GatewayEndpoint> gateways,
                    List<RegistryEntry> engineRows, Set<String> drainedEngines, Set<String> drainedGateways, long reading) {
        static final Snapshot EMPTY = new Snapshot(List.of(), List.of(), List.of());

        Snapshot {
            brokers = List.copyOf(brokers);
            engines = List.copyOf(engines);
            gateways = List.copyOf(gateways);
            engineRows = List.copyOf(engineRows);
            drainedEngines = Set.copyOf(drainedEngines);
            drainedGateways = Set.copyOf(drainedGateways);
        }

        /** A reading without rows or drain flags (reading number 0). */
        Snapshot(List<String> brokers, List<EngineEndpoint> engines, List<GatewayEndpoint> gateways) {
            this(brokers, engines, gateways, List.of(), Set.of(), Set.of(), 0);
        }

        /** The live engine {@code id}, drained or not. */
        Optional<EngineEndpoint> engine(String id) {
            return engines.stream().filter(e -> e.id().equals(id)).findFirst();
        }

        /** The live gateway {@code id}, drained or not. */
        Optional<GatewayEndpoint> gateway(String id) {
            return gateways.stream().filter(g -> g.id().equals(id)).findFirst();
        }
    }

    private final RegistryStore registry;
    private final RegistryTiming timing;
    private final Optional<String> fixedBroker;
    private final Duration refreshEvery;
    private final io.deskgate.common.RateLimitedLog rateLimited = new io.deskgate.common.RateLimitedLog(log);
    /** Readings started so far; a reading's number is the count when it started. */
    private final AtomicLong readsStarted = new AtomicLong();
    private volatile Snapshot last = Snapshot.EMPTY;
    private volatile boolean readFailed;
    private volatile ScheduledExecutorService refresher;

    /** As {@link #LiveRoles(RegistryStore, RegistryTiming, Optional, Duration)} with a fresh reading per launch. */
    LiveRoles(RegistryStore registry, RegistryTiming timing, Optional<String> fixedBroker) {
        this(registry, timing, fixedBroker, Duration.ZERO);
    }

    /**
     * @param fixedBroker  the one broker to use, {@code host:port}; empty: the registry's live brokers
     * @param refreshEvery how often the background view is renewed once {@link #start}ed; zero: no background view, a
     *                     launch reads the registry itself
     */
    LiveRoles(RegistryStore registry, RegistryTiming timing, Optional<String> fixedBroker, Duration refreshEvery) {
        if (refreshEvery.isNegative()) throw new IllegalArgumentException("the refresh interval must not be negative");
        this.registry = registry;
        this.timing = timing;
        this.fixedBroker = fixedBroker.map(b -> HostPort.parse(b).toString());
        this.refreshEvery = refreshEvery;
    }

    /** Reads once now (when the store answers), then renews the view every interval on a thread of its own; no-op for a zero interval. */
    LiveRoles start() {
        if (refreshEvery.isZero() || refresher != null) return this;
        refresh();
        ScheduledExecutorService t = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread th = new Thread(r, "frontdoor-live-roles");
            th.setDaemon(true);
            return th;
        });
        long every = refreshEvery.toMillis();
        t.scheduleWithFixedDelay(this::refresh, every, every, TimeUnit.MILLISECONDS);
        refresher = t;
        return this;
    }

    /**
     * The reading a launch chooses from: the background view (the last successful reading) once {@link #start}ed
     * and read at least once, else a fresh reading.
     *
     * @throws io.deskgate.common.DeskgateException when a fresh reading is needed and the store does not answer
     */
    Snapshot view() {
        Snapshot s = last;
        if (refresher != null && s.reading() > 0) return s;
        return read();
    }

    /**
     * For a periodic reader of its own (the health probes): the background view once {@link #start}ed and read at
     * least once (no second reading beside the view's), else {@link #refresh()} (the last reading kept on a failure).
     */
    Snapshot viewOrRefresh() {
        Snapshot s = last;
        if (refresher != null && s.reading() > 0) return s;
        return refresh();
    }

    /** A fresh reading (one statement), kept as {@link #last()} unless a later-started one is already kept. */
    Snapshot read() {
        long n = readsStarted.incrementAndGet();
        RegistryStore.Snapshot r = registry.snapshot(fixedBroker.isPresent() ? READ_WITHOUT_BROKERS : READ, timing.timeout());
        List<String> brokers = fixedBroker.isPresent() ? List.of(fixedBroker.get())
                : r.of(Role.BROKER).stream().flatMap(e -> usableGrpc(e).stream()).toList();
        Snapshot s = new Snapshot(brokers, EngineSelector.candidates(r.of(Role.ENGINE)), GatewaySelector.usable(r.of(Role.GATEWAY)),
                r.of(Role.ENGINE), r.drainedEngines(), r.drainedGateways(), n);
        synchronized (this) {
            if (n > last.reading()) last = s;
        }
        return s;
    }

    /** The number of readings started so far: a reading numbered higher started after this call. */
    long readsStarted() {
        return readsStarted.get();
    }

    /** The brokers' {@code host:port} gRPC targets: the fixed one, else the live ones, least loaded first. Reads the store. */
    List<String> brokers() {
        return read().brokers();
    }

    private Optional<String> usableGrpc(RegistryEntry e) {
        Optional<String> address = e.address(RegistryEntry.GRPC);
        try {
            return address.map(a -> HostPort.parse(a).toString());
        } catch (IllegalArgumentException ex) {
            rateLimited.warn("broker row unusable", "skipping broker {} from the registry: {}", e.id(), ex.getMessage());
            return Optional.empty();
        }
    }

    /** The live engines with a usable gRPC address, least loaded first. Reads the store. */
    List<EngineEndpoint> engines() {
        return read().engines();
    }

    /** The live gateways with usable addresses, least loaded first. Reads the store. */
    List<GatewayEndpoint> gateways() {
        return read().gateways();
    }

    /** Reads the registry and keeps the result; on a store failure keeps the previous one (one log line). */
    Snapshot refresh() {
        try {
            read();
            if (readFailed) {
                readFailed = false;
                log.info("registry readable again");
            }
        } catch (RuntimeException e) {
            if (!readFailed) {
                readFailed = true;
                log.warn("cannot read the registry ({}); keeping the last {} engine(s) and {} gateway(s)", e.getMessage(),
                        last.engines().size(), last.gateways().size());
            }
        }
        return last;
    }

    /** The last successful reading (empty before the first). */
    Snapshot last() { return last; }

    /** The interval of the background view; zero when a launch reads the registry itself. */
    Duration refreshEvery() { return refreshEvery; }

    @Override
    public void close() {
        ScheduledExecutorService t = refresher;
        if (t != null) t.shutdownNow();
    }
}
