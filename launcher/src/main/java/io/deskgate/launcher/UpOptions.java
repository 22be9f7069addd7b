package io.deskgate.launcher;

import java.nio.file.Path;
import java.util.Optional;

/** What {@code deskgate up} was asked for. */
record UpOptions(String bindHost, int port, int desktops, Path dataDir, Optional<String> adminPassword) {}
