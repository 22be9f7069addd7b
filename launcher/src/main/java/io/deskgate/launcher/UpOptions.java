package io.deskgate.launcher;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What {@code deskgate up} was asked for (public for the benchmarks, which start a {@link Platform}).
 *
 * @param tls     serve HTTPS/WSS with the self-signed certificate even on a loopback address
 * @param tlsPem  serve HTTPS/WSS with this key and certificate chain (PEM) instead of the self-signed one
 * @param gatewayPort the gateway's WebSocket port (0: any free port)
 * @param metricsPort port of {@code /metrics} on 127.0.0.1 (0: any free port; -1: off)
 */
public record UpOptions(String bindHost, int port, int desktops, Path dataDir, Optional<String> adminPassword, boolean tls,
                        Optional<Path> tlsPem, int gatewayPort, int metricsPort) {

    /** Plain HTTP/WS, the gateway on any free port, no metrics port. */
    public UpOptions(String bindHost, int port, int desktops, Path dataDir, Optional<String> adminPassword) {
        this(bindHost, port, desktops, dataDir, adminPassword, false, Optional.empty(), 0, -1);
    }

    /** The portal's port + 1, so that a firewall rule can name both; any free port when the portal's is 0. */
    static int defaultGatewayPort(int port) {
        return port == 0 || port == 65_535 ? 0 : port + 1;
    }
}
