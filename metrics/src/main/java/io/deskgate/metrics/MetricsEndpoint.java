package io.deskgate.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.RateLimitedLog;
import io.deskgate.common.Status;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /metrics} (Prometheus text) on its own port, never on a role's service port. Bound to a loopback
 * address it is open to whoever is on the host (a local scraper); bound anywhere else it needs the scrape token,
 * sent as {@code Authorization: Bearer <token>} and compared in constant time, and refuses to start without one.
 * One role's registry, or in {@code deskgate up} the one registry every role in the JVM counts into. One thread;
 * {@link #close()} stops it.
 */
public final class MetricsEndpoint implements AutoCloseable {
    /** The shortest scrape token accepted. */
    public static final int MIN_TOKEN_LENGTH = 16;
    private static final Logger log = LoggerFactory.getLogger(MetricsEndpoint.class);

    private final HttpServer server;
    private final ExecutorService thread;
    private final String host;

    private MetricsEndpoint(HttpServer server, ExecutorService thread, String host) {
        this.server = server;
        this.thread = thread;
        this.host = host;
    }

    /** Serves {@code metrics} on 127.0.0.1 at {@code port} (0: any free port). */
    public static MetricsEndpoint start(int port, PrometheusMeterRegistry metrics) {
        return start(MetricsConfig.loopback(port), metrics);
    }

    /**
     * Serves {@code metrics} as {@code config} says.
     *
     * @throws IllegalArgumentException when the config is off ({@link MetricsConfig#OFF})
     * @throws DeskgateException        when the port is taken, or the scrape token file is unreadable or too short
     */
    public static MetricsEndpoint start(MetricsConfig config, PrometheusMeterRegistry metrics) {
        if (!config.enabled()) throw new IllegalArgumentException("metrics are off (port -1)");
        Optional<byte[]> token = config.scrapeTokenFile().map(MetricsEndpoint::readToken);
        if (token.isEmpty() && !MetricsConfig.isLoopback(config.bindHost())) {
            throw new IllegalArgumentException("metrics on " + config.bindHost() + " need a scrape token: it is not a loopback address");
        }
        InetSocketAddress address;
        try {
            address = new InetSocketAddress(config.bindHost().equals("localhost") ? InetAddress.getLoopbackAddress()
                    : InetAddress.getByName(config.bindHost()), config.port());
        } catch (IOException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "metrics bind-host " + config.bindHost() + " does not resolve", e);
        }
        HttpServer server;
        try {
            server = HttpServer.create(address, 16);
        } catch (IOException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "metrics port " + config.port() + " on " + config.bindHost()
                    + " is already in use", e);
        }
        RateLimitedLog refusals = new RateLimitedLog(log);
        server.createContext("/", exchange -> {
            try (exchange) {
                if (!exchange.getRequestURI().getPath().equals("/metrics")) {
                    send(exchange, 404, "text/plain", "not found\n");
                } else if (!exchange.getRequestMethod().equals("GET")) {
                    send(exchange, 405, "text/plain", "GET only\n");
                } else if (token.isPresent() && !authorized(exchange.getRequestHeaders().getFirst("Authorization"), token.get())) {
                    refusals.warn("metrics-token", "metrics scrape from {} refused: no or a wrong scrape token",
                            exchange.getRemoteAddress().getAddress().getHostAddress());
                    exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
                    send(exchange, 401, "text/plain", "scrape token required\n");
                } else {
                    send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
                }
            }
        });
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "metrics-" + config.port());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(thread);
        server.start();
        String host = server.getAddress().getAddress().getHostAddress();
        MetricsEndpoint endpoint = new MetricsEndpoint(server, thread, host.contains(":") ? "[" + host + "]" : host);
        log.info("serving GET /metrics at {}{}", endpoint.url(), token.isPresent() ? " (scrape token required)" : "");
        return endpoint;
    }

    /** The token in {@code file}, trimmed; refused when unreadable or shorter than {@value #MIN_TOKEN_LENGTH}. */
    static byte[] readToken(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "metrics scrape-token-file " + file + " is unreadable: " + e.getMessage(), e);
        }
        if (text.length() < MIN_TOKEN_LENGTH) {
            throw new DeskgateException(Status.BAD_REQUEST, "metrics scrape-token-file " + file + " holds fewer than "
                    + MIN_TOKEN_LENGTH + " characters");
        }
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Whether {@code header} is {@code Bearer <token>}: the digests compared in constant time, so no length or prefix leaks. */
    static boolean authorized(String header, byte[] token) {
        if (header == null || !header.startsWith("Bearer ")) return false;
        byte[] given = header.substring("Bearer ".length()).strip().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(sha256(given), sha256(token));
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from the JDK", e);
        }
    }

    private static void send(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** Where it is served. */
    public URI url() {
        return URI.create("http://" + host + ":" + server.getAddress().getPort() + "/metrics");
    }

    @Override
    public void close() {
        server.stop(0);
        thread.shutdownNow();
    }
}
