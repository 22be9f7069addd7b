package io.deskgate.launcher;

import io.deskgate.agent.AgentConfig;
import io.deskgate.broker.BrokerConfig;
import io.deskgate.concentrator.ConcentratorConfig;
import io.deskgate.engine.EngineConfig;
import io.deskgate.frontdoor.FrontdoorConfig;
import io.deskgate.gateway.GatewayConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@code deskgate up} was asked for: a config file and the command-line flags given over it (public
 * for the benchmarks, which start a {@link Platform}). Each role's config is layered the same way: the
 * defaults, then {@code up}'s wiring (the data directory, the one agent's address, the portal's bind address
 * and port + 1 for the gateway), then the file's section, then the flags that were given; then the secrets
 * from the store, and {@code build()} validates. Flags not given leave the file's values alone.
 *
 * @param file        the config file (docs/configuration.md), or {@link DeskgateConfigFile#empty()}
 * @param dataDir     {@code --data}
 * @param bindHost    {@code --bind}: the frontdoor's and the gateway's bind address
 * @param port        {@code --port}: the frontdoor's port
 * @param desktops    {@code --desktops}: the agent's desktops
 * @param gatewayPort {@code --gateway-port}: the gateway's WebSocket port (0: any free port)
 * @param metricsPort {@code --metrics-port}: port of {@code /metrics} on 127.0.0.1 (0: any free port; -1: off)
 * @param tlsPem      {@code --tls-pem}: serve HTTPS/WSS with this key and certificate chain (PEM)
 * @param tls         {@code --tls}: serve HTTPS/WSS with the self-signed certificate even on a loopback address
 * @param adminPassword {@code --admin-password} or {@code $DESKGATE_ADMIN_PASSWORD}
 */
public record UpOptions(DeskgateConfigFile file, Optional<Path> dataDir, Optional<String> bindHost, Optional<Integer> port,
                        Optional<Integer> desktops, Optional<Integer> gatewayPort, Optional<Integer> metricsPort,
                        Optional<Path> tlsPem, boolean tls, Optional<String> adminPassword) {
    public UpOptions {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(port, "port");
        Objects.requireNonNull(desktops, "desktops");
        Objects.requireNonNull(gatewayPort, "gatewayPort");
        Objects.requireNonNull(metricsPort, "metricsPort");
        Objects.requireNonNull(tlsPem, "tlsPem");
        Objects.requireNonNull(adminPassword, "adminPassword");
    }

    /** No file and no flags: every default. */
    public static Builder builder() { return new Builder(); }

    /** The data directory: {@code --data}, else the file's {@code data}, else the XDG default. */
    public Path data() {
        return dataDir.or(file::data).orElseGet(UpOptions::defaultDataDir);
    }

    /** The frontdoor's config (its TLS certificate still to be decided, see {@link Platform}). */
    FrontdoorConfig frontdoor(Path data) {
        FrontdoorConfig.Builder b = file.frontdoor(FrontdoorConfig.builder().dataDir(data));
        bindHost.ifPresent(b::bindHost);
        port.ifPresent(b::port);
        metricsPort.ifPresent(b::metricsPort);
        tlsPem.ifPresent(b::tlsPem);
        return file.build("frontdoor", b::build);
    }

    /** The gateway's builder: bound where the portal is, at its port + 1 unless the file or a flag says otherwise; keys and TLS still to set. */
    GatewayConfig.Builder gateway(FrontdoorConfig frontdoor) {
        GatewayConfig.Builder b = file.gateway(GatewayConfig.builder().bindHost(frontdoor.bindHost())
                .wsPort(defaultGatewayPort(frontdoor.port())));
        bindHost.ifPresent(b::bindHost);
        gatewayPort.ifPresent(b::wsPort);
        return b;
    }

    /** The engine's builder; control secret still to set. */
    EngineConfig.Builder engine() {
        return file.engine(EngineConfig.builder());
    }

    /** The agent's builder, its files under {@code <data>/run}; control secret still to set. */
    AgentConfig.Builder agent(Path data) {
        AgentConfig.Builder b = file.agent(AgentConfig.builder().runtimeDir(data.resolve("run")));
        desktops.ifPresent(b::desktops);
        return b;
    }

    /** The broker's builder (it finds the agents in the registry, besides any the file names); control secret still to set. */
    BrokerConfig.Builder broker() {
        return file.broker(BrokerConfig.builder());
    }

    /** The concentrator's builder; control secret still to set. */
    ConcentratorConfig.Builder concentrator() {
        return file.concentrator(ConcentratorConfig.builder());
    }

    /**
     * Builds every role's config with placeholder secrets and addresses, so that a value the validation refuses
     * fails before anything starts.
     *
     * @throws io.deskgate.config.ConfigException naming the file, section and key
     */
    void check() {
        Path data = data();
        FrontdoorConfig frontdoor = frontdoor(data);
        GatewayConfig.Builder gateway = gateway(frontdoor).tokenKey(new byte[32]).streamMasterSecret(new byte[32]);
        file.build("gateway", gateway::build);
        file.build("engine", engine()::build);
        AgentConfig agent = file.build("agent", agent(data)::build);
        file.build("broker", broker().controlSecret(new byte[32])::build);
        ConcentratorConfig concentrator = file.build("concentrator", concentrator().controlSecret(new byte[32])::build);
        file.build("agent", () -> {
            agent.checkAgainstConcentrator(concentrator.agentTimeout());
            return agent;
        });
    }

    /** The portal's port + 1, so that a firewall rule can name both; any free port when the portal's is 0. */
    static int defaultGatewayPort(int port) {
        return port == 0 || port == 65_535 ? 0 : port + 1;
    }

    static Path defaultDataDir() {
        String xdg = System.getenv("XDG_DATA_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".local", "share");
        return base.resolve("deskgate");
    }

    /** Builds {@link UpOptions}; a flag not set is a flag not given. */
    public static final class Builder {
        private DeskgateConfigFile file = DeskgateConfigFile.empty();
        private Optional<Path> dataDir = Optional.empty();
        private Optional<String> bindHost = Optional.empty();
        private Optional<Integer> port = Optional.empty();
        private Optional<Integer> desktops = Optional.empty();
        private Optional<Integer> gatewayPort = Optional.empty();
        private Optional<Integer> metricsPort = Optional.empty();
        private Optional<Path> tlsPem = Optional.empty();
        private boolean tls;
        private Optional<String> adminPassword = Optional.empty();

        private Builder() {}

        public Builder file(DeskgateConfigFile f) { file = Objects.requireNonNull(f, "file"); return this; }

        public Builder dataDir(Path dir) { dataDir = Optional.of(dir); return this; }

        public Builder bindHost(String host) { bindHost = Optional.of(host); return this; }

        public Builder port(int p) { port = Optional.of(p); return this; }

        public Builder desktops(int n) { desktops = Optional.of(n); return this; }

        public Builder gatewayPort(int p) { gatewayPort = Optional.of(p); return this; }

        public Builder metricsPort(int p) { metricsPort = Optional.of(p); return this; }

        public Builder tlsPem(Path pem) { tlsPem = Optional.of(pem); return this; }

        public Builder tls(boolean on) { tls = on; return this; }

        public Builder adminPassword(Optional<String> password) { adminPassword = Objects.requireNonNull(password); return this; }

        public UpOptions build() {
            return new UpOptions(file, dataDir, bindHost, port, desktops, gatewayPort, metricsPort, tlsPem, tls, adminPassword);
        }
    }
}
