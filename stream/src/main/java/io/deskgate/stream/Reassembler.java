package io.deskgate.stream;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The receiving half of one peer epoch: holds authentic DATA fragments by sequence, releases whole
 * messages strictly in sequence order, tracks the gap that blocks delivery and lists the missing
 * sequences for a NACK (docs/protocol.md §2.4). Bounded by a window of sequences ahead of the next
 * expected one and by bytes held. Single-threaded; time is passed in.
 */
final class Reassembler {
    /** Fragments of one message are consecutive sequences 0..count-1. */
    private record Fragment(int index, int count, byte[] bytes) {}

    private final int window;
    private final long maxBytes;
    private final TreeMap<Long, Fragment> pending = new TreeMap<>();
    private long pendingBytes;
    private boolean fresh = true;
    /** The first sequence not yet delivered or skipped. */
    private long next;
    /** One past the highest sequence the peer is known to have sent. */
    private long knownEnd;
    /** The sender no longer holds sequences below this: a gap there is never repaired. */
    private long lostBelow;
    /** Set when a gap was skipped (given up, evicted at the sender, or joined mid-stream). */
    private boolean skipped;
    private long stallNext = -1;
    private long stallSinceNs;

    Reassembler(int window, long maxBytes) {
        this.window = window;
        this.maxBytes = maxBytes;
    }

    /** Accepts one fragment; returns false for a duplicate or replay (already delivered, skipped or held). */
    boolean offer(long sequence, int index, int count, byte[] bytes) {
        if (fresh) join(sequence < window ? 0 : sequence - index);
        if (sequence < next || pending.containsKey(sequence)) return false;
        knownEnd = Math.max(knownEnd, sequence + 1);
        if (sequence - next >= window) skipTo(sequence - window + 1);
        if (pendingBytes + bytes.length > maxBytes) return true; // not held now; it is NACKed like a loss
        pending.put(sequence, new Fragment(index, count, bytes));
        pendingBytes += bytes.length;
        return true;
    }

    /**
     * What a peer keepalive says: it has sent everything below {@code peerEnd} and still holds
     * everything from {@code peerOldest}; anything missing below that is gone for good.
     */
    void peerState(long peerEnd, long peerOldest) {
        if (fresh) join(peerOldest);
        knownEnd = Math.max(knownEnd, peerEnd);
        lostBelow = Math.max(lostBelow, Math.min(peerOldest, knownEnd));
    }

    /** Whole messages now deliverable, in order. */
    List<byte[]> drain() {
        List<byte[]> out = new ArrayList<>();
        while (true) {
            Fragment f = pending.get(next);
            if (f == null && next < lostBelow) { // gone at the sender: skip to what we hold or to its oldest
                Long held = pending.ceilingKey(next);
                skipTo(held == null ? lostBelow : Math.min(held, lostBelow));
                continue;
            }
            if (f == null) break;
            if (f.index != 0) { // the tail of a message whose head was skipped
                remove(next);
                next++;
                skipped = true;
                continue;
            }
            int n = f.count;
            if (!pending.containsKey(next + n - 1) && next + n - 1 >= lostBelow) break; // cheap test before the walk
            int have = 1;
            boolean consistent = true;
            long total = f.bytes.length;
            for (; have < n; have++) {
                Fragment g = pending.get(next + have);
                if (g == null) break;
                if (g.index != have || g.count != n) { consistent = false; break; }
                total += g.bytes.length;
            }
            if (consistent && have < n && next + have >= lostBelow) break;
            if (!consistent || have < n || total > StreamCodec.MAX_MESSAGE_BYTES) { // an authentic but broken message
                for (int i = 0; i < have; i++) remove(next + i);
                next += have;
                skipped = true;
                continue;
            }
            byte[] message = new byte[(int) total];
            int at = 0;
            for (int i = 0; i < n; i++) {
                byte[] b = remove(next + i).bytes;
                System.arraycopy(b, 0, message, at, b.length);
                at += b.length;
            }
            next += n;
            out.add(message);
        }
        return out;
    }

    /** True while something the peer sent is not yet deliverable. Updates the stall timer. */
    boolean stalled(long nowNs) {
        boolean stalled = next < knownEnd;
        if (!stalled) {
            stallNext = -1;
        } else if (stallNext != next) {
            stallNext = next;
            stallSinceNs = nowNs;
        }
        return stalled;
    }

    /** How long the current gap has blocked delivery; only meaningful after {@link #stalled} returned true. */
    long stalledForNs(long nowNs) { return nowNs - stallSinceNs; }

    /** Skips the message (or gap) blocking delivery, up to the next message start held or the known end. */
    void giveUp() {
        Map.Entry<Long, Fragment> e = pending.higherEntry(next);
        while (e != null && e.getValue().index != 0) e = pending.higherEntry(e.getKey());
        skipTo(e == null ? knownEnd : e.getKey());
    }

    /** Missing sequences in [next, knownEnd) as {start, length} ranges, at most {@code maxRanges} of at most 65535. */
    List<long[]> missingRanges(int maxRanges) {
        List<long[]> ranges = new ArrayList<>();
        long cursor = next;
        long limit = Math.min(knownEnd, next + window);
        for (long k : pending.subMap(next, true, limit, false).keySet()) {
            if (ranges.size() == maxRanges) return ranges;
            if (k > cursor) addRange(ranges, cursor, k, maxRanges);
            cursor = k + 1;
        }
        if (cursor < limit) addRange(ranges, cursor, limit, maxRanges);
        return ranges;
    }

    /** Returns and clears the skipped flag: true if a gap was skipped since the last call. */
    boolean takeSkipped() {
        boolean s = skipped;
        skipped = false;
        return s;
    }

    long next() { return next; }

    private void join(long start) {
        fresh = false;
        next = start;
        knownEnd = start;
        if (start > 0) skipped = true; // joined mid-stream: earlier messages are not coming
    }

    private void skipTo(long target) {
        if (target <= next) return;
        while (!pending.isEmpty() && pending.firstKey() < target) remove(pending.firstKey());
        next = target;
        knownEnd = Math.max(knownEnd, next);
        skipped = true;
    }

    private Fragment remove(long sequence) {
        Fragment f = pending.remove(sequence);
        pendingBytes -= f.bytes.length;
        return f;
    }

    private static void addRange(List<long[]> ranges, long from, long to, int maxRanges) {
        for (long s = from; s < to && ranges.size() < maxRanges; s += 0xffff) {
            ranges.add(new long[] {s, Math.min(0xffff, to - s)});
        }
    }
}
