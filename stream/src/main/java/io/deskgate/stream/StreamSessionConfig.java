package io.deskgate.stream;

/**
 * Tuning of one side of a session's UDP leg (docs/protocol.md §2). Validated when built.
 *
 * @param maxDatagramBytes          largest datagram written, header and tag included (default 1400)
 * @param retransmitBufferDatagrams datagrams kept for retransmission; also the receiver's reorder
 *                                  window in datagrams (default 4096)
 * @param retransmitBufferBytes     bytes kept for retransmission; also the receiver's bound on bytes
 *                                  held for reassembly (default 8 MiB, room for one largest message)
 * @param nackDelayNs               how long a gap may stand before the first NACK (reordering allowance);
 *                                  NACKs are retried every twice this, and a sender that has sent data
 *                                  and then nothing for this long sends a tail probe (default 20 ms)
 * @param giveUpGapNs               how long the receiver waits on a gap before it skips ahead and asks
 *                                  for a refresh (default 500 ms)
 * @param keepaliveIntervalNs       a keepalive is sent after this long without sending (default 1 s)
 * @param peerTimeoutNs             the peer is dead after this long without an authentic datagram (default 10 s)
 */
public record StreamSessionConfig(int maxDatagramBytes, int retransmitBufferDatagrams, long retransmitBufferBytes,
                                  long nackDelayNs, long giveUpGapNs, long keepaliveIntervalNs, long peerTimeoutNs) {
    /** Smallest sensible datagram: header, tag and a useful payload. */
    public static final int MIN_DATAGRAM_BYTES = 128;
    /** The largest UDP payload over IPv4. */
    public static final int MAX_DATAGRAM_BYTES = 65_507;

    public StreamSessionConfig {
        if (maxDatagramBytes < MIN_DATAGRAM_BYTES || maxDatagramBytes > MAX_DATAGRAM_BYTES) {
            throw new IllegalArgumentException("maxDatagramBytes must be in [" + MIN_DATAGRAM_BYTES + ", " + MAX_DATAGRAM_BYTES + "]");
        }
        if (retransmitBufferDatagrams < 16 || retransmitBufferDatagrams > 1 << 20) {
            throw new IllegalArgumentException("retransmitBufferDatagrams must be in [16, 1048576]");
        }
        if (retransmitBufferBytes < maxDatagramBytes) throw new IllegalArgumentException("retransmitBufferBytes below one datagram");
        if (nackDelayNs <= 0 || giveUpGapNs <= nackDelayNs || keepaliveIntervalNs <= 0 || peerTimeoutNs <= keepaliveIntervalNs) {
            throw new IllegalArgumentException("need 0 < nackDelayNs < giveUpGapNs and 0 < keepaliveIntervalNs < peerTimeoutNs");
        }
    }

    public static StreamSessionConfig defaults() {
        return new StreamSessionConfig(1400, 4096, 8L << 20, 20_000_000L, 500_000_000L, 1_000_000_000L, 10_000_000_000L);
    }

    /** Payload bytes of one DATA datagram. */
    public int maxFragmentBytes() { return maxDatagramBytes - DatagramHeader.OVERHEAD_BYTES; }

    public StreamSessionConfig withMaxDatagramBytes(int bytes) {
        return new StreamSessionConfig(bytes, retransmitBufferDatagrams, retransmitBufferBytes, nackDelayNs, giveUpGapNs,
                keepaliveIntervalNs, peerTimeoutNs);
    }

    public StreamSessionConfig withRetransmitBuffer(int datagrams, long bytes) {
        return new StreamSessionConfig(maxDatagramBytes, datagrams, bytes, nackDelayNs, giveUpGapNs,
                keepaliveIntervalNs, peerTimeoutNs);
    }
}
