package io.deskgate.launcher;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.config.ConfigException;
import io.deskgate.frontdoor.FrontdoorConfig;
import io.deskgate.store.Database;
import io.deskgate.store.StoreConfig;
import io.deskgate.tls.ServerTls;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code deskgate run <role> --config FILE}: one role in this process, part of a fleet that shares one
 * external store. Reads the file (the role's section, {@code store} and {@code registry}), opens the store
 * (migrating it under Flyway's lock if this is the first role to start), reads the fleet's secrets there,
 * starts the role with {@link RoleRunner} as {@code up} does, registers it, and runs until SIGTERM or SIGINT,
 * deregistering on the way out. A bad config file is one line and exit status 2 before anything starts; a
 * start that fails is one line and exit status 1.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run one role of a fleet in this process, with the store and its own listen addresses from a config file.")
final class RunCommand implements Callable<Integer> {
    /** The roles {@code run} starts. */
    enum RunRole {
        FRONTDOOR, BROKER, CONCENTRATOR, AGENT, ENGINE, GATEWAY;

        String section() { return name().toLowerCase(Locale.ROOT); }

        @Override
        public String toString() { return section(); }
    }

    @Parameters(index = "0", paramLabel = "ROLE", converter = RoleConverter.class,
            description = "frontdoor, broker, concentrator, agent, engine or gateway")
    RunRole role;

    @Option(names = "--config", paramLabel = "FILE", required = true,
            description = "The YAML config file (docs/configuration.md): its store section, registry section and the role's own section.")
    Path config;

    /** The process environment, where password-env and DESKGATE_ADMIN_PASSWORD are read (tests give their own). */
    Map<String, String> env = System.getenv();
    /** Where the ready line goes. */
    PrintStream out = System.out;

    @Override
    public Integer call() throws Exception {
        Plan plan = plan();
        CountDownLatch stopped = new CountDownLatch(1);
        Running running = start(plan);
        Thread hook = new Thread(() -> {
            running.close();
            stopped.countDown();
        }, "deskgate-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println("Deskgate " + plan.role() + " " + running.id() + " is up: " + running.addresses());
        out.flush();
        stopped.await();
        return 0;
    }

    /**
     * What the file asks for, checked before anything starts.
     *
     * @param file  the config file
     * @param store its {@code store} section
     */
    record Plan(RunRole role, DeskgateConfigFile file, StoreConfig store, UpOptions options) {}

    /**
     * Reads the file and checks every config the role needs (with placeholder secrets).
     *
     * @throws ConfigException for a missing or malformed file, a missing {@code store} section, or a bad value
     */
    Plan plan() {
        DeskgateConfigFile file = DeskgateConfigFile.read(config);
        StoreConfig store = file.store().orElseThrow(() -> new ConfigException(file.source()
                + ": deskgate run needs a store section (url, user, and password-file or password-env): every role of a"
                + " fleet shares one external store"));
        UpOptions options = UpOptions.builder().file(file).build();
        Path data = options.data();
        byte[] placeholder = new byte[32];
        switch (role) {
            case FRONTDOOR -> options.frontdoor(data);
            case BROKER -> {
                io.deskgate.broker.BrokerConfig b = file.build("broker", options.broker().controlSecret(placeholder)::build);
                ControlTlsSection.checkListener(file, "broker", b.bindHost(),
                        b.placement() == io.deskgate.broker.BrokerConfig.PlacementMode.DIRECT ? b.agentTargets() : java.util.List.of());
            }
            case CONCENTRATOR -> ControlTlsSection.checkListener(file, "concentrator",
                    file.build("concentrator", options.concentrator().controlSecret(placeholder)::build).bindHost(), java.util.List.of());
            case AGENT -> ControlTlsSection.checkListener(file, "agent", file.build("agent", options.agent(data)::build).bindHost(),
                    java.util.List.of());
            case ENGINE -> ControlTlsSection.checkListener(file, "engine", file.build("engine", options.engine()::build).bindHost(),
                    java.util.List.of());
            case GATEWAY -> file.build("gateway", options.gateway(options.frontdoor(data)).tokenKey(placeholder)
                    .streamMasterSecret(placeholder)::build);
        }
        if (DeskgateConfigFile.SECTIONS_WITH_ID.contains(role.section())) file.id(role.section());
        return new Plan(role, file, store, options);
    }

    /** The started role with its store: closing deregisters, stops the role, then closes the store. Never throws. */
    static final class Running implements AutoCloseable {
        private final Deque<AutoCloseable> started = new ArrayDeque<>();
        private RoleRunner.Started<?> role;

        String id() { return role.id(); }

        Map<String, String> addresses() { return role.addresses(); }

        RoleRunner.Started<?> role() { return role; }

        @Override
        public synchronized void close() {
            while (!started.isEmpty()) {
                try {
                    started.pop().close();
                } catch (Exception e) {
                    System.err.println("deskgate: stopping failed: " + e.getMessage());
                }
            }
        }
    }

    /**
     * Opens the store and starts the role.
     *
     * @throws DeskgateException for a start that fails (the store unreachable, a port in use, the id held by a
     *                           live instance), after stopping what was started
     */
    Running start(Plan plan) {
        Running r = new Running();
        try {
            Database db = Database.external(plan.store(), env);
            r.started.push(db);
            Fleet fleet = Fleet.of(db, plan.file().registry());
            DeskgateConfigFile file = plan.file();
            UpOptions o = plan.options();
            Path data = o.data();
            r.role = switch (plan.role()) {
                case AGENT -> RoleRunner.agent(o.agent(data), fleet, file);
                case BROKER -> RoleRunner.broker(o.broker(), fleet, file.id("broker"), file);
                case CONCENTRATOR -> RoleRunner.concentrator(o.concentrator(), fleet, file);
                case ENGINE -> RoleRunner.engine(o.engine(), fleet, file);
                case GATEWAY -> {
                    FrontdoorConfig portal = o.frontdoor(data);
                    io.deskgate.gateway.GatewayConfig.Builder b = o.gateway(portal);
                    String bind = file.build("gateway", b.tokenKey(new byte[32]).streamMasterSecret(new byte[32])::build).bindHost();
                    Optional<Path> pem = portal.tlsPem().or(() -> ServerTls.isLoopback(bind) ? Optional.empty()
                            : Optional.of(ServerTls.selfSignedPem(bind, data)));
                    yield RoleRunner.gateway(b, pem, fleet, file.id("gateway"), file);
                }
                case FRONTDOOR -> {
                    Optional<String> generated = RoleRunner.admin(fleet, Optional.ofNullable(env.get("DESKGATE_ADMIN_PASSWORD"))
                            .filter(p -> !p.isEmpty()));
                    generated.ifPresent(p -> out.println("Admin login: user 'admin', password '" + p + "' (generated now, shown only once)"));
                    yield RoleRunner.frontdoor(o.frontdoor(data), fleet, file.id("frontdoor"), file);
                }
            };
            r.started.push(r.role);
            return r;
        } catch (IOException e) {
            r.close();
            throw new DeskgateException(Status.INTERNAL_ERROR, "cannot start the " + plan.role() + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
    }

    /** Parses a role name, naming the known ones when it is not one. */
    static final class RoleConverter implements picocli.CommandLine.ITypeConverter<RunRole> {
        @Override
        public RunRole convert(String value) {
            for (RunRole r : RunRole.values()) if (r.section().equals(value)) return r;
            throw new picocli.CommandLine.TypeConversionException("unknown role '" + value
                    + "' (known: frontdoor, broker, concentrator, agent, engine, gateway)");
        }
    }
}
