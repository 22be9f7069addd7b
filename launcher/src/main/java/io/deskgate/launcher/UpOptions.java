package io.deskgate.launcher;

import java.nio.file.Path;
import java.util.Optional;

/** What {@code deskgate up} was asked for. */
/**
 * @param tls     serve HTTPS/WSS with the self-signed certificate even on a loopback address
 * @param tlsPem  serve HTTPS/WSS with this key and certificate chain (PEM) instead of the self-signed one
 */
record UpOptions(String bindHost, int port, int desktops, Path dataDir, Optional<String> adminPassword, boolean tls,
                 Optional<Path> tlsPem) {

    UpOptions(String bindHost, int port, int desktops, Path dataDir, Optional<String> adminPassword) {
        this(bindHost, port, desktops, dataDir, adminPassword, false, Optional.empty());
    }
}
