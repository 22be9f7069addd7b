package io.deskgate.gateway;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A browser's WebSocket for tests (java.net.http): records whole binary messages and the close code. */
final class TestBrowser implements WebSocket.Listener {
    final BlockingQueue<byte[]> frames = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
    final WebSocket ws;
    private ByteBuffer partial = ByteBuffer.allocate(0);

    private TestBrowser(HttpClient http, String url, String token) {
        this.ws = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
                .buildAsync(URI.create(url + "?token=" + token), this).orTimeout(10, TimeUnit.SECONDS).join();
    }

    static TestBrowser open(Gateway g, String token) { return open(HttpClient.newHttpClient(), g, token); }

    /** Through {@code http} (for wss, one that trusts the gateway's certificate). */
    static TestBrowser open(HttpClient http, Gateway g, String token) {
        return new TestBrowser(http, g.wsUrl("127.0.0.1"), token);
    }

    @Override public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
        ByteBuffer grown = ByteBuffer.allocate(partial.remaining() + data.remaining());
        grown.put(partial).put(data).flip();
        partial = grown;
        if (last) {
            byte[] whole = new byte[partial.remaining()];
            partial.get(whole);
            frames.add(whole);
            partial = ByteBuffer.allocate(0);
        }
        webSocket.request(1);
        return null;
    }

    @Override public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closeCode.complete(statusCode);
        return null;
    }

    @Override public void onError(WebSocket webSocket, Throwable error) {
        closeCode.completeExceptionally(error);
    }

    void sendBinary(byte[] bytes) { ws.sendBinary(ByteBuffer.wrap(bytes), true).orTimeout(5, TimeUnit.SECONDS).join(); }

    int awaitClose() { return closeCode.orTimeout(10, TimeUnit.SECONDS).join(); }
}
