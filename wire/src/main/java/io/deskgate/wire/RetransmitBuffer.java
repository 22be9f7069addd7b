package io.deskgate.wire;

import java.util.Optional;

/**
 * The sender's last DATA datagrams, sealed, by sequence, bounded by count and bytes; the oldest is
 * evicted first. Retransmission resends the stored bytes unchanged, so no nonce is ever used for two
 * different plaintexts. Single-threaded.
 */
final class RetransmitBuffer {
    private final byte[][] ring;
    private final long maxBytes;
    private long oldest;
    private long end;
    private long bytes;

    RetransmitBuffer(int maxDatagrams, long maxBytes) {
        this.ring = new byte[maxDatagrams][];
        this.maxBytes = maxBytes;
    }

    /** Stores the datagram of sequence {@code end()}; evicts the oldest while over a bound. */
    void add(long sequence, byte[] datagram) {
        if (sequence != end) throw new IllegalStateException("sequence " + sequence + " added out of order, expected " + end);
        if (end - oldest == ring.length) evictOldest();
        ring[slot(sequence)] = datagram;
        bytes += datagram.length;
        end++;
        while (bytes > maxBytes && end - oldest > 1) evictOldest();
    }

    Optional<byte[]> get(long sequence) {
        return sequence >= oldest && sequence < end ? Optional.of(ring[slot(sequence)]) : Optional.empty();
    }

    /** The oldest sequence still held; {@link #end()} when empty. */
    long oldest() { return oldest; }

    /** The next sequence to be added. */
    long end() { return end; }

    private void evictOldest() {
        int s = slot(oldest);
        bytes -= ring[s].length;
        ring[s] = null;
        oldest++;
    }

    private int slot(long sequence) { return (int) (sequence % ring.length); }
}
