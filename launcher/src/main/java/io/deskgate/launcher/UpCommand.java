package io.deskgate.launcher;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code deskgate up}: every role in one JVM with embedded defaults, until SIGINT/SIGTERM. */
@Command(name = "up", mixinStandardHelpOptions = true, description = "Run the whole platform on this machine with embedded defaults.")
final class UpCommand implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "8443", description = "Port of the web portal and API (0: any free port; default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--bind", defaultValue = "127.0.0.1",
            description = "Address to listen on (default: ${DEFAULT-VALUE}). Any non-loopback address turns on HTTPS with a self-signed certificate.")
    String bindHost;

    @Option(names = "--desktops", defaultValue = "2", description = "Number of desktops to launch (default: ${DEFAULT-VALUE}).")
    int desktops;

    @Option(names = "--data", description = "Data directory (default: $XDG_DATA_HOME/deskgate or ~/.local/share/deskgate).")
    Path dataDir;

    @Option(names = "--gateway-port", paramLabel = "PORT",
            description = "Port of the gateway's WebSocket listener (default: the portal's port + 1; 0: any free port).")
    Integer gatewayPort;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Serve GET /metrics on 127.0.0.1 at this port (0: any free port; default: off).")
    Integer metricsPort;

    @Option(names = "--tls", description = "Serve HTTPS and WSS with a self-signed certificate even on a loopback address.")
    boolean tls;

    @Option(names = "--tls-pem", paramLabel = "FILE",
            description = "Serve HTTPS and WSS with this PEM file's private key and certificate chain.")
    Path tlsPem;

    @Option(names = "--admin-password", description = "Set the admin password (default: $DESKGATE_ADMIN_PASSWORD, else generated at first start and printed once).")
    String adminPassword;

    @Override
    public Integer call() throws Exception {
        if (desktops < 1 || desktops > 64) throw new DeskgateException(Status.BAD_REQUEST, "--desktops must be between 1 and 64");
        if (port < 0 || port > 65535) throw new DeskgateException(Status.BAD_REQUEST, "--port must be between 0 and 65535");
        int wsPort = gatewayPort != null ? gatewayPort : UpOptions.defaultGatewayPort(port);
        if (wsPort < 0 || wsPort > 65535) throw new DeskgateException(Status.BAD_REQUEST, "--gateway-port must be between 0 and 65535");
        if (metricsPort != null && (metricsPort < 0 || metricsPort > 65535)) {
            throw new DeskgateException(Status.BAD_REQUEST, "--metrics-port must be between 0 and 65535");
        }
        UpOptions options = new UpOptions(bindHost, port, desktops, dataDir != null ? dataDir : defaultDataDir(),
                Optional.ofNullable(adminPassword != null ? adminPassword : System.getenv("DESKGATE_ADMIN_PASSWORD"))
                        .filter(p -> !p.isEmpty()), tls, Optional.ofNullable(tlsPem), wsPort,
                metricsPort != null ? metricsPort : -1);
        CountDownLatch stopped = new CountDownLatch(1);
        Platform platform = Platform.start(options);
        Thread hook = new Thread(() -> {
            platform.close();
            stopped.countDown();
        }, "deskgate-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        platform.generatedAdminPassword().ifPresent(p ->
                System.out.println("Admin login: user 'admin', password '" + p + "' (generated now, shown only once)"));
        System.out.println("Deskgate is up: " + platform.url());
        System.out.flush();
        stopped.await();
        return 0;
    }

    static Path defaultDataDir() {
        String xdg = System.getenv("XDG_DATA_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".local", "share");
        return base.resolve("deskgate");
    }
}
