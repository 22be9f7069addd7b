package io.deskgate.stream;

import io.deskgate.common.ProtocolException;
import io.deskgate.common.Secrets;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One side of one session's UDP leg (docs/protocol.md §2): fragments, sequences and seals outgoing
 * messages, authenticates, orders and reassembles incoming ones, repairs loss by NACK and
 * retransmission, and keeps the peer alive with keepalives.
 *
 * <p>Single-threaded pure core: no socket, no clock; the caller passes {@code nowNs} (any monotonic
 * nanosecond clock) and writes the returned datagrams to the peer. Not thread-safe: call every method
 * from one thread (the owner's event loop). Returned byte arrays belong to the caller; arrays passed in
 * are not kept.
 */
public final class StreamSession {
    private static final Logger LOG = LoggerFactory.getLogger(StreamSession.class);
    private static final int MAX_NACK_RANGES = 64;
    /** start u64, length u16. */
    static final int NACK_RANGE_BYTES = 10;
    static final int NACK_COUNT_BYTES = 2;
    /** nextSequence u64, oldestRetained u64. */
    static final int KEEPALIVE_BYTES = 16;
    private static final int TAG_BITS = DatagramHeader.TAG_BYTES * 8;
    private static final int RETIRED_EPOCHS = 8;

    /** One cipher per thread for {@link #authentic}, which may be called from any thread. */
    private static final ThreadLocal<Cipher> CHECKER = ThreadLocal.withInitial(StreamSession::newCipher);

    public enum Side { ENGINE, GATEWAY }

    /**
     * What one incoming datagram (or one {@link #tick}) produced.
     *
     * @param delivered     messages now deliverable in order
     * @param replies       datagrams to send back to the peer (NACKs, retransmissions, keepalives)
     * @param refreshNeeded the owner should resync the whole picture (engine: resend the framebuffer;
     *                      gateway: send a RefreshRequest up)
     * @param fresh         the datagram was authentic and new: a DATA sequence not seen before, or a control
     *                      datagram above the peer's control high-water mark. Only a fresh datagram proves the
     *                      peer is alive, so only a fresh one may move the peer's address or refresh its
     *                      liveness; a replay is authentic but never fresh. Always false for {@link #tick}.
     */
    public record Receipt(List<StreamMessage> delivered, List<byte[]> replies, boolean refreshNeeded, boolean fresh) {
        public Receipt {
            delivered = List.copyOf(delivered);
            replies = List.copyOf(replies);
        }

        /** A receipt of nothing heard (not fresh). */
        public Receipt(List<StreamMessage> delivered, List<byte[]> replies, boolean refreshNeeded) {
            this(delivered, replies, refreshNeeded, false);
        }

        static final Receipt EMPTY = new Receipt(List.of(), List.of(), false, false);
    }

    private final Side side;
    private final int tenant;
    private final UUID sessionId;
    private final SecretKeySpec key;
    private final StreamSessionConfig config;
    private final int epoch;
    private final int sendDirection;
    private final int receiveDirection;
    private final int maxNackRanges;
    private final Cipher cipher;
    private final RetransmitBuffer retransmit;

    private long nextControlSequence;
    private long firstSeenNs = Long.MIN_VALUE;
    private long lastSentNs = Long.MIN_VALUE;
    private long lastDataSentNs;
    private boolean tailProbeDue;

    private boolean peerKnown;
    private int peerEpoch;
    private final int[] retiredEpochs = new int[RETIRED_EPOCHS];
    private int retiredCount;
    private long peerControlHigh = -1;
    private Reassembler reassembler;
    private long lastHeardNs = Long.MIN_VALUE;
    private long lastNackNs = Long.MIN_VALUE;

    /**
     * @param key32 the 32-byte session key, {@code StreamKeys.derive(tenant, sessionId.toString())}; copied
     */
    public StreamSession(Side side, int tenant, UUID sessionId, byte[] key32, StreamSessionConfig config) {
        this(side, tenant, sessionId, key32, config, ByteBuffer.wrap(Secrets.randomBytes(4)).getInt());
    }

    /** With a fixed epoch, for golden vectors. */
    StreamSession(Side side, int tenant, UUID sessionId, byte[] key32, StreamSessionConfig config, int epoch) {
        if (key32.length != 32) throw new IllegalArgumentException("session key must be 32 bytes");
        this.side = side;
        this.tenant = tenant;
        this.sessionId = sessionId;
        this.key = new SecretKeySpec(key32.clone(), "AES");
        this.config = config;
        this.epoch = epoch;
        this.sendDirection = side == Side.ENGINE ? DatagramHeader.DIRECTION_DOWN : DatagramHeader.DIRECTION_UP;
        this.receiveDirection = 1 - sendDirection;
        this.maxNackRanges = Math.min(MAX_NACK_RANGES, (config.maxFragmentBytes() - NACK_COUNT_BYTES) / NACK_RANGE_BYTES);
        this.retransmit = new RetransmitBuffer(config.retransmitBufferDatagrams(), config.retransmitBufferBytes());
        this.cipher = newCipher();
    }

    private static Cipher newCipher() {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM unavailable", e);
        }
    }

    public Side side() { return side; }

    public int tenant() { return tenant; }

    public UUID sessionId() { return sessionId; }

    /** This sender instance's epoch (docs/protocol.md §2.2). */
    public int epoch() { return epoch; }

    /**
     * Datagrams to write to the peer for one message (already fragmented, sequenced, encrypted).
     *
     * @throws IllegalArgumentException if the message travels the other way (an engine sends only
     *                                  down messages, a gateway only up messages)
     */
    public List<byte[]> send(StreamMessage message, long nowNs) {
        if (message.isUp() != (side == Side.GATEWAY)) {
            throw new IllegalArgumentException(side + " side cannot send " + message.getClass().getSimpleName());
        }
        touch(nowNs);
        byte[] bytes = StreamCodec.encode(message);
        int perFragment = config.maxFragmentBytes();
        int count = (bytes.length + perFragment - 1) / perFragment;
        List<byte[]> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long sequence = retransmit.end();
            int from = i * perFragment;
            int len = Math.min(perFragment, bytes.length - from);
            byte[] datagram = seal(new DatagramHeader(DatagramHeader.VERSION, DatagramHeader.KIND_DATA, sendDirection,
                    tenant, sessionId, sequence, i, count, epoch), bytes, from, len);
            retransmit.add(sequence, datagram);
            out.add(datagram);
        }
        lastSentNs = nowNs;
        lastDataSentNs = nowNs;
        tailProbeDue = true;
        return out;
    }

    /**
     * One datagram from the peer. Duplicates and replays are dropped: they deliver nothing new, are
     * answered with nothing, and their receipt is not {@link Receipt#fresh() fresh}, so they neither
     * refresh {@link #lastHeardNs} nor may move the owner's idea of the peer's address.
     *
     * @throws ProtocolException for malformed or unauthenticated datagrams (the caller logs one line and carries on)
     */
    public Receipt receive(byte[] datagram, int length, long nowNs) {
        touch(nowNs);
        DatagramHeader h = DatagramHeader.peek(datagram, length)
                .orElseThrow(() -> new ProtocolException("not a deskgate stream datagram (" + length + " bytes)"));
        if (h.tenant() != tenant || !h.sessionId().equals(sessionId)) throw new ProtocolException("datagram for another session");
        if (h.direction() != receiveDirection) throw new ProtocolException("datagram travelling the wrong direction");
        if (h.isControl() ? h.fragmentIndex() != 0 || h.fragmentCount() != 0
                : h.fragmentCount() == 0 || h.fragmentIndex() >= h.fragmentCount() || length == DatagramHeader.OVERHEAD_BYTES) {
            throw new ProtocolException("datagram with bad fragment fields");
        }
        byte[] plain = open(h, datagram, length);
        if (isRetired(h.epoch())) return Receipt.EMPTY;
        boolean refresh = adoptEpoch(h.epoch());
        boolean fresh = true;
        List<byte[]> replies = new ArrayList<>();
        switch (h.kind()) {
            case DatagramHeader.KIND_DATA -> fresh = reassembler.offer(h.sequence(), h.fragmentIndex(), h.fragmentCount(), plain);
            case DatagramHeader.KIND_NACK -> {
                if (!freshControl(h)) return Receipt.EMPTY;
                refresh |= answerNack(plain, replies, nowNs);
            }
            default -> {
                if (!freshControl(h)) return Receipt.EMPTY;
                if (plain.length != KEEPALIVE_BYTES) throw new ProtocolException("keepalive of " + plain.length + " bytes");
                ByteBuffer b = ByteBuffer.wrap(plain);
                long peerEnd = b.getLong();
                long peerOldest = b.getLong();
                if (peerEnd < 0 || peerOldest < 0 || peerOldest > peerEnd) throw new ProtocolException("keepalive with bad sequences");
                reassembler.peerState(peerEnd, peerOldest);
            }
        }
        List<StreamMessage> delivered = new ArrayList<>();
        refresh |= deliver(delivered);
        reassembler.stalled(nowNs); // starts the gap timer when the gap is seen
        if (fresh) lastHeardNs = nowNs;
        return new Receipt(delivered, replies, refresh, fresh);
    }

    /**
     * Timers: NACK retries, keepalives, tail probes, gap give-up. Call at least every 10 ms while active.
     * The receipt's replies are the datagrams to send; its delivered messages and refresh flag are what a
     * gap give-up released (the owner handles them as it handles a {@link #receive} receipt's).
     */
    public Receipt tick(long nowNs) {
        touch(nowNs);
        List<byte[]> out = new ArrayList<>();
        List<StreamMessage> delivered = new ArrayList<>();
        boolean refresh = false;
        if (reassembler != null && reassembler.stalled(nowNs)) {
            long stalledFor = reassembler.stalledForNs(nowNs);
            if (stalledFor >= config.giveUpGapNs()) {
                reassembler.giveUp();
                refresh = deliver(delivered);
                reassembler.stalled(nowNs);
            } else if (stalledFor >= config.nackDelayNs()
                    && (lastNackNs == Long.MIN_VALUE || nowNs - lastNackNs >= 2 * config.nackDelayNs())) {
                List<long[]> ranges = reassembler.missingRanges(maxNackRanges);
                if (!ranges.isEmpty()) {
                    out.add(nack(ranges));
                    lastNackNs = nowNs;
                }
            }
        }
        if ((tailProbeDue && nowNs - lastDataSentNs >= config.nackDelayNs())
                || lastSentNs == Long.MIN_VALUE || nowNs - lastSentNs >= config.keepaliveIntervalNs()) {
            out.add(keepalive());
            tailProbeDue = false;
        }
        if (!out.isEmpty()) lastSentNs = nowNs;
        return new Receipt(delivered, out, refresh);
    }

    /** A keepalive to send now, e.g. when the owner has just learned the peer's address. */
    public byte[] probe(long nowNs) {
        touch(nowNs);
        lastSentNs = nowNs;
        return keepalive();
    }

    /**
     * Whether {@code datagram} is a stream datagram sealed under {@code key32}: its header parses and its
     * tag verifies. Keeps no state and says nothing about replay or about the fields {@link #receive}
     * checks; it lets an owner refuse a forged datagram before it creates (and allocates) a session for
     * it. Thread-safe.
     */
    public static boolean authentic(byte[] key32, byte[] datagram, int length) {
        if (key32.length != 32) throw new IllegalArgumentException("session key must be 32 bytes");
        DatagramHeader h = DatagramHeader.peek(datagram, length).orElse(null);
        if (h == null) return false;
        Cipher c = CHECKER.get();
        try {
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key32, "AES"), new GCMParameterSpec(TAG_BITS, h.nonce()));
            c.updateAAD(datagram, 0, DatagramHeader.HEADER_BYTES);
            c.doFinal(datagram, DatagramHeader.HEADER_BYTES, length - DatagramHeader.HEADER_BYTES);
            return true;
        } catch (AEADBadTagException e) {
            return false;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM opening failed", e);
        }
    }

    /** Last fresh (authentic and not replayed) datagram from the peer, {@link Long#MIN_VALUE} if none. */
    public long lastHeardNs() { return lastHeardNs; }

    /** True when nothing fresh came from the peer for {@code peerTimeoutNs} (counted from first use if never). */
    public boolean peerTimedOut(long nowNs) {
        long base = lastHeardNs != Long.MIN_VALUE ? lastHeardNs : firstSeenNs;
        return base != Long.MIN_VALUE && nowNs - base > config.peerTimeoutNs();
    }

    // ------------------------------------------------------------ receiving

    private boolean adoptEpoch(int e) {
        if (peerKnown && peerEpoch == e) return false;
        boolean restarted = peerKnown;
        if (restarted) {
            retiredEpochs[retiredCount++ % RETIRED_EPOCHS] = peerEpoch;
            LOG.info("stream session {} peer restarted (new epoch)", sessionId);
        }
        peerKnown = true;
        peerEpoch = e;
        peerControlHigh = -1;
        lastNackNs = Long.MIN_VALUE;
        reassembler = new Reassembler(config.retransmitBufferDatagrams(), config.retransmitBufferBytes());
        return restarted;
    }

    private boolean isRetired(int e) {
        for (int i = 0; i < Math.min(retiredCount, RETIRED_EPOCHS); i++) {
            if (retiredEpochs[i] == e && !(peerKnown && peerEpoch == e)) return true;
        }
        return false;
    }

    private boolean freshControl(DatagramHeader h) {
        if (h.sequence() <= peerControlHigh) return false;
        peerControlHigh = h.sequence();
        return true;
    }

    /** Moves deliverable messages into {@code out}; returns true if a gap was skipped or a message was dropped. */
    private boolean deliver(List<StreamMessage> out) {
        boolean refresh = false;
        for (byte[] bytes : reassembler.drain()) {
            try {
                StreamMessage m = StreamCodec.decode(bytes);
                if (m.isUp() != (side == Side.ENGINE)) throw new ProtocolException("message type " + m.type() + " in the wrong direction");
                out.add(m);
            } catch (ProtocolException e) {
                LOG.warn("stream session {}: dropped an authentic but malformed message: {}", sessionId, e.getMessage());
                refresh = true;
            }
        }
        return reassembler.takeSkipped() | refresh;
    }

    /** Queues retransmissions; returns true (and queues a keepalive) if some asked-for datagram is gone. */
    private boolean answerNack(byte[] plain, List<byte[]> replies, long nowNs) {
        ByteBuffer b = ByteBuffer.wrap(plain);
        if (plain.length < NACK_COUNT_BYTES) throw new ProtocolException("empty NACK");
        int ranges = b.getShort() & 0xffff;
        if (ranges == 0 || ranges > MAX_NACK_RANGES || plain.length != NACK_COUNT_BYTES + ranges * NACK_RANGE_BYTES) {
            throw new ProtocolException("NACK of " + plain.length + " bytes with " + ranges + " ranges");
        }
        boolean gone = false;
        int budget = config.retransmitBufferDatagrams();
        for (int r = 0; r < ranges; r++) {
            long start = b.getLong();
            int len = b.getShort() & 0xffff;
            if (start < 0) throw new ProtocolException("NACK with bad sequence");
            for (long s = start; s < start + len && s < retransmit.end() && budget > 0; s++) {
                if (s < retransmit.oldest()) {
                    gone = true;
                    continue;
                }
                replies.add(retransmit.get(s).orElseThrow());
                budget--;
            }
        }
        if (gone) {
            LOG.info("stream session {}: peer asked for datagrams no longer buffered; refresh needed", sessionId);
            replies.add(keepalive());
        }
        if (!replies.isEmpty()) lastSentNs = nowNs;
        return gone;
    }

    // ------------------------------------------------------------ sealing

    private byte[] nack(List<long[]> ranges) {
        ByteBuffer b = ByteBuffer.allocate(NACK_COUNT_BYTES + ranges.size() * NACK_RANGE_BYTES);
        b.putShort((short) ranges.size());
        for (long[] r : ranges) b.putLong(r[0]).putShort((short) r[1]);
        return control(DatagramHeader.KIND_NACK, b.array());
    }

    private byte[] keepalive() {
        byte[] p = ByteBuffer.allocate(KEEPALIVE_BYTES).putLong(retransmit.end()).putLong(retransmit.oldest()).array();
        return control(DatagramHeader.KIND_KEEPALIVE, p);
    }

    private byte[] control(int kind, byte[] payload) {
        long sequence = nextControlSequence++;
        if (sequence > DatagramHeader.MAX_SEQUENCE) throw new IllegalStateException("control sequence exhausted");
        return seal(new DatagramHeader(DatagramHeader.VERSION, kind, sendDirection, tenant, sessionId, sequence, 0, 0, epoch),
                payload, 0, payload.length);
    }

    private byte[] seal(DatagramHeader h, byte[] plain, int from, int len) {
        byte[] out = new byte[DatagramHeader.HEADER_BYTES + len + DatagramHeader.TAG_BYTES];
        h.writeTo(out);
        try {
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, h.nonce()));
            cipher.updateAAD(out, 0, DatagramHeader.HEADER_BYTES);
            cipher.doFinal(plain, from, len, out, DatagramHeader.HEADER_BYTES);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM sealing failed", e);
        }
        return out;
    }

    private byte[] open(DatagramHeader h, byte[] datagram, int length) {
        try {
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, h.nonce()));
            cipher.updateAAD(datagram, 0, DatagramHeader.HEADER_BYTES);
            return cipher.doFinal(datagram, DatagramHeader.HEADER_BYTES, length - DatagramHeader.HEADER_BYTES);
        } catch (AEADBadTagException e) {
            throw new ProtocolException("datagram failed authentication");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM opening failed", e);
        }
    }

    private void touch(long nowNs) {
        if (firstSeenNs == Long.MIN_VALUE) firstSeenNs = nowNs;
    }

    @Override public String toString() {
        return "StreamSession[" + side + " tenant=" + Integer.toUnsignedString(tenant) + " session=" + sessionId
                + " epoch=" + Integer.toHexString(epoch) + "]";
    }
}
