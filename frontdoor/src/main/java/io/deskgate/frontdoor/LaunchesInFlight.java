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

        Launch(long ticket, String engineId) {
            this.ticket = ticket;
            this.engineId = engineId;
        }
    }

    private final Map<Long, Launch> launches = new HashMap<>();
    private long nextTicket = 1;

    /** A launch to {@code engineId} starts: counted from now. Returns its ticket. */
    long begin(String engineId) {
        long ticket = nextTicket++;
        launches.put(ticket, new Launch(ticket, engineId));
        return ticket;
    }

    /** The launch succeeded: counted until its engine's tally certainly shows it. Unknown tickets are ignored. */
    void launched(long ticket) {
        Launch l = launches.get(ticket);
        if (l != null) l.completed = true;
    }

    /** The launch failed: nothing runs on the engine for it, it stops counting. Unknown tickets are ignored. */
    void failed(long ticket) {
        launches.remove(ticket);
    }

    /** A fresh reading of the registry's live engines: retires the completed launches their heartbeats now show. */
    void observe(List<RegistryEntry> liveEngines) {
        Map<String, RegistryEntry> byId = new HashMap<>();
        for (RegistryEntry e : liveEngines) byId.put(e.id(), e);
        for (Iterator<Launch> it = launches.values().iterator(); it.hasNext(); ) {
            Launch l = it.next();
            if (!l.completed) continue;
            RegistryEntry e = byId.get(l.engineId);
            if (e == null) {
                it.remove(); // the engine is gone from the registry: nothing to count on it
            } else if (l.mark == null) {
                l.mark = e.heartbeatAt();
                l.incarnation = e.registration().incarnation();
            } else if (!e.registration().incarnation().equals(l.incarnation) || e.heartbeatAt().isAfter(l.mark)) {
                it.remove();
            }
        }
    }

    /** The launches to {@code engineId} counted now. */
    int count(String engineId) {
        int n = 0;
        for (Launch l : launches.values()) if (l.engineId.equals(engineId)) n++;
        return n;
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
