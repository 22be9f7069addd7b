package io.deskgate.bench;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A closed-loop HTTP/1.1 load generator on raw sockets with keep-alive: {@code connections} connections, each
 * on its own virtual thread sending one request and reading its whole answer before the next, until
 * {@code requests} answers have come back in all or the deadline passes. Every answer must be 200 with exactly
 * the expected body (so two targets that pass answer the same bytes); a connection the server closes is
 * reopened and counted. The same code, the same request bytes, for every target: only host and port differ.
 */
final class HttpLoad {
    private static final int CONNECT_TIMEOUT_MS = 5_000;
    private static final int READ_TIMEOUT_MS = 30_000;
    private static final int MAX_HEADER_BYTES = 16 * 1024;

    /** One run: answers counted, wall time from the first send to the last answer, reconnects. */
    record Run(long answers, long wallNs, long reconnects) {
        double perSecond() {
            return wallNs <= 0 ? 0 : answers * 1e9 / wallNs;
        }
    }

    private HttpLoad() {}

    /**
     * GETs {@code path} on {@code port} of 127.0.0.1 with {@code cookie} over {@code connections} connections
     * until {@code requests} answers, or until {@code deadlineNs} ({@link System#nanoTime()}); fails on the first
     * answer that is not 200 with {@code expectedBody}.
     */
    static Run get(int port, String path, String cookie, byte[] expectedBody, int connections, long requests, long deadlineNs) {
        if (connections < 1 || requests < 1) throw new IllegalArgumentException("connections and requests must be >= 1");
        byte[] request = ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nCookie: " + cookie
                + "\r\nAccept: application/json\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        AtomicLong tickets = new AtomicLong(requests);
        AtomicLong answers = new AtomicLong();
        AtomicLong reconnects = new AtomicLong();
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int c = 0; c < connections; c++) {
            threads.add(Thread.ofVirtual().name("http-load-" + c).start(() -> {
                try {
                    connection(port, request, expectedBody, tickets, answers, reconnects, deadlineNs, failure);
                } catch (RuntimeException e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DeskgateException(Status.INTERNAL_ERROR, "interrupted during the HTTP load");
            }
        }
        long wallNs = System.nanoTime() - t0;
        if (failure.get() != null) throw failure.get();
        return new Run(answers.get(), wallNs, reconnects.get());
    }

    private static void connection(int port, byte[] request, byte[] expectedBody, AtomicLong tickets, AtomicLong answers,
                                   AtomicLong reconnects, long deadlineNs, AtomicReference<RuntimeException> failure) {
        Socket socket = null;
        InputStream in = null;
        try {
            while (failure.get() == null && System.nanoTime() - deadlineNs < 0 && tickets.getAndDecrement() > 0) {
                if (socket == null) {
                    socket = open(port);
                    // One buffer per connection, kept across answers: bytes read ahead belong to the next one.
                    in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
                }
                OutputStream out = socket.getOutputStream();
                out.write(request);
                out.flush();
                Answer a = read(in);
                if (a.status != 200 || !Arrays.equals(a.body, expectedBody)) {
                    throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, String.format(Locale.ROOT,
                            "port %d answered %d with %d bytes, not 200 with the expected %d bytes: %s", port, a.status,
                            a.body.length, expectedBody.length, new String(a.body, 0, Math.min(a.body.length, 200), StandardCharsets.UTF_8)));
                }
                answers.incrementAndGet();
                if (a.close) {
                    socket.close();
                    socket = null;
                    reconnects.incrementAndGet();
                }
            }
        } catch (IOException e) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "HTTP load on port " + port + " failed: " + e.getMessage(), e);
        } finally {
            if (socket != null) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing: nothing left to do
                }
            }
        }
    }

    private static Socket open(int port) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.setSoTimeout(READ_TIMEOUT_MS);
        s.connect(new InetSocketAddress("127.0.0.1", port), CONNECT_TIMEOUT_MS);
        return s;
    }

    /** One answer: its status, its body, whether the server closes the connection after it. */
    record Answer(int status, byte[] body, boolean close) {}

    /** Reads one answer from a buffered stream: status line, headers, then a Content-Length or chunked body. */
    static Answer read(InputStream in) throws IOException {
        String statusLine = line(in);
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) throw new IOException("not an HTTP answer: " + statusLine);
        int status = Integer.parseInt(parts[1]);
        long length = -1;
        boolean chunked = false;
        boolean close = parts[0].equals("HTTP/1.0");
        int headerBytes = 0;
        for (String h = line(in); !h.isEmpty(); h = line(in)) {
            headerBytes += h.length();
            if (headerBytes > MAX_HEADER_BYTES) throw new IOException("headers larger than " + MAX_HEADER_BYTES + " bytes");
            int colon = h.indexOf(':');
            if (colon < 0) continue;
            String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = h.substring(colon + 1).trim();
            switch (name) {
                case "content-length" -> length = Long.parseLong(value);
                case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                case "connection" -> close = value.equalsIgnoreCase("close");
                default -> { }
            }
        }
        byte[] body;
        if (chunked) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (int size = Integer.parseInt(line(in).split(";")[0].trim(), 16); size > 0;
                 size = Integer.parseInt(line(in).split(";")[0].trim(), 16)) {
                b.write(in.readNBytes(size));
                line(in);
            }
            while (!line(in).isEmpty()) {
                // trailers: none expected, skipped
            }
            body = b.toByteArray();
        } else if (length >= 0) {
            body = in.readNBytes((int) length);
            if (body.length != length) throw new IOException("the connection closed inside an answer's body");
        } else {
            throw new IOException("an answer without Content-Length or chunked encoding");
        }
        return new Answer(status, body, close);
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder(64);
        for (int c = in.read(); ; c = in.read()) {
            if (c < 0) throw new IOException("the connection closed inside an answer");
            if (c == '\n') break;
            if (c != '\r') sb.append((char) c);
            if (sb.length() > MAX_HEADER_BYTES) throw new IOException("a header line longer than " + MAX_HEADER_BYTES + " bytes");
        }
        return sb.toString();
    }
}
