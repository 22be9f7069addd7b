package io.deskgate.launcher;

import io.deskgate.agent.Agent;
import io.deskgate.agent.AgentMetrics;
import io.deskgate.agent.AgentConfig;
import io.deskgate.agent.ConcentratorLinks;
import io.deskgate.control.ControlAuth;
import io.deskgate.broker.Broker;
import io.deskgate.broker.BrokerConfig;
import io.deskgate.broker.BrokerMetrics;
import io.deskgate.broker.SessionBroker;
import io.deskgate.concentrator.Concentrator;
import io.deskgate.concentrator.ConcentratorConfig;
import io.deskgate.concentrator.ConcentratorMetrics;
import io.deskgate.engine.Engine;
import io.deskgate.engine.EngineConfig;
import io.deskgate.engine.EngineMetrics;
import io.deskgate.engine.NanoClock;
import io.deskgate.frontdoor.AdminBootstrap;
import io.deskgate.frontdoor.Frontdoor;
import io.deskgate.frontdoor.FrontdoorConfig;
import io.deskgate.gateway.Gateway;
import io.deskgate.gateway.GatewayConfig;
import io.deskgate.gateway.GatewayMetrics;
import io.deskgate.metrics.MetricsConfig;
import io.deskgate.metrics.MetricsEndpoint;
import io.deskgate.store.Registration;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.RegistryHeartbeat;
import io.deskgate.store.Role;
import io.deskgate.store.SpentTokenStore;
import io.deskgate.store.UserStore;
import io.deskgate.tls.ServerTls;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * How each role is started and registered, the same for {@code deskgate up} (every role in one JVM, {@link
 * Platform}) and {@code deskgate run <role>} (one role per process, {@link RunCommand}): the role's config
 * gets the fleet's secrets, the role starts, and its registry row (id, listen addresses, capacity) is kept
 * alive by a {@link RegistryHeartbeat} with the role's true load. The others find it there: the frontdoor its
 * brokers, engines and gateways, the broker its agents or its concentrators, the agent its concentrators. Stateless.
 */
final class RoleRunner {
    /** The version each role registers with. */
    static final String VERSION = "0.1.0";
    /**
     * The capacity the frontdoor and the broker register with (requests served at once): neither holds
     * sessions, so it only scales their load, which is what they are serving now.
     */
    static final int REQUEST_CAPACITY = 256;

    private RoleRunner() {}

    /**
     * A started role, its registry heartbeat and what runs beside it (the agent's report streams): closing
     * deregisters first, then stops the companion, then the role.
     */
    record Started<T extends AutoCloseable>(T role, RegistryHeartbeat heartbeat, AutoCloseable companion,
                                            Optional<URI> metricsUrl) implements AutoCloseable {
        Started(T role, RegistryHeartbeat heartbeat) {
            this(role, heartbeat, () -> {});
        }

        Started(T role, RegistryHeartbeat heartbeat, AutoCloseable companion) {
            this(role, heartbeat, companion, Optional.empty());
        }

        /** The same, with {@code next} stopped before the role. */
        Started<T> with(AutoCloseable next) {
            return new Started<>(role, heartbeat, next, metricsUrl);
        }

        /** The same, its metrics served at {@code url} (its own {@code metrics} section). */
        Started<T> withMetricsUrl(URI url) {
            return new Started<>(role, heartbeat, companion, Optional.of(url));
        }

        /** The addresses it registered. */
        Map<String, String> addresses() { return heartbeat.registration().addresses(); }

        String id() { return heartbeat.registration().id(); }

        @Override
        public void close() throws Exception {
            try {
                heartbeat.close();
            } finally {
                try {
                    companion.close();
                } finally {
                    role.close();
                }
            }
        }
    }

