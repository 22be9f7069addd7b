package io.deskgate.frontdoor;

import io.deskgate.store.RegistryEntry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * This frontdoor's own launches that an engine's published tally may not show yet (seed 000: "counts its
 * own launches in flight, so that two frontdoors do not pile onto one engine between updates"). A launch
 * counts from the moment its engine is chosen ({@link #begin}) until the engine's registry row shows a
 * heartbeat that certainly includes it: after the launch completed ({@link #launched}), the first reading
 * of the registry ({@link #observe}) marks the heartbeat time it sees; the launch stops counting at the
 * first later heartbeat, which the engine sent after the instance was registered. A failed launch stops
 * counting at once ({@link #failed}); a restarted engine (new incarnation) or one gone from the registry
 * drops its completed launches (its instances are gone with it). Only the row's own heartbeat times are
 * compared, never two machines' clocks.
 *
 * <p>Readings are numbered in the order they started ({@link LiveRoles}): a launch completed when {@code n} readings
 * had started ({@link #launched(long, long)}) is judged only by readings numbered above {@code n}, which started after
 * it completed; so a reading taken before the launch completed (a background view) never retires it. Observing the
 * same reading again changes nothing and costs nothing.
 *
 * <p>Pure and single-threaded: the owner serialises calls. Not thread-safe.
 */
final class LaunchesInFlight {
    /** One launch: under way until {@link #launched}; then counted until a heartbeat after {@code mark}. */
    private static final class Launch {
        final long ticket;
        final String engineId;
        boolean completed;
        /** The heartbeat time read first after completion; null until then. */
        Instant mark;
        /** The incarnation read first after completion; null until then. */
        UUID incarnation;
        /** Readings started when the launch completed: only later-started ones judge it. */
        long completedAfter;

        Launch(long ticket, String engineId) {
            this.ticket = ticket;
            this.engineId = engineId;
        }
    }

    private final Map<Long, Launch> launches = new HashMap<>();
    /** Engine id -> its launches counted now (no entry at zero). */
    private final Map<String, Integer> counts = new HashMap<>();
    private long nextTicket = 1;
    /** The number of the last reading observed; 0 before any. */
    private long lastReading;

    /** A launch to {@code engineId} starts: counted from now. Returns its ticket. */
    long begin(String engineId) {
        long ticket = nextTicket++;
        launches.put(ticket, new Launch(ticket, engineId));
        counts.merge(engineId, 1, Integer::sum);
        return ticket;
    }

    /** The launch succeeded: counted until its engine's tally certainly shows it. Unknown tickets are ignored. */
    void launched(long ticket) {
        launched(ticket, Long.MIN_VALUE);
    }

    /**
     * As {@link #launched(long)}, completed when {@code readingsStarted} readings of the registry had started: only
     * readings numbered higher judge it.
     */
    void launched(long ticket, long readingsStarted) {
        Launch l = launches.get(ticket);
        if (l != null) {
            l.completed = true;
            l.completedAfter = readingsStarted;
        }
    }

    /** The launch failed: nothing runs on the engine for it, it stops counting. Unknown tickets are ignored. */
    void failed(long ticket) {
        Launch l = launches.remove(ticket);
        if (l != null) uncount(l);
    }

    private void uncount(Launch l) {
        counts.computeIfPresent(l.engineId, (id, n) -> n == 1 ? null : n - 1);
    }

    /** A fresh reading of the registry's live engines: retires the completed launches their heartbeats now show. */
    void observe(List<RegistryEntry> liveEngines) {
        observe(liveEngines, Long.MAX_VALUE);
    }

    /**
     * As {@link #observe(List)} for reading number {@code reading}: judges only the launches completed before that
     * reading started. A reading numbered at or below the last one observed changes nothing (it is not read again).
     */
    void observe(List<RegistryEntry> liveEngines, long reading) {
        if (reading != Long.MAX_VALUE) {
            if (reading <= lastReading) return;
            lastReading = reading;
        }
        Map<String, RegistryEntry> byId = new HashMap<>();
        for (RegistryEntry e : liveEngines) byId.put(e.id(), e);
        for (Iterator<Launch> it = launches.values().iterator(); it.hasNext(); ) {
            Launch l = it.next();
            if (!l.completed || reading <= l.completedAfter) continue;
            RegistryEntry e = byId.get(l.engineId);
            if (e == null) {
                it.remove(); // the engine is gone from the registry: nothing to count on it
                uncount(l);
            } else if (l.mark == null) {
                l.mark = e.heartbeatAt();
                l.incarnation = e.registration().incarnation();
            } else if (!e.registration().incarnation().equals(l.incarnation) || e.heartbeatAt().isAfter(l.mark)) {
                it.remove();
                uncount(l);
            }
        }
    }

    /** The launches to {@code engineId} counted now. */
    int count(String engineId) {
        return counts.getOrDefault(engineId, 0);
    }

    /** Every launch counted now, on any engine. */
    int size() {
        return launches.size();
    }

    /** The engines with launches counted now, for logs and tests. */
    List<String> engines() {
        List<String> out = new ArrayList<>();
        for (Launch l : launches.values()) if (!out.contains(l.engineId)) out.add(l.engineId);
        return out;
    }
}
