package io.deskgate.launcher;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code deskgate up}: every role in one JVM with embedded defaults or a config file, until SIGINT/SIGTERM. */
@Command(name = "up", mixinStandardHelpOptions = true, description = "Run the whole platform on this machine with embedded defaults, or those of a config file.")
final class UpCommand implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE",
            description = "Read this YAML config file: a section per role (docs/configuration.md). The flags given below override it.")
    Path config;

    @Option(names = "--port", paramLabel = "PORT",
            description = "Port of the web portal and API (0: any free port; default: the file's frontdoor.port, else 8443).")
    Integer port;

    @Option(names = "--bind", paramLabel = "ADDRESS",
            description = "Address the portal and the gateway listen on (default: the file's, else 127.0.0.1). Any non-loopback address turns on HTTPS with a self-signed certificate.")
    String bindHost;

    @Option(names = "--desktops", paramLabel = "N", description = "Number of desktops to launch (default: the file's agent.desktops, else 2).")
    Integer desktops;

    @Option(names = "--data", paramLabel = "DIR",
            description = "Data directory (default: the file's data, else $XDG_DATA_HOME/deskgate or ~/.local/share/deskgate).")
    Path dataDir;

    @Option(names = "--gateway-port", paramLabel = "PORT",
            description = "Port of the gateway's WebSocket listener (default: the file's gateway.ws-port, else the portal's port + 1; 0: any free port).")
    Integer gatewayPort;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Serve GET /metrics of every role on 127.0.0.1 at this port (0: any free port; default: the file's frontdoor.metrics-port, else off).")
    Integer metricsPort;

    @Option(names = "--tls", description = "Serve HTTPS and WSS with a self-signed certificate even on a loopback address.")
    boolean tls;

    @Option(names = "--tls-pem", paramLabel = "FILE",
            description = "Serve HTTPS and WSS with this PEM file's private key and certificate chain (default: the file's frontdoor.tls-pem).")
    Path tlsPem;

    @Option(names = "--cluster", description = "Run the fleet as separate processes on this machine (2 frontdoors behind HAProxy,"
            + " 2 brokers, 2 concentrator sets of 2, 2 agents, 2 engines, 2 gateways) behind the one URL; see deskgate status.")
    boolean cluster;

    @Option(names = "--admin-password", description = "Set the admin password (default: $DESKGATE_ADMIN_PASSWORD, else generated at first start and printed once).")
    String adminPassword;

    @Override
    public Integer call() throws Exception {
        UpOptions options = options();
        CountDownLatch stopped = new CountDownLatch(1);
        AutoCloseable running;
        Optional<String> generated;
        java.net.URI url;
        if (cluster) {
            Cluster c = Cluster.start(options);
            running = c;
            generated = c.generatedAdminPassword();
            url = c.url();
        } else {
            Platform platform = Platform.start(options);
            running = platform;
            generated = platform.generatedAdminPassword();
            url = platform.url();
        }
        Thread hook = new Thread(() -> {
            try {
                running.close();
            } catch (Exception e) {
                System.err.println("deskgate: stopping failed: " + e.getMessage());
            }
            stopped.countDown();
        }, "deskgate-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        generated.ifPresent(p ->
                System.out.println("Admin login: user 'admin', password '" + p + "' (generated now, shown only once)"));
        if (cluster) System.out.println("Cluster mode: ./deskgate status lists its processes; their logs are in <data>/cluster/logs");
        System.out.println("Deskgate is up: " + url);
        System.out.flush();
        stopped.await();
        return 0;
    }

    /**
     * The file and the flags that were given: a flag out of range is a {@link DeskgateException}, a missing or
     * malformed file, or an unknown key or wrong type in it, an {@link io.deskgate.config.ConfigException} (both one
     * line). {@link Platform#start} checks the values before it starts anything.
     */
    UpOptions options() {
        if (desktops != null && (desktops < 1 || desktops > 64)) {
            throw new DeskgateException(Status.BAD_REQUEST, "--desktops must be between 1 and 64");
        }
        if (port != null && (port < 0 || port > 65535)) throw new DeskgateException(Status.BAD_REQUEST, "--port must be between 0 and 65535");
        if (gatewayPort != null && (gatewayPort < 0 || gatewayPort > 65535)) {
            throw new DeskgateException(Status.BAD_REQUEST, "--gateway-port must be between 0 and 65535");
        }
        if (metricsPort != null && (metricsPort < 0 || metricsPort > 65535)) {
            throw new DeskgateException(Status.BAD_REQUEST, "--metrics-port must be between 0 and 65535");
        }
        UpOptions.Builder b = UpOptions.builder().file(config != null ? DeskgateConfigFile.read(config) : DeskgateConfigFile.empty())
                .tls(tls).adminPassword(Optional.ofNullable(adminPassword != null ? adminPassword : System.getenv("DESKGATE_ADMIN_PASSWORD"))
                        .filter(p -> !p.isEmpty()));
        if (port != null) b.port(port);
        if (bindHost != null) b.bindHost(bindHost);
        if (desktops != null) b.desktops(desktops);
        if (dataDir != null) b.dataDir(dataDir);
        if (gatewayPort != null) b.gatewayPort(gatewayPort);
        if (metricsPort != null) b.metricsPort(metricsPort);
        if (tlsPem != null) b.tlsPem(tlsPem);
        return b.build();
    }
}