    /**
     * Starts the agent and registers it under its {@code agent-id}, its load the desktops held by a session; and
     * starts its report streams to one concentrator of every set the registry lists ({@link #reportToConcentrators}),
     * which do nothing while no concentrator is registered.
     */
    static Started<Agent> agent(AgentConfig.Builder config, Fleet fleet, DeskgateConfigFile file) throws IOException {
        AgentConfig c = file.build("agent", config.controlSecret(fleet.controlSecret())::build);
        if (file.has("concentrator")) {
            // One file for the fleet: the concentrators' agent timeout is known here, so the relation is checked.
            Duration agentTimeout = file.build("concentrator", () -> file.concentrator(ConcentratorConfig.builder())
                    .controlSecret(fleet.controlSecret()).build()).agentTimeout();
            file.build("agent", () -> {
                c.checkAgainstConcentrator(agentTimeout);
                return c;
            });
        }
        ControlTlsSection.checkListener(file, "agent", c.bindHost(), List.of());
        ControlAuth auth = ControlTlsSection.auth(file, "agent", fleet.controlSecret());
        Agent agent = Agent.start(c, auth, new AgentMetrics(fleet.metrics("agent")));
        String target = advertised(c.bindHost()) + ":" + agent.grpcPort();
        Started<Agent> started = register(agent, fleet, Role.AGENT, c.agentId(), Map.of(RegistryEntry.GRPC, target),
                c.desktops(), agent::desktopsHeld);
        ConcentratorLinks links = reportToConcentrators(fleet, ConcentratorLinks.Settings.of(c.agentId(), target)
                .withPool(c.tenant(), c.pool()).withHello(c.labels(), agent.desktopHost(), c.width(), c.height())
                .withHeartbeat(c.reportHeartbeat(), c.reportTimeout()), agent::desktops, auth, agent.sessionCalls());
        agent.watchDesktops(links::desktopsChanged);
        return serveMetrics(started.with(links), fleet, file.metrics("agent"));
    }

    /**
     * Starts an agent's report streams (seed 001): one to the least loaded live concentrator of every set in the
     * registry, re-chosen when it leaves or its stream fails. The caller subscribes {@link
     * ConcentratorLinks#desktopsChanged} to the agent's changes and closes the links before the agent.
     */
    static ConcentratorLinks reportToConcentrators(Fleet fleet, ConcentratorLinks.Settings settings,
                                                   Supplier<List<io.deskgate.control.Desktop>> desktops) {
        return reportToConcentrators(fleet, settings, desktops, new ControlAuth(fleet.controlSecret()));
    }

    /** As above, the streams behind {@code auth} (the agent's mutual TLS when it has one). */
    static ConcentratorLinks reportToConcentrators(Fleet fleet, ConcentratorLinks.Settings settings,
                                                   Supplier<List<io.deskgate.control.Desktop>> desktops, ControlAuth auth) {
        return ConcentratorLinks.start(settings, new ConcentratorRows(fleet.registry(), fleet.timing()).forAgents(), desktops, auth);
    }

