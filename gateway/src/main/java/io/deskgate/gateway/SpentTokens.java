package io.deskgate.gateway;

import java.time.Instant;
import java.util.Comparator;
import java.util.HashSet;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * The STREAM tokens already used at this gateway, so that each token opens one connection only: a
 * token captured in transit or from a log cannot attach a second browser (and so evict the first).
 * Keyed by the token's id (its signed nonce, {@link io.deskgate.tokens.SignedToken#id}), never by its
 * text: a token has one spelling that verifies, and even another text of the same token would be the same
 * id. Holds the id (not the token, which it cannot rebuild) until the token expires (an expired token is
 * refused by its signature check anyway). Bounded by count: expired entries are evicted first, and when the
 * set is full of unexpired tokens a new token is refused rather than forgetting a spent one (fail
 * closed). Thread-safe: the WebSocket event loops share one instance.
 */
final class SpentTokens {
    /** What {@link #spend} found; {@code UNAVAILABLE}: the store did not record it in time ({@link StoreSpentTokens}). */
    enum Use { FIRST, REUSED, FULL, UNAVAILABLE }

    private record Entry(Instant expiresAt, String id) {}

    private final int maxEntries;
    private final Set<String> spent = new HashSet<>();
    private final PriorityQueue<Entry> byExpiry = new PriorityQueue<>(Comparator.comparing(Entry::expiresAt));

    SpentTokens(int maxEntries) {
        if (maxEntries < 1) throw new IllegalArgumentException("maxEntries must be at least 1");
        this.maxEntries = maxEntries;
    }

    /**
     * Marks the token with id {@code tokenId} (already verified, expiring at {@code expiresAt}) as used.
     *
     * @return {@link Use#FIRST} if it was not used before (it is now), {@link Use#REUSED} if it was,
     *         {@link Use#FULL} if it cannot be remembered (too many unexpired tokens): refuse it too
     */
    synchronized Use spend(String tokenId, Instant expiresAt, Instant now) {
        while (!byExpiry.isEmpty() && !now.isBefore(byExpiry.peek().expiresAt())) spent.remove(byExpiry.poll().id());
        if (spent.contains(tokenId)) return Use.REUSED;
        if (spent.size() >= maxEntries) return Use.FULL;
        spent.add(tokenId);
        byExpiry.add(new Entry(expiresAt, tokenId));
        return Use.FIRST;
    }

    /** Tokens remembered now. */
    synchronized int size() { return spent.size(); }
}
