package io.deskgate.stream;

import java.util.Optional;

/**
 * The sender's last DATA datagrams, sealed, by sequence, bounded by count and bytes; the oldest is
 * evicted first. Retransmission resends the stored bytes unchanged, so no nonce is ever used for two
 * different plaintexts. The ring is allocated on first use and grows by doubling up to its bound, so a
 * session that sends little (a gateway carries only input up) holds little. Single-threaded.
 */
final class RetransmitBuffer {
    /** Slots of the first ring; it doubles when full until it reaches the bound. */
    static final int INITIAL_SLOTS = 64;

    private final int capacity;
    private final long maxBytes;
    private byte[][] ring = new byte[0][];
    private long oldest;
    private long end;
    private long bytes;

    RetransmitBuffer(int maxDatagrams, long maxBytes) {
        if (maxDatagrams < 1) throw new IllegalArgumentException("maxDatagrams must be at least 1");
        this.capacity = maxDatagrams;
        this.maxBytes = maxBytes;
    }

    /** Stores the datagram of sequence {@code end()}; evicts the oldest while over a bound. */
    void add(long sequence, byte[] datagram) {
        if (sequence != end) throw new IllegalStateException("sequence " + sequence + " added out of order, expected " + end);
        if (end - oldest == capacity) evictOldest();
        if (end - oldest == ring.length) grow();
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

    /** Slots allocated now; for tests. */
    int slots() { return ring.length; }

    private void grow() {
        byte[][] bigger = new byte[Math.min(capacity, Math.max(INITIAL_SLOTS, ring.length * 2))][];
        for (long s = oldest; s < end; s++) bigger[(int) (s % bigger.length)] = ring[slot(s)];
        ring = bigger;
    }

    private void evictOldest() {
        int s = slot(oldest);
        bytes -= ring[s].length;
        ring[s] = null;
        oldest++;
    }

    private int slot(long sequence) { return (int) (sequence % ring.length); }
}
