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
 * Answers that come after the deadline, after the merge, or from a concentrator not asked are refused
 * ({@link Answer#LATE}, {@link Answer#NOT_ASKED}), so the caller logs and ignores them. Pure; time is
 * an input. Not thread-safe.
 */
final class AvailableMerge {
    enum Answer { TAKEN, LATE, NOT_ASKED, REPEATED }

    private final long deadlineNs;
    private final Set<String> waiting;
    private final Map<String, List<Offer>> answers = new LinkedHashMap<>();
    private final Set<String> failed = new LinkedHashSet<>();
    private boolean merged;

    AvailableMerge(List<String> asked, long deadlineNs) {
        this.waiting = new LinkedHashSet<>(asked);
        this.deadlineNs = deadlineNs;
    }

    Answer onAnswer(String concentratorId, List<Offer> offers, long nowNs) {
        if (merged || nowNs - deadlineNs >= 0) return Answer.LATE;
        if (answers.containsKey(concentratorId) || failed.contains(concentratorId)) return Answer.REPEATED;
        if (!waiting.remove(concentratorId)) return Answer.NOT_ASKED;
        answers.put(concentratorId, List.copyOf(offers));
        return Answer.TAKEN;
    }

    /** The call to {@code concentratorId} failed: it will not answer. */
    void onFailed(String concentratorId) {
        if (!merged && waiting.remove(concentratorId)) failed.add(concentratorId);
    }

    /** Whether the merge is due: every concentrator answered or failed, or the deadline passed. */
    boolean due(long nowNs) {
        return waiting.isEmpty() || nowNs - deadlineNs >= 0;
    }

    long deadlineNs() {
        return deadlineNs;
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
