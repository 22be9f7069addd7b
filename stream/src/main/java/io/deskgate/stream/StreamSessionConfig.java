package io.deskgate.stream;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Duration;

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
            throw new IllegalArgumentException("max-datagram-bytes must be in [" + MIN_DATAGRAM_BYTES + ", " + MAX_DATAGRAM_BYTES + "]: "
                    + maxDatagramBytes);
        }
        if (retransmitBufferDatagrams < 16 || retransmitBufferDatagrams > 1 << 20) {
            throw new IllegalArgumentException("retransmit-buffer-datagrams must be in [16, 1048576]: " + retransmitBufferDatagrams);
        }
        if (retransmitBufferBytes < maxDatagramBytes) throw new IllegalArgumentException("retransmit-buffer-bytes below one datagram: " + retransmitBufferBytes);
        if (nackDelayNs <= 0 || giveUpGapNs <= nackDelayNs) {
            throw new IllegalArgumentException("need 0 < nack-delay < give-up-gap: " + nackDelayNs + " ns, " + giveUpGapNs + " ns");
        }
        if (keepaliveIntervalNs <= 0 || peerTimeoutNs <= keepaliveIntervalNs) {
            throw new IllegalArgumentException("need 0 < keepalive-interval < peer-timeout: " + keepaliveIntervalNs + " ns, "
                    + peerTimeoutNs + " ns");
        }
    }

    /** Every default. */
    public static StreamSessionConfig defaults() {
        return builder().build();
    }

    /** A builder holding every default. */
    public static Builder builder() { return new Builder(); }

    /** A builder holding this config's values. */
    public Builder toBuilder() { return new Builder(this); }

    /** Payload bytes of one DATA datagram. */
    public int maxFragmentBytes() { return maxDatagramBytes - DatagramHeader.OVERHEAD_BYTES; }

    /**
     * Builds a {@link StreamSessionConfig}, validated by {@link #build()}. The methods marked {@code @JsonProperty}
     * are the keys of a config file's {@code stream} section (docs/configuration.md); durations there, ns here.
     */
    public static final class Builder {
        private int maxDatagramBytes = 1400;
        private int retransmitBufferDatagrams = 4096;
        private long retransmitBufferBytes = 8L << 20;
        private long nackDelayNs = 20_000_000L;
        private long giveUpGapNs = 500_000_000L;
        private long keepaliveIntervalNs = 1_000_000_000L;
        private long peerTimeoutNs = 10_000_000_000L;

        private Builder() {}

        private Builder(StreamSessionConfig c) {
            maxDatagramBytes = c.maxDatagramBytes;
            retransmitBufferDatagrams = c.retransmitBufferDatagrams;
            retransmitBufferBytes = c.retransmitBufferBytes;
            nackDelayNs = c.nackDelayNs;
            giveUpGapNs = c.giveUpGapNs;
            keepaliveIntervalNs = c.keepaliveIntervalNs;
            peerTimeoutNs = c.peerTimeoutNs;
        }

        @JsonProperty public Builder maxDatagramBytes(int bytes) { maxDatagramBytes = bytes; return this; }

        @JsonProperty public Builder retransmitBufferDatagrams(int datagrams) { retransmitBufferDatagrams = datagrams; return this; }

        @JsonProperty public Builder retransmitBufferBytes(long bytes) { retransmitBufferBytes = bytes; return this; }

        public Builder nackDelayNs(long ns) { nackDelayNs = ns; return this; }

        @JsonProperty public Builder nackDelay(Duration d) { return nackDelayNs(d.toNanos()); }

        public Builder giveUpGapNs(long ns) { giveUpGapNs = ns; return this; }

        @JsonProperty public Builder giveUpGap(Duration d) { return giveUpGapNs(d.toNanos()); }

        public Builder keepaliveIntervalNs(long ns) { keepaliveIntervalNs = ns; return this; }

        @JsonProperty public Builder keepaliveInterval(Duration d) { return keepaliveIntervalNs(d.toNanos()); }

        public Builder peerTimeoutNs(long ns) { peerTimeoutNs = ns; return this; }

        @JsonProperty public Builder peerTimeout(Duration d) { return peerTimeoutNs(d.toNanos()); }

        /** @throws IllegalArgumentException naming the key of a value out of range */
        public StreamSessionConfig build() {
            return new StreamSessionConfig(maxDatagramBytes, retransmitBufferDatagrams, retransmitBufferBytes, nackDelayNs,
                    giveUpGapNs, keepaliveIntervalNs, peerTimeoutNs);
        }
    }
}
