package io.deskgate.broker;

import io.deskgate.control.PoolScope;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One broker's FindAvailable broadcasts, coalesced (issue 8, "Speed"): per (set, tenant, pool, scope) at most
 * one broadcast in flight (the scope with its {@code persistent} flag: only requests asking the same desktops
 * share a call), and at most {@code maxInFlight} over all of them; a request whose {@link Placement}
 * broadcasts meanwhile waits and joins the next one, which carries every waiting request's user and a
 * limit that covers them all. Each concentrator's answer is shared out: every request of the batch gets
 * the offers of its own user (tenant, user), the count of desktops that user holds there (the per-user limit),
 * and a slice of the free ones that no other request of the batch gets, so requests of one batch never race
 * each other for a desktop. A request that names a desktop is not coalesced (the edge sends it alone). A request still gets each of its
 * set's members' answers (or their failures) as its own broadcast would have, and its Placement still
 * applies its own answer deadline; the coalescer only decides when the shared call is sent.
 *
 * <p>A batch's call runs until the latest {@code lastAnswerNs} among its requests, and at least {@code minCallNs}. It holds its slot until every
 * member answered or failed ({@link #onAnswer}, {@link #onFailed}), or until the earliest answer deadline
 * among its requests passes ({@link #tick}): a dead concentrator holds up the next batch no longer than it
 * holds up the batch's own first request.
 *
 * <p>Linger (off unless {@code lingerNs > 0}): a batch whose slot is free is still held while it has fewer than
 * {@code fullBatch} requests and its first request has waited less than {@code lingerNs}, so that requests
 * arriving within that window share one broadcast (issue 8's messages per placement: a member's FindAvailable
 * and its answer are shared by every request of the batch). {@link #nextDeadlineNs} and {@link #lingerDeadlineNs}
 * then name the linger's end, and {@link #tick} sends it. Pure: time is an input.
 * Not thread-safe: the edge calls it under one lock.
 */
final class BroadcastCoalescer {
    /**
     * A request's broadcast: FindAvailable to {@code concentrators} of {@code setId} for the pool {@code pool} of
     * {@code scope} (empty: the pool name agents report); answers count for it until {@code answerDeadlineNs}
     * (its Placement's), or, while none has come, the first until {@code lastAnswerNs} (the request's deadline).
     */
    record Ask(long requestId, String setId, List<String> concentrators, int tenant, String pool, Optional<PoolScope> scope,
               String user, long answerDeadlineNs, long lastAnswerNs) {
        Ask {
            Objects.requireNonNull(setId, "setId");
            concentrators = List.copyOf(concentrators);
            Objects.requireNonNull(pool, "pool");
            Objects.requireNonNull(scope, "scope");
            Objects.requireNonNull(user, "user");
            if (lastAnswerNs - answerDeadlineNs < 0) throw new IllegalArgumentException("lastAnswerNs before answerDeadlineNs");
        }

        /** Answers count until {@code answerDeadlineNs} only. */
        Ask(long requestId, String setId, List<String> concentrators, int tenant, String pool, Optional<PoolScope> scope,
            String user, long answerDeadlineNs) {
            this(requestId, setId, concentrators, tenant, pool, scope, user, answerDeadlineNs, answerDeadlineNs);
        }

        /** Without a scope. */
        Ask(long requestId, String setId, List<String> concentrators, int tenant, String pool, String user,
            long answerDeadlineNs) {
            this(requestId, setId, concentrators, tenant, pool, Optional.empty(), user, answerDeadlineNs);
        }
    }

    sealed interface Action permits Send, Deliver, DeliverFailed, Silent {}

    /**
     * Send one FindAvailable(tenant, pool, scope, users, limit) to each of {@code concentrators}, the gRPC call
     * under {@code callDeadlineNs} (the latest {@code lastAnswerNs} of its requests, at least the minimum call time); report each answer with {@link #onAnswer} and each failure with
     * {@link #onFailed}, naming {@code batchId}.
     */
    record Send(long batchId, String setId, List<String> concentrators, int tenant, String pool, Optional<PoolScope> scope,
                List<String> users, int limit, long callDeadlineNs) implements Action {}

    /** {@code concentratorId}'s answer for request {@code requestId}: its share, and how many desktops its user holds there. */
    record Deliver(long requestId, String concentratorId, List<Offer> offers, int held) implements Action {}

    /** {@code concentratorId} will not answer request {@code requestId}. */
    record DeliverFailed(long requestId, String concentratorId) implements Action {}

    /**
     * {@code concentratorId} had not answered a batch by the earliest answer deadline of its requests (its call runs
     * on, for a request that has no answer yet): the edge treats it as a call that timed out (marks it failing).
     */
    record Silent(String concentratorId) implements Action {}

    private record Key(String setId, int tenant, String pool, Optional<PoolScope> scope) {}

    private static final class Batch {
        final long id;
        final Key key;
        final List<Ask> asks;
        final List<String> concentrators;
        final Set<String> pending;
        final long slotDeadlineNs;
        boolean holdsSlot = true;

        Batch(long id, Key key, List<Ask> asks, List<String> concentrators, long slotDeadlineNs) {
            this.id = id;
            this.key = key;
            this.asks = asks;
            this.concentrators = concentrators;
            this.pending = new LinkedHashSet<>(concentrators);
            this.slotDeadlineNs = slotDeadlineNs;
        }
    }

    private final int sliceOffers;
    private final int maxLimit;
    private final int maxInFlight;
    private final long minCallNs;
    private final long lingerNs;
    private final int fullBatch;
    /** When each forming batch's first request asked (for the linger). */
    private final Map<Key, Long> formingSinceNs = new HashMap<>();
    private final Map<Key, List<Ask>> waiting = new LinkedHashMap<>();
    private final Map<Long, Batch> open = new HashMap<>();
    private final Map<Key, Batch> holding = new HashMap<>();
    private long nextBatchId = 1;
    private long sent;
    private long asked;

    /**
     * @param sliceOffers the free offers one request should get from a whole set (the single request's
     *                    {@code limit} per concentrator before coalescing, the broker's find limit)
     * @param maxLimit    the largest {@code limit} one FindAvailable asks (the concentrators' cap)
     * @param maxInFlight the most broadcasts in flight at once over every set; the set count keeps one per set
     * @param minCallNs   the least time a batch's call is given (the set's answer timeout), however long its
     *                    requests waited: a call that fails then means the concentrator was silent that long,
     *                    not that the batch was sent late (a failed call marks the concentrator failing)
     */
    BroadcastCoalescer(int sliceOffers, int maxLimit, int maxInFlight, long minCallNs) {
        this(sliceOffers, maxLimit, maxInFlight, minCallNs, 0, 1);
    }

    /**
     * With a linger: a batch whose slot is free is sent once it has {@code fullBatch} requests or its first
     * request has waited {@code lingerNs} (0: no linger, sent at once).
     */
    BroadcastCoalescer(int sliceOffers, int maxLimit, int maxInFlight, long minCallNs, long lingerNs, int fullBatch) {
        if (sliceOffers < 1 || maxLimit < sliceOffers || maxInFlight < 1 || minCallNs < 1 || lingerNs < 0 || fullBatch < 1) {
            throw new IllegalArgumentException("need 1 <= sliceOffers <= maxLimit, maxInFlight >= 1, minCallNs >= 1, "
                    + "lingerNs >= 0 and fullBatch >= 1");
        }
        this.sliceOffers = sliceOffers;
        this.maxLimit = maxLimit;
        this.maxInFlight = maxInFlight;
        this.minCallNs = minCallNs;
        this.lingerNs = lingerNs;
        this.fullBatch = fullBatch;
    }

    /** A request broadcasts: sent now, with any others waiting for its set, or when its set's slot frees. */
    List<Action> ask(Ask a, long nowNs) {
        asked++;
        if (a.concentrators().isEmpty()) return List.of();
        Key key = new Key(a.setId(), a.tenant(), a.pool(), a.scope());
        waiting.computeIfAbsent(key, k -> new ArrayList<>()).add(a);
        formingSinceNs.putIfAbsent(key, nowNs);
        return sendWaiting(nowNs);
    }

    /** Whether a batch for {@code setId} is forming (requests wait to be sent): a new request joins it cheaply. */
    boolean forming(String setId) {
        for (Key k : waiting.keySet()) if (k.setId().equals(setId)) return true;
        return false;
    }

    /** The request ended (or moved on) before its broadcast was sent: it leaves the batch forming. */
    void withdraw(long requestId) {
        for (Iterator<List<Ask>> it = waiting.values().iterator(); it.hasNext(); ) {
            List<Ask> w = it.next();
            w.removeIf(a -> a.requestId() == requestId);
            if (w.isEmpty()) it.remove();
        }
        formingSinceNs.keySet().retainAll(waiting.keySet());
    }

    /** {@code concentratorId} answered batch {@code batchId}, without held counts. */
    List<Action> onAnswer(long batchId, String concentratorId, List<Offer> offers, long nowNs) {
        return onAnswer(batchId, concentratorId, offers, Map.of(), nowNs);
    }

    /**
     * {@code concentratorId} answered batch {@code batchId} with {@code offers} and, by user, how many desktops each
     * holds there (a user missing: none): each of its requests gets its share.
     */
    List<Action> onAnswer(long batchId, String concentratorId, List<Offer> offers, Map<String, Integer> heldByUser, long nowNs) {
        Batch b = open.get(batchId);
        if (b == null || !b.pending.remove(concentratorId)) return List.of();
        List<Action> out = new ArrayList<>(shares(b, concentratorId, offers, heldByUser));
        out.addAll(settle(b, nowNs));
        return out;
    }

    /** The call of batch {@code batchId} to {@code concentratorId} failed: none of its requests gets an answer from it. */
    List<Action> onFailed(long batchId, String concentratorId, long nowNs) {
        Batch b = open.get(batchId);
        if (b == null || !b.pending.remove(concentratorId)) return List.of();
        List<Action> out = new ArrayList<>();
        for (Ask a : b.asks) if (a.concentrators().contains(concentratorId)) out.add(new DeliverFailed(a.requestId(), concentratorId));
        out.addAll(settle(b, nowNs));
        return out;
    }

    /**
     * Time passed: batches past their slot deadline (the earliest answer deadline of their requests) give up their
     * slot, and each member that had not answered is {@link Silent} (their late answers still count).
     */
    List<Action> tick(long nowNs) {
        List<Action> silent = new ArrayList<>();
        boolean freed = false;
        for (Batch b : open.values()) {
            if (b.holdsSlot && nowNs - b.slotDeadlineNs >= 0) {
                release(b);
                freed = true;
                for (String id : b.pending) silent.add(new Silent(id));
            }
        }
        if (!freed && !lingerOver(nowNs)) return List.of();
        silent.addAll(sendWaiting(nowNs));
        return silent;
    }

    /** When {@link #tick} must be called next at the latest, if a batch holds a slot. */
    long nextDeadlineNs(long nowNs) {
        long next = Long.MAX_VALUE;
        for (Batch b : holding.values()) next = Math.min(next, b.slotDeadlineNs);
        next = Math.min(next, lingerDeadlineNs(nowNs).orElse(Long.MAX_VALUE));
        return next == Long.MAX_VALUE ? nowNs + 1_000_000_000L : next;
    }

    /** Broadcasts sent and requests asked, since the start: their ratio is the coalescing. */
    long sent() {
        return sent;
    }

    long asked() {
        return asked;
    }

    /** When the earliest batch held by the linger alone is due ({@link #tick} sends it then), if one is. */
    Optional<Long> lingerDeadlineNs(long nowNs) {
        long next = Long.MAX_VALUE;
        for (Map.Entry<Key, Long> e : formingSinceNs.entrySet()) {
            if (!holding.containsKey(e.getKey()) && lingering(e.getKey(), nowNs)) next = Math.min(next, e.getValue() + lingerNs);
        }
        return next == Long.MAX_VALUE ? Optional.empty() : Optional.of(next);
    }

    // ------------------------------------------------------------------ internals

    /** Whether {@code key}'s forming batch is held back by the linger (not full, its window not over). */
    private boolean lingering(Key key, long nowNs) {
        if (lingerNs == 0) return false;
        List<Ask> w = waiting.get(key);
        Long since = formingSinceNs.get(key);
        if (w == null || since == null || w.size() >= fullBatch) return false;
        return nowNs - since < lingerNs;
    }

    /** Whether some forming batch with a free slot is no longer held by the linger ({@link #tick} must send it). */
    private boolean lingerOver(long nowNs) {
        if (lingerNs == 0) return false;
        for (Key k : waiting.keySet()) if (!holding.containsKey(k) && !lingering(k, nowNs)) return true;
        return false;
    }

    private List<Action> settle(Batch b, long nowNs) {
        if (!b.pending.isEmpty()) return List.of();
        open.remove(b.id);
        if (!b.holdsSlot) return List.of();
        release(b);
        return sendWaiting(nowNs);
    }

    private void release(Batch b) {
        b.holdsSlot = false;
        holding.remove(b.key, b);
    }

    /** Sends the waiting batches whose set has no broadcast in flight, oldest first, while slots are free. */
    private List<Action> sendWaiting(long nowNs) {
        List<Action> out = List.of();
        for (Iterator<Map.Entry<Key, List<Ask>>> it = waiting.entrySet().iterator(); it.hasNext() && holding.size() < maxInFlight; ) {
            Map.Entry<Key, List<Ask>> e = it.next();
            if (holding.containsKey(e.getKey()) || lingering(e.getKey(), nowNs)) continue;
            List<Ask> asks = new ArrayList<>(e.getValue());
            it.remove();
            formingSinceNs.remove(e.getKey());
            asks.removeIf(a -> nowNs - a.lastAnswerNs() >= 0); // its Placement has moved on already
            if (asks.isEmpty()) continue;
            if (out.isEmpty()) out = new ArrayList<>();
            out.add(send(e.getKey(), asks, nowNs));
        }
        return out;
    }

    private Send send(Key key, List<Ask> asks, long nowNs) {
        Set<String> members = new LinkedHashSet<>();
        Set<String> users = new LinkedHashSet<>();
        long earliest = Long.MAX_VALUE;
        long latest = Long.MIN_VALUE;
        for (Ask a : asks) {
            members.addAll(a.concentrators());
            if (!a.user().isEmpty()) users.add(a.user());
            earliest = Math.min(earliest, a.answerDeadlineNs());
            latest = Math.max(latest, a.lastAnswerNs());
        }
        List<String> concentrators = List.copyOf(members);
        Batch b = new Batch(nextBatchId++, key, List.copyOf(asks), concentrators, earliest);
        open.put(b.id, b);
        holding.put(key, b);
        sent++;
        // Each request's slice of the set's free offers is about what a lone request got.
        long wanted = ((long) sliceOffers * asks.size() + concentrators.size() - 1) / concentrators.size();
        int limit = (int) Math.min(maxLimit, Math.max(sliceOffers, wanted));
        long callDeadline = Math.max(latest, nowNs + minCallNs);
        return new Send(b.id, key.setId(), concentrators, key.tenant(), key.pool(), key.scope(), List.copyOf(users), limit,
                callDeadline);
    }

    /**
     * The share of each request of {@code b} in {@code concentratorId}'s offers: the offers held by or dedicated
     * to its user, and every m-th free offer (m the requests that asked this concentrator), starting at its
     * own position shifted by the concentrator's, so the head of each concentrator's list (its least
     * recently assigned) goes to a different request.
     */
    private List<Action> shares(Batch b, String concentratorId, List<Offer> offers, Map<String, Integer> heldByUser) {
        List<Ask> asking = new ArrayList<>(b.asks.size());
        for (Ask a : b.asks) if (a.concentrators().contains(concentratorId)) asking.add(a);
        int m = asking.size();
        if (m == 0) return List.of();
        List<List<Offer>> share = new ArrayList<>(m);
        for (int i = 0; i < m; i++) share.add(new ArrayList<>());
        int shift = Math.max(0, b.concentrators.indexOf(concentratorId));
        int free = 0;
        for (Offer o : offers) {
            if (o.user().isEmpty()) {
                share.get((free++ + shift) % m).add(o);
            } else if (o.tenant() == b.key.tenant()) {
                for (int i = 0; i < m; i++) if (asking.get(i).user().equals(o.user())) share.get(i).add(o);
            }
        }
        List<Action> out = new ArrayList<>(m);
        for (int i = 0; i < m; i++) {
            // own offers came first in the answer, so each share keeps the concentrator's order
            out.add(new Deliver(asking.get(i).requestId(), concentratorId, List.copyOf(share.get(i)),
                    heldByUser.getOrDefault(asking.get(i).user(), 0)));
        }
        return out;
    }
}
