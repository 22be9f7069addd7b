package io.deskgate.agent;

import io.deskgate.common.RateLimitedLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which agent concentrator this agent reports to in every concentrator set (seed 001: "each virtual
 * machine is assigned to a particular agent concentrator of each of a plurality of sets ... according to a
 * selection by the corresponding agent"). Pure: fed the registry's concentrator rows and the fate of the
 * agent's streams, returns which streams to open and close; time is an input.
 *
 * <p>Policy: one concentrator per set, never two. A new choice is the least loaded live concentrator of
 * the set; equal loads are broken by a hash of (agent id, concentrator id), so agents that start together
 * spread over equally loaded concentrators instead of all taking the first. A choice is sticky while it
 * lives: a lighter concentrator appearing later does not move the agent (moving costs a snapshot and
 * buys little). It is re-selected when its row leaves the registry or is older than the heartbeat timeout
 * (it died or left), or at once when the agent's stream to it fails; a concentrator whose stream failed is
 * avoided for {@code avoidNs} unless it is the only one of its set. A set with no live concentrator has
 * no choice until one appears.
 *
 * <p>Bad rows (blank id or set, an id listed in two sets or twice) are ignored, each with one
 * rate-limited line. Not thread-safe: owned by the agent's loop.
 */
final class ConcentratorChoice {
    private static final Logger LOG = LoggerFactory.getLogger(ConcentratorChoice.class);

    /** A registry row of a concentrator: its id, its set, its load as it last reported, when it last heartbeat. */
    record Concentrator(String id, String set, long load, long heartbeatNs) {
        Concentrator {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(set, "set");
        }
    }

    sealed interface Action permits Connect, Disconnect {}

    /** Open a report stream to {@code concentratorId}, this agent's choice in {@code set}; send a full snapshot first. */
    record Connect(String set, String concentratorId) implements Action {}

    /** Close the stream to {@code concentratorId}: it is no longer the choice in {@code set}. */
    record Disconnect(String set, String concentratorId) implements Action {}

    private final String agentId;
    private final long heartbeatTimeoutNs;
    private final long avoidNs;
    private final RateLimitedLog badRows;
    /** Set to the chosen concentrator's id; sorted so actions come in a stable order. */
    private final Map<String, String> chosen = new TreeMap<>();
    /** Concentrator id to when the agent may choose it again after its stream failed. */
    private final Map<String, Long> avoidUntilNs = new HashMap<>();
    private List<Concentrator> live = List.of();
    private long lastNowNs;

    ConcentratorChoice(String agentId, Duration heartbeatTimeout, Duration avoid) {
        this.agentId = Objects.requireNonNull(agentId, "agentId");
        this.heartbeatTimeoutNs = heartbeatTimeout.toNanos();
        this.avoidNs = avoid.toNanos();
        if (heartbeatTimeoutNs <= 0 || avoidNs < 0) throw new IllegalArgumentException("timeouts must be positive");
        this.badRows = new RateLimitedLog(LOG, RateLimitedLog.DEFAULT_LINES_PER_WINDOW, RateLimitedLog.DEFAULT_WINDOW,
                () -> lastNowNs);
    }

    /** The registry's concentrator rows, read now. Rows older than the heartbeat timeout are of gone concentrators. */
    List<Action> onRegistry(List<Concentrator> rows, long nowNs) {
        lastNowNs = nowNs;
        Map<String, Concentrator> byId = new HashMap<>();
        Set<String> bad = new HashSet<>();
        for (Concentrator c : rows) {
            if (c.id().isBlank() || c.set().isBlank()) {
                badRows.warn("blank", "ignored a concentrator row with a blank id or set");
            } else if (byId.putIfAbsent(c.id(), c) != null) {
                bad.add(c.id());
            }
        }
        for (String id : bad) {
            badRows.warn("twice", "ignored concentrator {}: listed twice in the registry", id);
            byId.remove(id);
        }
        List<Concentrator> fresh = new ArrayList<>();
        for (Concentrator c : byId.values()) if (nowNs - c.heartbeatNs() < heartbeatTimeoutNs) fresh.add(c);
        live = List.copyOf(fresh);
        return reconcile(nowNs);
    }

    /** The report stream to {@code concentratorId} failed (refused, reset, timed out): choose again in its set. */
    List<Action> onStreamFailed(String concentratorId, long nowNs) {
        lastNowNs = nowNs;
        avoidUntilNs.put(concentratorId, nowNs + avoidNs);
        List<Action> actions = new ArrayList<>();
        for (var it = chosen.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (e.getValue().equals(concentratorId)) {
                actions.add(new Disconnect(e.getKey(), concentratorId));
                it.remove();
            }
        }
        actions.addAll(reconcile(nowNs));
        return actions;
    }

    /** The current choice in {@code set}. */
    Optional<String> chosen(String set) {
        return Optional.ofNullable(chosen.get(set));
    }

    /** Set to chosen concentrator id. */
    Map<String, String> choices() {
        return Map.copyOf(chosen);
    }

    private List<Action> reconcile(long nowNs) {
        avoidUntilNs.values().removeIf(until -> nowNs - until >= 0);
        Map<String, List<Concentrator>> sets = new TreeMap<>();
        for (Concentrator c : live) sets.computeIfAbsent(c.set(), k -> new ArrayList<>()).add(c);
        List<Action> actions = new ArrayList<>();
        for (var it = chosen.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            List<Concentrator> members = sets.getOrDefault(e.getKey(), List.of());
            if (members.stream().noneMatch(c -> c.id().equals(e.getValue()))) {
                actions.add(new Disconnect(e.getKey(), e.getValue()));
                it.remove();
            }
        }
        for (var e : sets.entrySet()) {
            if (chosen.containsKey(e.getKey())) continue;
            List<Concentrator> members = e.getValue();
            List<Concentrator> allowed = members.stream().filter(c -> !avoidUntilNs.containsKey(c.id())).toList();
            Concentrator best = (allowed.isEmpty() ? members : allowed).stream()
                    .min(Comparator.comparingLong(Concentrator::load).thenComparingLong(this::spread)
                            .thenComparing(Concentrator::id))
                    .orElseThrow();
            chosen.put(e.getKey(), best.id());
            actions.add(new Connect(e.getKey(), best.id()));
        }
        return actions;
    }

    /** A tie-break that differs between agents (rendezvous hashing), so equal loads spread. */
    private long spread(Concentrator c) {
        long h = fmix(agentId.hashCode() * 0x9E3779B97F4A7C15L) ^ c.id().hashCode();
        return fmix(h);
    }

    /** MurmurHash3's 64-bit finaliser: every input bit moves every output bit. */
    private static long fmix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
