package io.deskgate.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * {@code POST /api/sessions} as {@link FrontdoorClient#launch} sends it (the login cookie, a JSON content type, the
 * body {@code {}}), on one raw HTTP/1.1 keep-alive socket from one local address, answers read by
 * {@link HttpLoad#read}: the launch phases' load generator, so that the bench's own client costs a fraction of what
 * Java's {@link java.net.http.HttpClient} costs per request on the same two cores (the API phase's {@link HttpLoad}
 * does the same). Each answer must be 200 with a session id, a gateway URL and a token, as for
 * {@link FrontdoorClient#launch}. A connection idle longer than {@link #IDLE_REOPEN} is reopened before the next
 * request (the frontdoor closes idle ones after 5 s; a POST sent as it closes would be lost). Not thread-safe: one
 * per worker.
 */
final class RawLaunchClient implements AutoCloseable {
    static final Duration IDLE_REOPEN = Duration.ofSeconds(3);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CONNECT_TIMEOUT_MS = 5_000;

    private final InetSocketAddress target;
    private final InetAddress from;
    private final byte[] request;
    private Socket socket;
    private InputStream in;
    private long lastUsedNs;

    /** @param cookie the login cookie, {@code name=value} */
    RawLaunchClient(InetSocketAddress target, InetAddress from, String cookie) {
        this.target = target;
        this.from = from;
        String body = "{}";
        this.request = ("POST /api/sessions HTTP/1.1\r\nHost: " + target.getHostString() + ":" + target.getPort()
                + "\r\nCookie: " + cookie + "\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: "
                + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII);
    }

    /** One launch; its session id. */
    String launch(Duration timeout) {
        try {
            if (socket != null && System.nanoTime() - lastUsedNs > IDLE_REOPEN.toNanos()) closeSocket();
            if (socket == null) open(timeout);
            socket.getOutputStream().write(request);
            socket.getOutputStream().flush();
            HttpLoad.Answer a = HttpLoad.read(in);
            lastUsedNs = System.nanoTime();
            if (a.close()) closeSocket();
            JsonNode reply = JSON.readTree(a.body());
            if (a.status() != 200) {
                throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "POST /api/sessions answered " + a.status() + ": "
                        + reply.path("error").asText(reply.toString()));
            }
            for (String field : new String[] {"sessionId", "gatewayUrl", "token"}) {
                JsonNode v = reply.path(field);
                if (!v.isTextual() || v.asText().isEmpty()) {
                    throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the launch answer has no " + field);
                }
            }
            return reply.path("sessionId").asText();
        } catch (IOException e) {
            closeSocket();
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "POST /api/sessions failed: " + e.getMessage(), e);
        }
    }

    private void open(Duration timeout) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.setSoTimeout((int) timeout.toMillis());
        s.bind(new InetSocketAddress(from, 0));
        s.connect(target, CONNECT_TIMEOUT_MS);
        socket = s;
        in = new BufferedInputStream(s.getInputStream(), 16 * 1024);
    }

    private void closeSocket() {
        if (socket == null) return;
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing: nothing left to do
        }
        socket = null;
        in = null;
    }

    @Override
    public void close() {
        closeSocket();
    }
}
