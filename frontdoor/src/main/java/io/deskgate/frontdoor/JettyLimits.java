package io.deskgate.frontdoor;

import io.javalin.config.JavalinConfig;
import java.time.Duration;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.handler.EagerContentHandler;
import org.eclipse.jetty.server.handler.QoSHandler;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * How the portal's Jetty bounds what a client can hold. No request thread ever waits on a client's bytes:
 * headers are parsed as they arrive, and a body is read in full without a thread
 * ({@link EagerContentHandler}, at most {@link #MAX_REQUEST_BYTES}, larger is 413) before the request is
 * dispatched. A connection that sends nothing for {@link #IDLE_TIMEOUT} is closed, and one whose request
 * body is not complete {@link #BODY_DEADLINE} after its headers is closed too ({@link BodyDeadline}), so a
 * trickle cannot hold a connection open forever. Request threads are a bounded pool ({@link #MAX_THREADS}); at
 * most {@link #MAX_ACTIVE_REQUESTS} fully read requests are handled at once, at most
 * {@link #MAX_WAITING_REQUESTS} more wait (without a thread) for at most {@link #MAX_WAIT}, and the rest
 * are answered 503 ({@link QoSHandler}): a bounded request queue. (Jetty's own job queue stays unbounded,
 * as Jetty requires; nothing a client sends queues there for long.)
 */
final class JettyLimits {
    static final int MAX_THREADS = 64;
    static final int MIN_THREADS = 8;
    static final int MAX_ACTIVE_REQUESTS = 48;
    static final int MAX_WAITING_REQUESTS = 1024;
    static final Duration MAX_WAIT = Duration.ofSeconds(10);
    static final Duration THREAD_IDLE_TIMEOUT = Duration.ofSeconds(60);
    /** A connection silent for this long (between requests, or in the middle of one) is closed. */
    static final Duration IDLE_TIMEOUT = Duration.ofSeconds(5);
    /** A request whose body is not complete this long after its headers loses its connection. */
    static final Duration BODY_DEADLINE = Duration.ofSeconds(10);
    /** Largest request Jetty accepts at all; the API's own limit ({@link Json#MAX_BODY_BYTES}) is lower. */
    static final long MAX_REQUEST_BYTES = 64 * 1024;

    private JettyLimits() {}

    /**
     * Applies the limits and the portal's one connector (HTTPS when {@code ssl} is present) to a Javalin
     * configuration.
     */
    static void apply(JavalinConfig cfg, String host, int port, Optional<SSLContext> ssl) {
        QueuedThreadPool pool = new QueuedThreadPool(MAX_THREADS, MIN_THREADS, (int) THREAD_IDLE_TIMEOUT.toMillis());
        pool.setName("frontdoor-http");
        cfg.jetty.threadPool = pool;
        cfg.http.maxRequestSize = MAX_REQUEST_BYTES;
        cfg.jetty.host = host;
        cfg.jetty.port = port;
        cfg.jetty.modifyServer(server -> {
            QoSHandler qos = new QoSHandler();
            qos.setMaxRequestCount(MAX_ACTIVE_REQUESTS);
            qos.setMaxSuspendedRequestCount(MAX_WAITING_REQUESTS);
            qos.setMaxSuspend(MAX_WAIT);
            EagerContentHandler eager = new EagerContentHandler(
                    new EagerContentHandler.RetainedContentLoaderFactory(MAX_REQUEST_BYTES, 0, true));
            eager.setHandler(BodyDeadline.reached(qos));
            // Outermost first: the deadline, then the body is read in full, then the bounded handling.
            server.setHandler(BodyDeadline.start(eager, BODY_DEADLINE));
        });
        cfg.jetty.addConnector((server, httpConfig) -> {
            ServerConnector connector;
            if (ssl.isPresent()) {
                HttpConfiguration https = new HttpConfiguration(httpConfig);
                SecureRequestCustomizer secure = new SecureRequestCustomizer();
                secure.setSniHostCheck(false); // the self-signed certificate need not name every alias
                https.addCustomizer(secure);
                SslContextFactory.Server factory = new SslContextFactory.Server();
                factory.setSslContext(ssl.get());
                connector = new ServerConnector(server, new SslConnectionFactory(factory, "http/1.1"),
                        new HttpConnectionFactory(https));
            } else {
                connector = new ServerConnector(server, new HttpConnectionFactory(httpConfig));
            }
            connector.setHost(host);
            connector.setPort(port);
            connector.setIdleTimeout(IDLE_TIMEOUT.toMillis());
            connector.setAcceptQueueSize(1024);
            return connector;
        });
    }
}
