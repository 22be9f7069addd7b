package io.deskgate.bench;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's HAProxy, started by the bench as a child process in HTTP mode on a free loopback port in front of one
 * backend on loopback, with a generated configuration: keep-alive on both sides, connections to the backend
 * reused ({@code http-reuse always}), no logging, {@code nbthread} = the machine's cores. Closing stops it and
 * waits for it to exit.
 */
final class HaproxyProxy implements AutoCloseable {
    static final Path BINARY = Path.of("/usr/sbin/haproxy");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration POLL = Duration.ofMillis(20);

    private final Process process;
    private final int port;

    private HaproxyProxy(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** The port HAProxy listens on (127.0.0.1). */
    int port() {
        return port;
    }

    /**
     * Starts {@code haproxy} with its configuration and output in {@code dir}, forwarding to 127.0.0.1:
     * {@code backendPort}; returns once its port accepts connections.
     */
    static HaproxyProxy start(Path binary, Path dir, int backendPort, int maxConnections) {
        if (!Files.isExecutable(binary)) {
            throw new DeskgateException(Status.INTERNAL_ERROR, binary + " is missing (install the Debian package 'haproxy')");
        }
        int port = freePort();
        Path config = dir.resolve("haproxy.cfg");
        String text = String.join("\n", List.of(
                "global",
                "  nbthread " + Runtime.getRuntime().availableProcessors(),
                "  maxconn " + (maxConnections * 2 + 100),
                "defaults",
                "  mode http",
                "  option http-keep-alive",
                "  http-reuse always",
                "  timeout connect 5s",
                "  timeout client 30s",
                "  timeout server 30s",
                "  timeout http-keep-alive 30s",
                "frontend bench",
                "  bind 127.0.0.1:" + port,
                "  default_backend backend",
                "backend backend",
                "  server b1 127.0.0.1:" + backendPort + " maxconn " + (maxConnections + 16),
                ""));
        Process p;
        try {
            Files.writeString(config, text, StandardCharsets.US_ASCII);
            p = new ProcessBuilder(binary.toString(), "-db", "-f", config.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.out").toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + binary + ": " + e.getMessage(), e);
        }
        HaproxyProxy proxy = new HaproxyProxy(p, port);
        long endNs = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!accepts(port)) {
            if (!p.isAlive() || System.nanoTime() - endNs >= 0) {
                proxy.close();
                throw new DeskgateException(Status.INTERNAL_ERROR, "haproxy did not listen on 127.0.0.1:" + port + " within "
                        + START_TIMEOUT.toSeconds() + " s (exit " + (p.isAlive() ? "none" : p.exitValue()) + "; see " + dir.resolve("haproxy.out") + ")");
            }
            try {
                Thread.sleep(POLL);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                proxy.close();
                throw new DeskgateException(Status.INTERNAL_ERROR, "interrupted while haproxy started");
            }
        }
        return proxy;
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }

    /** Whether the process is still running (for the tests' check that nothing is left behind). */
    boolean alive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
