package io.deskgate.bench;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.ProtocolException;
import io.deskgate.common.Status;
import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamMessage;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A browser without a canvas: opens the gateway's WebSocket (docs/protocol.md §2.9) and, as the web viewer
 * does, sends nothing of its own on open (the gateway asks the engine for the whole picture when a browser
 * attaches); decodes each binary message with {@link StreamCodec}, feeds it to a {@link ViewerProbe} and
 * sends the probe's {@code FRAME_ACK}s, so the engine keeps streaming.
 *
 * <p>Threads: the WebSocket's listener runs on the {@link HttpClient}'s executor; the probe is touched only
 * under this object's lock, and sends are chained so that one starts only after the previous completed
 * (as {@link WebSocket} requires). The caller waits with {@link #awaitFullPicture} and then {@link #close}s.
 */
final class HeadlessViewer implements AutoCloseable {
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(2);

    private final ViewerProbe probe;
    private final CompletableFuture<Void> fullPicture = new CompletableFuture<>();
    /** Completes when the gateway has closed its side (or the connection failed). */
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    private CompletableFuture<WebSocket> sends;
    private WebSocket socket;

    private HeadlessViewer(ViewerProbe probe) {
        this.probe = probe;
    }

    /**
     * Opens the stream at {@code uri} (token included) for a canvas of {@code width} x {@code height}.
     *
     * @throws DeskgateException when the WebSocket does not open within {@code timeout}
     */
    static HeadlessViewer open(HttpClient http, URI uri, int width, int height, Duration timeout) {
        HeadlessViewer viewer = new HeadlessViewer(new ViewerProbe(width, height));
        CompletableFuture<WebSocket> opening = http.newWebSocketBuilder().connectTimeout(timeout)
                .buildAsync(uri, viewer.new Listener());
        try {
            opening.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            opening.cancel(true);
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the gateway's WebSocket did not open within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the gateway's WebSocket did not open: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeskgateException(Status.INTERNAL_ERROR, "interrupted while opening the gateway's WebSocket");
        }
        return viewer;
    }

    /**
     * Waits until the picture is complete ({@link ViewerProbe}) and returns when the first frame ended and
     * when the picture became complete, in {@link System#nanoTime()}.
     *
     * @throws DeskgateException when the stream fails, closes or stays incomplete past {@code timeout}
     */
    Times awaitFullPicture(Duration timeout) {
        try {
            fullPicture.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            synchronized (this) {
                throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "no complete picture within " + timeout.toMillis()
                        + " ms (" + probe.framesReceived() + " frames received)");
            }
        } catch (ExecutionException e) {
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "the stream failed before a complete picture: "
                    + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeskgateException(Status.INTERNAL_ERROR, "interrupted while waiting for the picture");
        }
        synchronized (this) {
            return new Times(probe.firstFrameNs().orElseThrow(), probe.fullPictureNs().orElseThrow(), probe.framesReceived());
        }
    }

    /** When the first frame ended and the picture became complete ({@link System#nanoTime()}), and frames seen so far. */
    record Times(long firstFrameNs, long fullPictureNs, int frames) {}

    /**
     * Closes the WebSocket as a browser does: sends a close (1000), waits briefly for the gateway's close in
     * answer, then drops the connection.
     */
    @Override
    public void close() {
        CompletableFuture<Void> closing;
        synchronized (this) {
            if (socket == null) return;
            WebSocket ws = socket;
            closing = sends.thenCompose(w -> ws.sendClose(WebSocket.NORMAL_CLOSURE, "bench done")).thenCompose(w -> closed);
        }
        try {
            closing.get(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // Closing is best effort: abort below drops the connection either way.
        } finally {
            socket.abort();
        }
    }

    private synchronized void send(StreamMessage message) {
        ByteBuffer bytes = ByteBuffer.wrap(StreamCodec.encode(message));
        WebSocket ws = socket;
        sends = sends.thenCompose(w -> ws.sendBinary(bytes, true));
        sends.whenComplete((w, e) -> { if (e != null) fullPicture.completeExceptionally(e); });
    }

    private synchronized void received(byte[] bytes) {
        StreamMessage message;
        try {
            message = StreamCodec.decode(bytes);
        } catch (ProtocolException e) {
            fullPicture.completeExceptionally(e);
            return;
        }
        for (StreamMessage reply : probe.onDown(message, System.nanoTime())) send(reply);
        if (probe.failure().isPresent()) {
            fullPicture.completeExceptionally(new DeskgateException(Status.UPSTREAM_UNAVAILABLE, probe.failure().get()));
        } else if (probe.complete()) {
            fullPicture.complete(null);
        }
    }

    private final class Listener implements WebSocket.Listener {
        @Override
        public void onOpen(WebSocket webSocket) {
            synchronized (HeadlessViewer.this) {
                socket = webSocket;
                // Like viewer.js: no REFRESH_REQUEST of its own; the gateway asks the engine for the whole
                // picture when a browser attaches.
                sends = CompletableFuture.completedFuture(webSocket);
            }
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] whole = null;
            synchronized (HeadlessViewer.this) {
                byte[] chunk = new byte[data.remaining()];
                data.get(chunk);
                partial.writeBytes(chunk);
                if (partial.size() > StreamCodec.MAX_MESSAGE_BYTES) {
                    fullPicture.completeExceptionally(new ProtocolException(Status.TOO_LARGE, "stream message over "
                            + StreamCodec.MAX_MESSAGE_BYTES + " bytes"));
                    partial.reset();
                } else if (last) {
                    whole = partial.toByteArray();
                    partial.reset();
                }
            }
            if (whole != null) received(whole);
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            fullPicture.completeExceptionally(new ProtocolException("the gateway sent a text frame"));
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(null);
            fullPicture.completeExceptionally(new DeskgateException(Status.UPSTREAM_UNAVAILABLE,
                    "the gateway closed the stream (" + statusCode + (reason.isEmpty() ? "" : ", " + reason) + ")"));
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.complete(null);
            fullPicture.completeExceptionally(error);
        }
    }
}
