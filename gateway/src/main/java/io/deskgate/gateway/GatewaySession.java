package io.deskgate.gateway;

import io.deskgate.stream.StreamSession;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * One session at the gateway: the UDP leg toward its engine and, separately, the browser attached to
 * it (a connection is not its viewers). Owned by the UDP event loop; not thread-safe.
 */
final class GatewaySession {
    private final SessionKey key;
    private final StreamSession stream;
    private InetSocketAddress engineAddress;
    private BrowserLink browser;
    private long lastEngineNs;

    GatewaySession(SessionKey key, StreamSession stream, long nowNs) {
        this.key = key;
        this.stream = stream;
        this.lastEngineNs = nowNs;
    }

    SessionKey key() { return key; }

    StreamSession stream() { return stream; }

    Optional<InetSocketAddress> engineAddress() { return Optional.ofNullable(engineAddress); }

    void engineAddress(InetSocketAddress address) { this.engineAddress = address; }

    Optional<BrowserLink> browser() { return Optional.ofNullable(browser); }

    /** Replaces the attached browser; returns the one it replaced, if any. */
    Optional<BrowserLink> attach(BrowserLink link) {
        BrowserLink old = browser;
        browser = link;
        return Optional.ofNullable(old);
    }

    /**
     * Detaches {@code link} if it is still the attached browser.
     *
     * @return true if it was, so the session has no browser now; false if another browser replaced it
     */
    boolean detach(BrowserLink link) {
        if (browser != link) return false;
        browser = null;
        return true;
    }

    long lastEngineNs() { return lastEngineNs; }

    void heardEngine(long nowNs) { lastEngineNs = nowNs; }
}
