package io.deskgate.gateway;

import io.deskgate.common.ProtocolException;
import io.deskgate.common.Status;
import io.deskgate.stream.DatagramHeader;
import io.deskgate.stream.StreamKeys;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.ViewerLeft;
import io.deskgate.stream.StreamSession;
import io.deskgate.stream.StreamSession.Receipt;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's sessions: turns engines' datagrams into down messages for attached browsers and
 * browsers' up messages into datagrams for engines. A session is created by the first authentic
 * datagram for it (or by a browser attaching first), so the gateway keeps no handshake state; a
 * datagram for an unknown session is authenticated with a throwaway check before anything is
 * allocated for it. Only a fresh datagram (authentic and not a replay) refreshes a session's liveness
 * or moves its engine address.
 *
 * <p>Owned by the UDP event loop: every method except {@link #size()} and {@link #droppedDatagrams()}
 * must be called on it. Time is passed in.
 */
final class SessionTable {
    /** Where datagrams for engines go. Called on the UDP event loop. */
    interface DatagramOut {
        void send(byte[] datagram, InetSocketAddress to);
    }

    private static final Logger LOG = LoggerFactory.getLogger(SessionTable.class);
    private static final long DROP_LOG_INTERVAL_NS = 1_000_000_000L;

    private final GatewayConfig config;
    private final StreamKeys keys;
    private final DatagramOut out;
    private final Map<SessionKey, GatewaySession> sessions = new HashMap<>();
    private volatile int size;
    private final AtomicLong dropped = new AtomicLong();
    private long lastDropLogNs = Long.MIN_VALUE;
    private long droppedSinceLog;

    private final GatewayMetrics metrics;

    SessionTable(GatewayConfig config, DatagramOut out) {
        this(config, out, GatewayMetrics.unread());
    }

    /** @param out where datagrams for engines go; {@code metrics} counts each one (the caller's {@code out} need not) */
    SessionTable(GatewayConfig config, DatagramOut out, GatewayMetrics metrics) {
        this.config = config;
        this.keys = new StreamKeys(config.streamMasterSecret());
        this.metrics = metrics;
        this.out = (datagram, to) -> {
            metrics.datagramOut(datagram.length);
            out.send(datagram, to);
        };
    }

    /** Sessions held now; any thread. */
    int size() { return size; }

    /** Datagrams dropped as malformed, unauthenticated or unwanted since start; any thread. */
    long droppedDatagrams() { return dropped.get(); }

    /** One datagram from {@code sender}; {@code bytes} is owned by the table from now on. */
    void onDatagram(byte[] bytes, InetSocketAddress sender, long nowNs) {
        metrics.datagramIn(bytes.length);
        Optional<DatagramHeader> peeked = DatagramHeader.peek(bytes, bytes.length);
        if (peeked.isEmpty()) {
            drop(sender, GatewayMetrics.Drop.MALFORMED, "not a stream datagram", nowNs);
            return;
        }
        DatagramHeader h = peeked.get();
        if (h.direction() != DatagramHeader.DIRECTION_DOWN) {
            drop(sender, GatewayMetrics.Drop.WRONG_DIRECTION, "datagram travelling up", nowNs);
            return;
        }
        SessionKey key = new SessionKey(h.tenant(), h.sessionId());
        GatewaySession session = sessions.get(key);
        boolean created = session == null;
        if (created) {
            if (sessions.size() >= config.maxSessions()) {
                drop(sender, GatewayMetrics.Drop.TABLE_FULL, "session table full", nowNs);
                return;
            }
            // A throwaway check first: a forged datagram for an unknown session allocates nothing.
            byte[] k = keys.derive(key.tenant(), key.sessionId().toString());
            if (!StreamSession.authentic(k, bytes, bytes.length)) {
                drop(sender, GatewayMetrics.Drop.AUTH_FAILURE, "datagram failed authentication (tenant " + Integer.toUnsignedString(h.tenant()) + ")", nowNs);
                return;
            }
            session = newSession(key, k, nowNs);
        }
        Receipt receipt;
        try {
            receipt = session.stream().receive(bytes, bytes.length, nowNs);
        } catch (ProtocolException e) {
            drop(sender, GatewayMetrics.Drop.REJECTED, e.getMessage() + " (tenant " + Integer.toUnsignedString(h.tenant()) + ")", nowNs);
            return;
        }
        if (!receipt.fresh()) {
            // Authentic but replayed (or of a retired epoch): proves nothing about the engine, so it neither
            // keeps the session alive nor moves it; anything it released still goes to the known engine.
            if (created) return;
            // A duplicate from the engine itself is normal (a retransmission raced the original); from
            // elsewhere it is a replay.
            if (!sender.equals(session.engineAddress().orElse(null))) drop(sender, GatewayMetrics.Drop.REPLAY, "replayed datagram for session " + key, nowNs);
            apply(session, receipt, nowNs);
            return;
        }
        if (created) put(session);
        session.heardEngine(nowNs);
        if (!sender.equals(session.engineAddress().orElse(null))) {
            boolean first = session.engineAddress().isEmpty();
            session.engineAddress(sender);
            if (first) {
                LOG.info("session {}: engine at {}", key, sender);
                out.send(session.stream().probe(nowNs), sender); // lets the engine NACK anything sent before
            } else {
                LOG.info("session {}: engine moved to {}", key, sender);
            }
        }
        apply(session, receipt, nowNs);
    }

    /**
     * Attaches a browser whose token named {@code key}; a browser already attached is closed. Sends a
     * RefreshRequest up so the new browser gets the whole picture.
     */
    void attach(BrowserLink link, long nowNs) {
        GatewaySession session = sessions.get(link.session());
        if (session == null) {
            if (sessions.size() >= config.maxSessions()) {
                LOG.warn("session {}: refused a browser, session table full", link.session());
                link.close(Status.UPSTREAM_UNAVAILABLE, "gateway full");
                metrics.attach(GatewayMetrics.Attach.TABLE_FULL);
                return;
            }
            session = newSession(link.session(), nowNs);
            put(session);
        }
        session.attach(link).ifPresent(old -> old.close(Status.OK.wsCloseCode(), "replaced by a newer connection to this session"));
        metrics.attach(GatewayMetrics.Attach.ATTACHED);
        LOG.info("session {}: browser attached", link.session());
        sendUp(session, new RefreshRequest(), nowNs);
    }

    /**
     * The browser's connection closed, for whatever reason. If it was still the attached browser (no other
     * browser replaced it), the session has no viewer now: a ViewerLeft goes up so the engine can stop
     * encoding and, after its grace period, let the desktop go.
     */
    void detach(BrowserLink link, long nowNs) {
        GatewaySession session = sessions.get(link.session());
        if (session == null || !session.detach(link)) return;
        LOG.info("session {}: browser left", link.session());
        sendUp(session, new ViewerLeft(), nowNs);
    }

    /** One up message from an attached browser. Ignored if {@code link} is no longer the attached one. */
    void fromBrowser(BrowserLink link, StreamMessage message, long nowNs) {
        GatewaySession session = sessions.get(link.session());
        if (session == null || session.browser().orElse(null) != link) return;
        sendUp(session, message, nowNs);
    }

    /** The browser's socket dropped queued frames: the engine must send the whole picture again. */
    void resync(BrowserLink link, long nowNs) {
        fromBrowser(link, new RefreshRequest(), nowNs);
    }

    /** Timers of every session, and removal of sessions whose engine went quiet. Every ~10 ms. */
    void tick(long nowNs) {
        for (Iterator<GatewaySession> it = sessions.values().iterator(); it.hasNext(); ) {
            GatewaySession s = it.next();
            if (nowNs - s.lastEngineNs() > config.engineIdleTimeoutNs()) {
                it.remove();
                LOG.info("session {}: engine idle, session removed", s.key());
                s.browser().ifPresent(b -> b.close(Status.SESSION_ENDED, "the desktop stream ended"));
                continue;
            }
            if (s.engineAddress().isEmpty()) continue; // nothing to say until the engine is heard
            apply(s, s.stream().tick(nowNs), nowNs);
        }
        size = sessions.size();
    }

    /** Closes every attached browser (gateway shutdown). */
    void closeAll() {
        for (GatewaySession s : sessions.values()) {
            s.browser().ifPresent(b -> b.close(Status.SESSION_ENDED, "gateway shutting down"));
        }
        sessions.clear();
        size = 0;
    }

    private void apply(GatewaySession s, Receipt receipt, long nowNs) {
        s.engineAddress().ifPresent(a -> receipt.replies().forEach(d -> out.send(d, a)));
        Optional<BrowserLink> browser = s.browser();
        if (browser.isPresent()) {
            receipt.delivered().forEach(browser.get()::send);
            metrics.toBrowser(receipt.delivered().size());
        }
        if (receipt.refreshNeeded()) sendUp(s, new RefreshRequest(), nowNs);
    }

    private void sendUp(GatewaySession s, StreamMessage message, long nowNs) {
        List<byte[]> datagrams = s.stream().send(message, nowNs);
        // Without an engine address they stay in the retransmit buffer; the probe sent when the engine is
        // first heard tells it they exist and it NACKs them.
        s.engineAddress().ifPresent(a -> datagrams.forEach(d -> out.send(d, a)));
    }

    private GatewaySession newSession(SessionKey key, long nowNs) {
        return newSession(key, keys.derive(key.tenant(), key.sessionId().toString()), nowNs);
    }

    private GatewaySession newSession(SessionKey key, byte[] k, long nowNs) {
        return new GatewaySession(key, new StreamSession(StreamSession.Side.GATEWAY, key.tenant(), key.sessionId(), k,
                config.stream()), nowNs);
    }

    private void put(GatewaySession s) {
        sessions.put(s.key(), s);
        size = sessions.size();
    }

    private void drop(InetSocketAddress sender, GatewayMetrics.Drop reason, String why, long nowNs) {
        dropped.incrementAndGet();
        metrics.dropped(reason);
        droppedSinceLog++;
        if (lastDropLogNs == Long.MIN_VALUE || nowNs - lastDropLogNs >= DROP_LOG_INTERVAL_NS) {
            LOG.warn("dropped datagram from {}: {} ({} dropped since the last such line)", sender, why, droppedSinceLog);
            lastDropLogNs = nowNs;
            droppedSinceLog = 0;
        }
    }
}
