package io.deskgate.broker;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The FindAvailable answers of one set's concentrators for one request, gathered until all have answered
 * or the deadline passes (seed 001: "receiving ... from at least one agent concentrator ... a list").
 * When no concentrator has answered by the (answer) deadline, the first answer is still waited for, up to
 * {@code lastNs} (the request's own deadline), and merged alone as soon as it comes: a set whose members are
 * all slow (a loaded host) still gives a desktop, rather than none (seed 001: "at least one").
 * Answers that come after the merge, after the deadline once one answered, after {@code lastNs}, or from a
 * concentrator not asked are refused ({@link Answer#LATE}, {@link Answer#NOT_ASKED}), so the caller logs and
 * ignores them. Pure; time is an input. Not thread-safe.
 */
final class AvailableMerge {
    enum Answer { TAKEN, LATE, NOT_ASKED, REPEATED }

    private final long deadlineNs;
    private final long lastNs;
    private final Set<String> waiting;
    private final Map<String, List<Offer>> answers = new LinkedHashMap<>();
    private final Set<String> failed = new LinkedHashSet<>();
    private boolean merged;
    /** Seen at or past the answer deadline (by {@link #due} or {@link #onAnswer}). */
    private boolean pastDeadline;

    /** Merged at {@code deadlineNs} whatever came (no wait for a first answer past it). */
    AvailableMerge(List<String> asked, long deadlineNs) {
        this(asked, deadlineNs, deadlineNs);
    }

    /**
     * @param deadlineNs the answer deadline: the merge is due then if at least one concentrator answered
     * @param lastNs     if none had by then, the first answer until this (at least {@code deadlineNs})
     */
    AvailableMerge(List<String> asked, long deadlineNs, long lastNs) {
        if (lastNs - deadlineNs < 0) throw new IllegalArgumentException("lastNs must not be before deadlineNs");
        this.waiting = new LinkedHashSet<>(asked);
        this.deadlineNs = deadlineNs;
        this.lastNs = lastNs;
    }

    Answer onAnswer(String concentratorId, List<Offer> offers, long nowNs) {
        if (nowNs - deadlineNs >= 0) pastDeadline = true;
        if (merged || nowNs - lastNs >= 0 || (nowNs - deadlineNs >= 0 && !answers.isEmpty())) return Answer.LATE;
        if (answers.containsKey(concentratorId) || failed.contains(concentratorId)) return Answer.REPEATED;
        if (!waiting.remove(concentratorId)) return Answer.NOT_ASKED;
        answers.put(concentratorId, List.copyOf(offers));
        return Answer.TAKEN;
    }

    /** The call to {@code concentratorId} failed: it will not answer. */
    void onFailed(String concentratorId) {
        if (!merged && waiting.remove(concentratorId)) failed.add(concentratorId);
    }

    /**
     * Whether the merge is due: every concentrator answered or failed, or the deadline passed with at least one
     * answer, or {@code lastNs} passed.
     */
    boolean due(long nowNs) {
        if (nowNs - deadlineNs >= 0) pastDeadline = true;
        return waiting.isEmpty() || nowNs - lastNs >= 0 || (nowNs - deadlineNs >= 0 && !answers.isEmpty());
    }

    /**
     * When to look at the merge next by time alone: the answer deadline until it has been seen passing (the edge
     * ticks then: other work, such as a coalesced broadcast's slot, keys on it), then {@code lastNs} while no
     * concentrator answered.
     */
    long deadlineNs() {
        return pastDeadline && answers.isEmpty() ? lastNs : deadlineNs;
    }

    /** Concentrators that had not answered when the merge was made (late or failed). */
    Set<String> missing() {
        Set<String> out = new LinkedHashSet<>(waiting);
        out.addAll(failed);
        return out;
    }

    int answered() {
        return answers.size();
    }

    /**
     * The merged offers, once: interleaved by position (each concentrator's first, then each one's second,
     * ...), which keeps each concentrator's least-recently-assigned order; a desktop offered by two
     * concentrators (its agent re-homed meanwhile) is kept once, at its highest version.
     */
    List<Offer> merge() {
        merged = true;
        Map<String, Offer> byId = new HashMap<>();
        List<String> order = new ArrayList<>();
        int longest = answers.values().stream().mapToInt(List::size).max().orElse(0);
        for (int i = 0; i < longest; i++) {
            for (List<Offer> list : answers.values()) {
                if (i >= list.size()) continue;
                Offer o = list.get(i);
                Offer had = byId.get(o.desktopId());
                if (had == null) order.add(o.desktopId());
                if (had == null || o.version() > had.version()) byId.put(o.desktopId(), o);
            }
        }
        List<Offer> out = new ArrayList<>(order.size());
        for (String id : order) out.add(byId.get(id));
        return out;
    }
}