    /**
     * The same, and the agent answers its concentrators' InitiateSession calls down the report streams with
     * {@code calls}, each on a virtual thread (the agent's initiation writes its one-time password).
     */
    static ConcentratorLinks reportToConcentrators(Fleet fleet, ConcentratorLinks.Settings settings,
                                                   Supplier<List<io.deskgate.control.Desktop>> desktops,
                                                   ConcentratorLinks.SessionCalls calls) {
        return ConcentratorLinks.start(settings, new ConcentratorRows(fleet.registry(), fleet.timing()).forAgents(), desktops,
                new ControlAuth(fleet.controlSecret()), calls, java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
    }

    /** As above, the streams behind {@code auth} (the agent's mutual TLS when it has one). */
    static ConcentratorLinks reportToConcentrators(Fleet fleet, ConcentratorLinks.Settings settings,
                                                   Supplier<List<io.deskgate.control.Desktop>> desktops, ControlAuth auth,
                                                   ConcentratorLinks.SessionCalls calls) {
        return ConcentratorLinks.start(settings, new ConcentratorRows(fleet.registry(), fleet.timing()).forAgents(), desktops,
                auth, calls, java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
    }

    /** A started broker, sharded or direct, and the port of its {@code Broker} gRPC service. */
    record BrokerRole(AutoCloseable broker, int grpcPort) implements AutoCloseable {
        @Override
        public void close() throws Exception { broker.close(); }
    }

    /**
     * Starts the broker and registers it: with {@code placement: sharded} a {@link SessionBroker}
     * placing through the concentrator sets the registry lists (the default); with {@code direct} a {@link Broker} asking the
     * registry's live agents (and the config's fixed ones).
     */
    /** At most this long for a starting broker to connect to the concentrators already registered. */
    private static final Duration BROKER_WARM_UP = Duration.ofSeconds(10);

    static Started<BrokerRole> broker(BrokerConfig.Builder config, Fleet fleet, String id, DeskgateConfigFile file) throws IOException {
        BrokerConfig c = file.build("broker", config.controlSecret(fleet.controlSecret())::build);
        ControlTlsSection.checkListener(file, "broker", c.bindHost(),
                c.placement() == BrokerConfig.PlacementMode.DIRECT ? c.agentTargets() : List.of());
        ControlAuth auth = ControlTlsSection.auth(file, "broker", c.controlSecret());
        BrokerRole role;
        IntSupplier load;
        if (c.placement() == BrokerConfig.PlacementMode.SHARDED) {
            SessionBroker sharded = new SessionBroker(SessionBroker.Settings.DEFAULT.withMaxDesktopsPerUser(c.maxDesktopsPerUser()),
                    new ConcentratorRows(fleet.registry(), fleet.timing()).forBrokers(), auth,
                    new BrokerMetrics(fleet.metrics("broker")));
            try {
                role = new BrokerRole(sharded, sharded.serve(c.bindHost(), c.grpcPort()));
                // Connected before it is registered, so that no session request meets a cold channel: one made inside a
                // request's answer deadline misses it on a busy machine and marks the whole set failing.
                sharded.connect(BROKER_WARM_UP);
            } catch (IOException | RuntimeException e) {
                sharded.close();
                throw e;
            }
            load = sharded::inFlight;
        } else {
            Supplier<List<String>> agents = () -> fleet.registry().live(Role.AGENT, fleet.timing().timeout()).stream()
                    .flatMap(e -> e.address(RegistryEntry.GRPC).stream()).toList();
            Broker direct = Broker.start(c, agents, auth, new BrokerMetrics(fleet.metrics("broker")));
            role = new BrokerRole(direct, direct.grpcPort());
            load = direct::inFlight;
        }
        return serveMetrics(register(role, fleet, Role.BROKER, id, Map.of(RegistryEntry.GRPC, advertised(c.bindHost()) + ":"
                + role.grpcPort()), REQUEST_CAPACITY, load), fleet, file.metrics("broker"));
    }

    /**
     * Starts a concentrator and registers it under its {@code id}, with its set as the {@link RegistryEntry#SET}
     * label (agents choose one concentrator of every set, brokers broadcast to one set), its capacity the most
     * desktops it holds and its load the desktops held now.
     */
    static Started<Concentrator> concentrator(ConcentratorConfig.Builder config, Fleet fleet, DeskgateConfigFile file)
            throws IOException {
        ConcentratorConfig c = file.build("concentrator", config.controlSecret(fleet.controlSecret())::build);
        ControlTlsSection.checkListener(file, "concentrator", c.bindHost(), List.of());
        Concentrator concentrator = Concentrator.start(c, ControlTlsSection.auth(file, "concentrator", fleet.controlSecret()),
                new ConcentratorMetrics(fleet.metrics("concentrator")));
        return serveMetrics(register(concentrator, fleet, Role.CONCENTRATOR, c.id(),
                Map.of(RegistryEntry.GRPC, advertised(c.bindHost()) + ":" + concentrator.grpcPort()), c.maxDesktops(),
                concentrator::load, Map.of(RegistryEntry.SET, c.set())), fleet, file.metrics("concentrator"));
    }

    /** Starts the engine and registers it under its {@code engine-id}, its load its connections. */
    static Started<Engine> engine(EngineConfig.Builder config, Fleet fleet, DeskgateConfigFile file) throws IOException {
        EngineConfig c = file.build("engine", config.controlSecret(fleet.controlSecret())::build);
        ControlTlsSection.checkListener(file, "engine", c.bindHost(), List.of());
        Engine engine = Engine.start(c, NanoClock.system(), ControlTlsSection.auth(file, "engine", fleet.controlSecret()),
                new EngineMetrics(fleet.metrics("engine")));
        return serveMetrics(register(engine, fleet, Role.ENGINE, c.engineId(), Map.of(RegistryEntry.GRPC, advertised(c.bindHost())
                + ":" + engine.grpcPort()), c.maxInstances(), engine::connections), fleet, file.metrics("engine"));
    }

    /**
     * Starts the gateway, serving WSS with {@code pem} when given, and registers its WebSocket URL (a wildcard
     * bind stays a wildcard, which the frontdoor replaces with the host each browser used) and its UDP address. Its
     * STREAM tokens are spent in the fleet's store, so that each is single-use across every gateway.
     */
    static Started<Gateway> gateway(GatewayConfig.Builder config, Optional<Path> pem, Fleet fleet, String id,
                                    DeskgateConfigFile file) throws IOException {
        GatewayConfig c = file.build("gateway", config.tokenKey(fleet.tokenKey()).streamMasterSecret(fleet.streamMasterSecret())
                .tls(pem.flatMap(p -> ServerTls.fromPem(p).sslContext()))::build);
        Gateway gateway = Gateway.start(c, new SpentTokenStore(fleet.db().dataSource()), new GatewayMetrics(fleet.metrics("gateway")));
        return serveMetrics(register(gateway, fleet, Role.GATEWAY, id, Map.of(RegistryEntry.WS, gateway.wsUrl(Platform.publicHost(c.bindHost())),
                RegistryEntry.UDP, advertised(c.bindHost()) + ":" + gateway.udpAddress().getPort()), c.maxSessions(), gateway::sessionCount),
                fleet, file.metrics("gateway"));
    }

    /** Starts the frontdoor, which finds its brokers, engines and gateways in the registry, and registers its URL. */
    static Started<Frontdoor> frontdoor(FrontdoorConfig c, Fleet fleet, String id) {
        return frontdoor(c, fleet, id, DeskgateConfigFile.empty());
    }

    /** As above, its calls to the brokers and engines with {@code file}'s {@code frontdoor.control.tls} when it has one. */
    static Started<Frontdoor> frontdoor(FrontdoorConfig c, Fleet fleet, String id, DeskgateConfigFile file) {
        Frontdoor frontdoor = Frontdoor.start(c, fleet.db(), fleet.tokenKey(), fleet.streamMasterSecret(),
                ControlTlsSection.auth(file, "frontdoor", fleet.controlSecret()), fleet.timing(), fleet.metrics(), id);
        return register(frontdoor, fleet, Role.FRONTDOOR, id, Map.of(RegistryEntry.HTTP, frontdoor.url().toString()),
                REQUEST_CAPACITY, frontdoor::launching);
    }

    /**
     * Makes sure the store has an admin user ({@code password}, else a generated one); the generated password
     * when one was made now (to show once), else empty.
     */
    static Optional<String> admin(Fleet fleet, Optional<String> password) {
        String generated = AdminBootstrap.ensureAdmin(new UserStore(fleet.db().dataSource()), password);
        return Optional.of(generated).filter(s -> !s.isEmpty());
    }

    /**
     * Serves the fleet's metrics registry as {@code config} says (nothing when it is off), stopped before the role's
     * companion and the role; when the endpoint cannot start (its port taken, its token file unreadable), stops the
     * role again and throws.
     */
    static <T extends AutoCloseable> Started<T> serveMetrics(Started<T> started, Fleet fleet, MetricsConfig config) {
        if (!config.enabled()) return started;
        MetricsEndpoint endpoint;
        try {
            endpoint = MetricsEndpoint.start(config, fleet.metrics());
        } catch (RuntimeException e) {
            try {
                started.close();
            } catch (Exception closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
        AutoCloseable companion = started.companion();
        return started.with(() -> {
            try {
                endpoint.close();
            } finally {
                companion.close();
            }
        }).withMetricsUrl(endpoint.url());
    }

    /** Registers a started role; when that is refused (another live instance holds the id), stops it again. */
    private static <T extends AutoCloseable> Started<T> register(T role, Fleet fleet, Role kind, String id,
                                                                 Map<String, String> addresses, int capacity, IntSupplier load) {
        return register(role, fleet, kind, id, addresses, capacity, load, Map.of());
    }

    private static <T extends AutoCloseable> Started<T> register(T role, Fleet fleet, Role kind, String id,
                                                                 Map<String, String> addresses, int capacity, IntSupplier load,
                                                                 Map<String, String> labels) {
        try {
            Map<String, String> described = new java.util.TreeMap<>(labels);
            // Which process this is, for `deskgate status` (its pid on the host it names).
            described.put(RegistryEntry.PID, Long.toString(ProcessHandle.current().pid()));
            Registration r = new Registration(kind, id, UUID.randomUUID(), addresses, capacity, VERSION, described);
            return new Started<>(role, RegistryHeartbeat.start(fleet.registry(), r, load, fleet.timing()));
        } catch (RuntimeException e) {
            try {
                role.close();
            } catch (Exception closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    /**
     * The host others reach a listener bound to {@code bindHost} at: the bind address itself, or for a wildcard
     * bind this machine's name ({@code 127.0.0.1} when it has none that resolves).
     */
    static String advertised(String bindHost) {
        String host = bindHost;
        if (bindHost.isEmpty() || bindHost.equals("0.0.0.0") || bindHost.equals("::") || bindHost.equals("[::]")) {
            try {
                host = InetAddress.getLocalHost().getCanonicalHostName();
            } catch (UnknownHostException e) {
                host = "127.0.0.1";
            }
        }
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }
}
