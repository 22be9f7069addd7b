package io.deskgate.gateway;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashSet;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * The STREAM tokens already used at this gateway, so that each token opens one connection only: a
 * token captured in transit or from a log cannot attach a second browser (and so evict the first).
 * Holds a SHA-256 of each token, never the token, until the token expires (an expired token is refused
 * by its signature check anyway). Bounded by count: expired entries are evicted first, and when the
 * set is full of unexpired tokens a new token is refused rather than forgetting a spent one (fail
 * closed). Thread-safe: the WebSocket event loops share one instance.
 */
final class SpentTokens {
    /** What {@link #spend} found. */
    enum Use { FIRST, REUSED, FULL }

    private record Entry(Instant expiresAt, ByteBuffer digest) {}

    private final int maxEntries;
    private final Set<ByteBuffer> spent = new HashSet<>();
    private final PriorityQueue<Entry> byExpiry = new PriorityQueue<>(Comparator.comparing(Entry::expiresAt));

    SpentTokens(int maxEntries) {
        if (maxEntries < 1) throw new IllegalArgumentException("maxEntries must be at least 1");
        this.maxEntries = maxEntries;
    }

    /**
     * Marks {@code token} (already verified, expiring at {@code expiresAt}) as used.
     *
     * @return {@link Use#FIRST} if it was not used before (it is now), {@link Use#REUSED} if it was,
     *         {@link Use#FULL} if it cannot be remembered (too many unexpired tokens): refuse it too
     */
    synchronized Use spend(String token, Instant expiresAt, Instant now) {
        while (!byExpiry.isEmpty() && !now.isBefore(byExpiry.peek().expiresAt())) spent.remove(byExpiry.poll().digest());
        ByteBuffer digest = ByteBuffer.wrap(sha256(token));
        if (spent.contains(digest)) return Use.REUSED;
        if (spent.size() >= maxEntries) return Use.FULL;
        spent.add(digest);
        byExpiry.add(new Entry(expiresAt, digest));
        return Use.FIRST;
    }

    /** Tokens remembered now. */
    synchronized int size() { return spent.size(); }

    private static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
