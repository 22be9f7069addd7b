package io.deskgate.concentrator;

import io.deskgate.common.RateLimitedLog;
import io.deskgate.control.DesktopState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An agent concentrator's state information (seed 001): the desktops of the agents that selected this
 * concentrator from its set, as their agents report them, held in memory only. Events in (an agent's
 * connection, its reports and heartbeats, its stream ending, time passing), answers out.
 *
 * <p>Agents: one entry per agent id, with the connection it reports on (an id the edge gives each
 * stream), and when it was last heard. A second connection for an agent id whose first is still live
 * (heard within {@code agentTimeoutNs}) is refused; once the first has been silent that long the new one
 * replaces it. An agent whose stream ends, or who stays silent past the timeout ({@link #tick}), is
 * forgotten with every desktop it reported: it re-homes to another concentrator of the set and reports
 * there, and a stale entry here would offer desktops nobody can initiate.
 *
 * <p>Reports: a full snapshot (replaces what the agent reported before) or a delta (the desktops that
 * changed). Each desktop is {@code <agentId>/<n>}, so an agent can report only its own. A report is
 * checked whole before any of it is applied; one bad desktop refuses the report, with a reason that is
 * counted ({@link #rejected}) and logged in one rate-limited line. The state changes allowed are
 * {@link DesktopTransitions}'.
 *
 * <p>FindAvailable ({@link #findAvailable}): the user's own desktops of the pool first (DISCONNECTED,
 * then IN_USE, then ASSIGNED, then AVAILABLE ones dedicated to the user), then the pool's free AVAILABLE
 * desktops in the order they became available, so the one assigned least recently comes first. Both
 * come from indexes (the owner's list, the pool's free list), so an answer costs its length, not the
 * number of desktops.
 *
 * <p>Pools by scope ({@link #find}): a request naming a {@link Scope} (the pool's agents and labels, as the store
 * defines the pool) is answered from that pool's own free list, kept under the request's (tenant, pool name):
 * built the first time the pool is asked for (the free desktops of the tenant on the agents in the scope, in
 * the order they became available), rebuilt when a request brings another scope under that key, and kept
 * current as desktops change and agents come and go (each agent knows the scoped pools it is in). At most
 * {@value #MAX_SCOPED_POOLS} are kept, the least recently asked dropped first. A request without a scope is
 * answered from the free list of the pool name its agents report (the fallback above). A broker's coalesced find
 * ({@link #findBatch}) is answered the same way for several users at once, with each one's held count.
 *
 * <p>Memory: a desktop is one small object (its number, state, version, user reference, pool reference
 * and two links of its pool's free list), reached from its agent's array; pool names are interned per
 * (tenant, pool) and user names are shared by the owner index. {@code DesktopDirectoryMemoryTest}
 * bounds it.
 *
 * <p>Not thread-safe: owned by one thread (or one lock) at the edge. Time is the {@code nowNs} of each
 * call, which never goes back.
 */
public final class DesktopDirectory {
    private static final Logger LOG = LoggerFactory.getLogger(DesktopDirectory.class);
    /** A desktop's number within its agent: {@code <agentId>/1} to {@code <agentId>/999}, as the agent numbers them. */
    public static final int MAX_DESKTOP_NUMBER = 999;
    public static final int MAX_NAME_CHARS = 128;
    private static final Pattern AGENT_ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    /** Why a connection or a report was refused. */
    public enum Rejection {
        /** A second connection for an agent id whose first connection is live. */
        DUPLICATE_AGENT,
        /** A report on a connection that is not (or no longer) the agent's. */
        NOT_CONNECTED,
        /** A desktop whose id is not {@code <agentId>/<n>} of the reporting agent: another agent's, or none. */
        NOT_ITS_DESKTOP,
        /** A state change {@link DesktopTransitions} does not allow, or a version going back. */
        TRANSITION_NOT_ALLOWED,
        /** More desktops in one report than {@link Limits#maxDesktopsPerReport}. */
        OVERSIZED_REPORT,
        /** A malformed report: a bad agent id, state, tenant, pool or user, a desktop twice. */
        INVALID_REPORT
    }

    public sealed interface Outcome permits Accepted, Rejected {}

    /**
     * A pool as the store defines it: the desktops of these agents and of agents carrying one of these labels.
     * Each name a {@link io.deskgate.store.Names} name; at most {@value #MAX_SCOPE_NAMES} in all.
     */
    public record Scope(Set<String> agents, Set<String> labels) {
        public Scope {
            agents = Set.copyOf(Objects.requireNonNull(agents, "agents"));
            labels = Set.copyOf(Objects.requireNonNull(labels, "labels"));
        }

        /** Why this scope is not valid, or empty. */
        public String invalid() {
            if (agents.size() + labels.size() > MAX_SCOPE_NAMES) return "a scope names at most " + MAX_SCOPE_NAMES + " agents and labels";
            for (String a : agents) if (!io.deskgate.store.Names.valid(a)) return "a scope's agent id is not a valid name";
            for (String l : labels) if (!io.deskgate.store.Names.valid(l)) return "a scope's label is not a valid name";
            return "";
        }

        boolean holds(Agent a) {
            if (agents.contains(a.id)) return true;
            for (String l : a.labels) if (labels.contains(l)) return true;
            return false;
        }
    }

    /**
     * What a FindAvailable asks.
     *
     * @param scope     the pool's scope; empty: the desktops whose agents report {@code pool}
     * @param user      whose own desktops come first; empty: free ones only
     * @param desktopId only this desktop (in any state) when it is in the pool; empty: any
     * @param limit     at most this many (clamped to 1 .. {@link Limits#maxFindLimit})
     * @param held      instead: every desktop held by a user of {@code tenant}, at most {@value #MAX_HELD_LIST}
     * @param listing   the broker's listing: the user's own desktops of every pool, not only of this one
     */
    public record Query(int tenant, String pool, Optional<Scope> scope, String user, String desktopId, int limit, boolean held,
                        boolean listing) {
        public Query {
            Objects.requireNonNull(pool, "pool");
            Objects.requireNonNull(scope, "scope");
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(desktopId, "desktopId");
        }

        /** A placement's query. */
        public Query(int tenant, String pool, Optional<Scope> scope, String user, String desktopId, int limit, boolean held) {
            this(tenant, pool, scope, user, desktopId, limit, held, false);
        }
    }

    /** The answer: the desktops, and how many desktops the query's user holds here in every pool. */
    public record Found(List<DesktopView> desktops, int held) {}

    /** A coalesced find's answer: the desktops, and how many desktops each of its users holds here in every pool, in their order. */
    public record FoundBatch(List<DesktopView> desktops, List<Integer> held) {
        public FoundBatch {
            desktops = List.copyOf(desktops);
            held = List.copyOf(held);
        }
    }

    public static final int MAX_SCOPE_NAMES = 1024;
    public static final int MAX_SCOPED_POOLS = 1024;
    public static final int MAX_HELD_LIST = 4096;

    /** @param desktops how many desktops the agent has here afterwards */
    public record Accepted(int desktops) implements Outcome {}

    public record Rejected(Rejection rejection, String message) implements Outcome {}

    /**
     * @param agentTimeoutNs       an agent silent this long is forgotten (the heartbeat timeout)
     * @param maxDesktopsPerReport the most desktops one report may carry (at most {@link #MAX_DESKTOP_NUMBER})
     * @param maxFindLimit         the most desktops one FindAvailable answer holds
     */
    public record Limits(long agentTimeoutNs, int maxDesktopsPerReport, int maxFindLimit) {
        public static final Limits DEFAULT = new Limits(Duration.ofSeconds(15).toNanos(), MAX_DESKTOP_NUMBER, 64);

        public Limits {
            if (agentTimeoutNs <= 0) throw new IllegalArgumentException("agentTimeoutNs must be positive");
            if (maxDesktopsPerReport < 1 || maxDesktopsPerReport > MAX_DESKTOP_NUMBER) {
                throw new IllegalArgumentException("maxDesktopsPerReport must be 1 to " + MAX_DESKTOP_NUMBER);
            }
            if (maxFindLimit < 1) throw new IllegalArgumentException("maxFindLimit must be positive");
        }
    }

    private final Limits limits;
    private final Map<String, Agent> agents = new HashMap<>();
    private final Map<PoolKey, Pool> pools = new HashMap<>();
    private final Map<Owner, List<Slot>> owners = new HashMap<>();
    /** The pools asked for by scope, least recently asked first. */
    private final LinkedHashMap<PoolKey, ScopedPool> scoped = new LinkedHashMap<>(16, 0.75f, true);
    /** Raised each time a desktop becomes free: the order free desktops are offered in. */
    private long freeSequence;
    private final EnumMap<Rejection, Long> rejected = new EnumMap<>(Rejection.class);
    private final RateLimitedLog refusals;
    private long lastNowNs;
    private int desktopCount;

    public DesktopDirectory(Limits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
        this.refusals = new RateLimitedLog(LOG, RateLimitedLog.DEFAULT_LINES_PER_WINDOW, RateLimitedLog.DEFAULT_WINDOW,
                () -> lastNowNs);
    }

    /** Agent {@code agentId} opened connection {@code connection} (the edge's id of its stream), saying nothing of itself. */
    public Outcome connect(String agentId, long connection, long nowNs) {
        return connect(agentId, connection, AgentInfo.NONE, nowNs);
    }

    /**
     * Agent {@code agentId} opened connection {@code connection} with a hello saying {@code info}: its labels decide
     * the scoped pools it is in, its host and size are shown in listings. A connection the agent already holds keeps
     * the info it said first.
     */
    public Outcome connect(String agentId, long connection, AgentInfo info, long nowNs) {
        lastNowNs = nowNs;
        if (!AGENT_ID.matcher(agentId).matches()) {
            return refuse(agentId, Rejection.INVALID_REPORT, "an agent id is 1 to 64 of A-Z a-z 0-9 . _ : -");
        }
        String invalidInfo = info.invalid();
        if (!invalidInfo.isEmpty()) return refuse(agentId, Rejection.INVALID_REPORT, invalidInfo);
        Agent a = agents.get(agentId);
        if (a != null && a.connection != connection) {
            if (nowNs - a.lastHeardNs < limits.agentTimeoutNs()) {
                return refuse(agentId, Rejection.DUPLICATE_AGENT, "agent " + agentId + " is live on another connection");
            }
            forget(a);
            a = null;
        }
        if (a == null) {
            a = new Agent(agentId, connection, info);
            agents.put(agentId, a);
            for (ScopedPool p : scoped.values()) if (p.scope.holds(a)) a.inScopes.add(p);
        }
        a.lastHeardNs = nowNs;
        return new Accepted(a.count);
    }

    /** The agent is alive: an empty delta. */
    public Outcome heartbeat(String agentId, long connection, long nowNs) {
        return report(agentId, connection, false, List.of(), nowNs);
    }

    /**
     * A report from {@code agentId} on {@code connection}: every desktop ({@code full}, the others are
     * forgotten) or those that changed.
     */
    public Outcome report(String agentId, long connection, boolean full, List<DesktopReport> desktops, long nowNs) {
        lastNowNs = nowNs;
        Agent a = agents.get(agentId);
        if (a == null || a.connection != connection) {
            return refuse(agentId, Rejection.NOT_CONNECTED, "agent " + agentId + " is not connected on this stream");
        }
        if (desktops.size() > limits.maxDesktopsPerReport()) {
            return refuse(agentId, Rejection.OVERSIZED_REPORT, "a report of " + desktops.size() + " desktops (at most "
                    + limits.maxDesktopsPerReport() + ")");
        }
        int[] numbers = new int[desktops.size()];
        java.util.BitSet seen = new java.util.BitSet(desktops.isEmpty() ? 0 : MAX_DESKTOP_NUMBER + 1);
        for (int i = 0; i < desktops.size(); i++) {
            DesktopReport d = desktops.get(i);
            int n = numberOf(agentId, d.desktopId());
            if (n < 0) {
                return refuse(agentId, Rejection.NOT_ITS_DESKTOP, "desktop " + shortened(d.desktopId()) + " is not "
                        + agentId + "/<1-" + MAX_DESKTOP_NUMBER + ">");
            }
            if (seen.get(n)) return refuse(agentId, Rejection.INVALID_REPORT, "desktop " + d.desktopId() + " twice");
            String invalid = invalid(d);
            if (!invalid.isEmpty()) return refuse(agentId, Rejection.INVALID_REPORT, d.desktopId() + ": " + invalid);
            Slot s = a.slot(n);
            if (s != null) {
                if (d.version() < s.version) {
                    return refuse(agentId, Rejection.TRANSITION_NOT_ALLOWED, d.desktopId() + ": version " + d.version()
                            + " after " + s.version);
                }
                String refusal = DesktopTransitions.refusal(s.state(), s.pool.key.tenant(), s.user, s.pool.key.name(),
                        d.state(), d.tenant(), d.user(), d.pool());
                if (!refusal.isEmpty()) {
                    return refuse(agentId, Rejection.TRANSITION_NOT_ALLOWED, d.desktopId() + ": " + refusal);
                }
            }
            seen.set(n);
            numbers[i] = n;
        }
        a.lastHeardNs = nowNs;
        if (full) {
            for (int n = 1; n < a.slots.length; n++) {
                if (a.slots[n] != null && !seen.get(n)) remove(a, a.slots[n]);
            }
        }
        for (int i = 0; i < desktops.size(); i++) apply(a, numbers[i], desktops.get(i));
        return new Accepted(a.count);
    }

    /** The agent's stream {@code connection} ended: the agent and its desktops are forgotten at once. */
    public void disconnected(String agentId, long connection, long nowNs) {
        lastNowNs = nowNs;
        Agent a = agents.get(agentId);
        if (a != null && a.connection == connection) forget(a);
    }

    /** Forgets every agent silent for the timeout; returns their ids (the edge ends their streams). */
    public List<String> tick(long nowNs) {
        lastNowNs = nowNs;
        List<String> gone = new ArrayList<>();
        for (Iterator<Agent> it = agents.values().iterator(); it.hasNext(); ) {
            Agent a = it.next();
            if (nowNs - a.lastHeardNs >= limits.agentTimeoutNs()) {
                gone.add(a.id);
                dropDesktops(a);
                it.remove();
            }
        }
        if (!gone.isEmpty()) LOG.info("forgot {} silent agent(s): {}", gone.size(), gone.size() <= 8 ? gone : gone.subList(0, 8));
        return gone;
    }

    /**
     * The answer to {@code q}: the desktops of its pool that may serve its user, best first (see the class comment
     * for the order, and for pools by scope), or only the desktop it names, or every desktop held in its tenant;
     * with how many desktops its user holds here in every pool. Costs the answer's length (and, the first time a
     * scope is seen under a pool key, the free desktops of the agents it names).
     */
    public Found find(Query q) {
        int heldByUser = q.user().isEmpty() ? 0 : heldBy(q.tenant(), q.user());
        if (q.held()) return new Found(heldIn(q.tenant()), heldByUser);
        if (q.scope().isEmpty() && q.desktopId().isEmpty() && !q.listing()) {
            return new Found(findAvailable(q.tenant(), q.pool(), q.user(), q.limit()), heldByUser);
        }
        int max = Math.clamp(q.limit(), 1, limits.maxFindLimit());
        List<DesktopView> out = new ArrayList<>(Math.min(max, 16));
        Pool reported = q.scope().isPresent() ? null : pools.get(new PoolKey(q.tenant(), q.pool()));
        java.util.function.Predicate<Slot> inPool = q.scope().isPresent()
                ? s -> s.pool.key.tenant() == q.tenant() && q.scope().get().holds(s.agent)
                : s -> s.pool == reported;
        if (!q.desktopId().isEmpty()) {
            int slash = q.desktopId().lastIndexOf('/');
            Agent a = slash > 0 ? agents.get(q.desktopId().substring(0, slash)) : null;
            int n = a == null ? -1 : numberOf(a.id, q.desktopId());
            Slot s = n < 0 ? null : a.slot(n);
            if (s != null && inPool.test(s)) out.add(view(s));
            return new Found(out, heldByUser);
        }
        if (!q.user().isEmpty()) {
            List<Slot> own = owners.get(new Owner(q.tenant(), q.user()));
            if (own != null) {
                for (DesktopState wanted : OWN_ORDER) {
                    for (Slot s : own) {
                        if (out.size() == max) return new Found(out, heldByUser);
                        if (s.state() == wanted && (q.listing() || inPool.test(s))) out.add(view(s));
                    }
                }
            }
        }
        if (q.scope().isEmpty()) {
            if (reported != null) for (Slot s = reported.freeHead; s != null && out.size() < max; s = s.next) out.add(view(s));
            return new Found(out, heldByUser);
        }
        ScopedPool p = scopedPool(new PoolKey(q.tenant(), q.pool()), q.scope().get());
        for (Iterator<Slot> it = p.free.iterator(); it.hasNext() && out.size() < max; ) out.add(view(it.next()));
        return new Found(out, heldByUser);
    }

    /** How many desktops {@code (tenant, user)} holds here (ASSIGNED, IN_USE, DISCONNECTED), in every pool. */
    private int heldBy(int tenant, String user) {
        List<Slot> own = owners.get(new Owner(tenant, user));
        int n = 0;
        if (own != null) for (Slot s : own) if (DesktopTransitions.held(s.state())) n++;
        return n;
    }

    /** Every desktop held by a user of {@code tenant}, at most {@link #MAX_HELD_LIST}: costs the users holding desktops. */
    private List<DesktopView> heldIn(int tenant) {
        List<DesktopView> out = new ArrayList<>();
        for (Map.Entry<Owner, List<Slot>> e : owners.entrySet()) {
            if (e.getKey().tenant() != tenant) continue;
            for (Slot s : e.getValue()) {
                if (out.size() == MAX_HELD_LIST) return out;
                if (DesktopTransitions.held(s.state())) out.add(view(s));
            }
        }
        return out;
    }

    /** The scoped pool under {@code key}: as it is when its scope is {@code scope}, else built (again) for it. */
    private ScopedPool scopedPool(PoolKey key, Scope scope) {
        ScopedPool p = scoped.get(key);
        if (p != null && p.scope.equals(scope)) return p;
        if (p != null) dropScoped(p);
        p = new ScopedPool(scope);
        List<Slot> free = new ArrayList<>();
        for (Agent a : agents.values()) {
            if (!scope.holds(a)) continue;
            a.inScopes.add(p);
            for (int n = 1; n < a.slots.length; n++) {
                Slot s = a.slots[n];
                if (s != null && s.free && s.pool.key.tenant() == key.tenant()) free.add(s);
            }
        }
        free.sort(java.util.Comparator.comparingLong(s -> s.freeSeq));
        p.tenant = key.tenant();
        p.free.addAll(free);
        scoped.put(key, p);
        if (scoped.size() > MAX_SCOPED_POOLS) {
            Iterator<ScopedPool> eldest = scoped.values().iterator();
            ScopedPool gone = eldest.next();
            eldest.remove();
            for (Agent a : agents.values()) a.inScopes.remove(gone);
        }
        return p;
    }

    private void dropScoped(ScopedPool p) {
        for (Agent a : agents.values()) a.inScopes.remove(p);
    }

    /** Scoped pools kept now. */
    int scopedPools() {
        return scoped.size();
    }

    /**
     * The desktops that may serve {@code user} of {@code tenant} from {@code pool} (the pool name its agents report),
     * best first, at most {@code limit} (clamped to 1 .. {@link Limits#maxFindLimit}); see the class comment for the
     * order. An empty {@code user} gets only free desktops.
     */
    public List<DesktopView> findAvailable(int tenant, String pool, String user, int limit) {
        int max = Math.clamp(limit, 1, limits.maxFindLimit());
        List<DesktopView> out = new ArrayList<>(Math.min(max, 16));
        Pool p = pools.get(new PoolKey(tenant, pool));
        if (p == null) return out;
        if (!user.isEmpty()) {
            List<Slot> own = owners.get(new Owner(tenant, user));
            if (own != null) {
                for (DesktopState wanted : OWN_ORDER) {
                    for (Slot s : own) {
                        if (out.size() == max) return out;
                        if (s.pool == p && s.state() == wanted) out.add(view(s));
                    }
                }
            }
        }
        for (Slot s = p.freeHead; s != null && out.size() < max; s = s.next) out.add(view(s));
        return out;
    }

    /** The agents that have a desktop naming the user {@code (tenant, user)} (held by or dedicated to them), each once. */
    public List<String> agentsOf(int tenant, String user) {
        List<Slot> own = owners.get(new Owner(tenant, user));
        if (own == null) return List.of();
        List<String> out = new ArrayList<>(2);
        for (Slot s : own) if (!out.contains(s.agent.id)) out.add(s.agent.id);
        return out;
    }

    /**
     * A coalesced FindAvailable without a scope ({@link #findBatch} with none): the desktops only.
     */
    public List<DesktopView> findAvailable(int tenant, String pool, List<String> users, int limit) {
        return findBatch(tenant, pool, Optional.empty(), users, limit).desktops();
    }

    /**
     * A coalesced FindAvailable (several requests of one broker, of one tenant, pool and scope): for each of
     * {@code users} in turn (the empty name and repeats skipped), that user's own desktops of the pool in
     * {@link #find}'s order, at most {@code limit} each; then the pool's free desktops, at most {@code limit}
     * ({@code limit} clamped to 1 .. {@link Limits#maxFindLimit}). The pool is {@code scope}'s (its own free
     * list, as {@link #find} keeps it under {@code (tenant, pool)}) or, with none, the pool name agents report.
     * With how many desktops each of {@code users} holds here in every pool, in their order. Costs its length
     * and the users, as {@link #find} does.
     */
    public FoundBatch findBatch(int tenant, String pool, Optional<Scope> scope, List<String> users, int limit) {
        int max = Math.clamp(limit, 1, limits.maxFindLimit());
        List<DesktopView> out = new ArrayList<>(Math.min(max, 16) + users.size());
        List<Integer> held = new ArrayList<>(users.size());
        for (String user : users) held.add(user.isEmpty() ? 0 : heldBy(tenant, user));
        Pool reported = scope.isPresent() ? null : pools.get(new PoolKey(tenant, pool));
        if (scope.isEmpty() && reported == null) return new FoundBatch(out, held);
        java.util.function.Predicate<Slot> inPool = scope.isPresent()
                ? s -> s.pool.key.tenant() == tenant && scope.get().holds(s.agent)
                : s -> s.pool == reported;
        Set<String> seen = new HashSet<>();
        for (String user : users) {
            if (user.isEmpty() || !seen.add(user)) continue;
            List<Slot> own = owners.get(new Owner(tenant, user));
            if (own == null) continue;
            int taken = 0;
            for (DesktopState wanted : OWN_ORDER) {
                for (Slot s : own) {
                    if (taken == max) break;
                    if (s.state() == wanted && inPool.test(s)) {
                        out.add(view(s));
                        taken++;
                    }
                }
            }
        }
        int free = 0;
        if (reported != null) {
            for (Slot s = reported.freeHead; s != null && free < max; s = s.next, free++) out.add(view(s));
        } else {
            ScopedPool p = scopedPool(new PoolKey(tenant, pool), scope.get());
            for (Iterator<Slot> it = p.free.iterator(); it.hasNext() && free < max; free++) out.add(view(it.next()));
        }
        return new FoundBatch(out, held);
    }

    private static final DesktopState[] OWN_ORDER =
            {DesktopState.DISCONNECTED, DesktopState.IN_USE, DesktopState.ASSIGNED, DesktopState.AVAILABLE};

    /** Whether {@code agentId} is connected here (the owner of its desktops, for InitiateSession). */
    public boolean holdsAgent(String agentId) {
        return agents.containsKey(agentId);
    }

    /** The connection {@code agentId} reports on, or -1 when it is not connected here. */
    public long connectionOf(String agentId) {
        Agent a = agents.get(agentId);
        return a == null ? -1 : a.connection;
    }

    /** How many desktops {@code agentId} has here (0 when it is not connected). */
    public int desktopsOf(String agentId) {
        Agent a = agents.get(agentId);
        return a == null ? 0 : a.count;
    }

    public int agents() {
        return agents.size();
    }

    public int desktops() {
        return desktopCount;
    }

    /** Distinct (tenant, pool) names held: each interned once. */
    int pools() {
        return pools.size();
    }

    /** How many connections or reports were refused for {@code reason} since the start. */
    public long rejected(Rejection reason) {
        return rejected.getOrDefault(reason, 0L);
    }

    // ------------------------------------------------------------------ internals

    private Rejected refuse(String agentId, Rejection rejection, String message) {
        rejected.merge(rejection, 1L, Long::sum);
        refusals.warn(rejection.name(), "refused agent {}: {}: {}", shortened(agentId), rejection, message);
        return new Rejected(rejection, message);
    }

    private static String shortened(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }

    /** n of {@code <agentId>/<n>}, or -1. */
    static int numberOf(String agentId, String desktopId) {
        int len = agentId.length();
        if (desktopId.length() <= len + 1 || desktopId.length() > len + 4 || !desktopId.startsWith(agentId)
                || desktopId.charAt(len) != '/' || desktopId.charAt(len + 1) == '0') {
            return -1;
        }
        int n = 0;
        for (int i = len + 1; i < desktopId.length(); i++) {
            char c = desktopId.charAt(i);
            if (c < '0' || c > '9') return -1;
            n = n * 10 + (c - '0');
        }
        return n <= MAX_DESKTOP_NUMBER ? n : -1;
    }

    private static String invalid(DesktopReport d) {
        if (!DesktopTransitions.reportable(d.state())) return "state " + d.state() + " is not a desktop state";
        if (d.tenant() < 1) return "tenant must be positive";
        if (!name(d.pool(), false)) return "pool must be 1 to " + MAX_NAME_CHARS + " printable characters";
        if (!name(d.user(), true)) return "user must be at most " + MAX_NAME_CHARS + " printable characters";
        if (!name(d.sessionId(), true)) return "session id must be at most " + MAX_NAME_CHARS + " printable characters";
        if (d.port() < 0 || d.port() > 65535) return "port must be 0 to 65535";
        if (DesktopTransitions.held(d.state()) && d.user().isEmpty()) return "a desktop that is " + d.state() + " names its user";
        if (d.version() < 0) return "version must not be negative";
        return "";
    }

    private static boolean name(String s, boolean mayBeEmpty) {
        if (s.isEmpty()) return mayBeEmpty;
        if (s.length() > MAX_NAME_CHARS) return false;
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) < 0x20 || s.charAt(i) == 0x7f) return false;
        return true;
    }

    private void apply(Agent a, int n, DesktopReport d) {
        Slot s = a.slot(n);
        if (s == null) {
            s = new Slot(a, n);
            a.put(n, s);
            desktopCount++;
        } else if (s.state() == d.state() && s.user.equals(d.user()) && s.pool.key.tenant() == d.tenant()
                && s.pool.key.name().equals(d.pool())) {
            s.version = d.version(); // a repeat (a snapshot): keeps its place in the pool's free list
            s.port = d.port();
            s.sessionId = sessionIdOf(d);
            return;
        } else {
            unindex(s);
        }
        s.stateOrdinal = (byte) d.state().ordinal();
        s.version = d.version();
        s.port = d.port();
        s.sessionId = sessionIdOf(d);
        s.pool = intern(d.tenant(), d.pool());
        s.pool.members++;
        s.user = "";
        if (!d.user().isEmpty()) {
            List<Slot> own = owners.computeIfAbsent(new Owner(d.tenant(), d.user()), k -> new ArrayList<>(2));
            s.user = own.isEmpty() ? d.user() : own.getFirst().user; // one String per user, shared
            own.add(s);
        } else if (d.state() == DesktopState.AVAILABLE) {
            s.pool.linkFree(s);
            s.freeSeq = ++freeSequence;
            for (ScopedPool p : a.inScopes) if (p.tenant == d.tenant()) p.free.add(s);
        }
    }

    /** The session id a desktop is held by: only while held, as the agent numbers it. */
    private static String sessionIdOf(DesktopReport d) {
        return DesktopTransitions.held(d.state()) ? d.sessionId() : "";
    }

    /** Takes {@code s} out of the owner index, its pool's free list and its pool's member count. */
    private void unindex(Slot s) {
        if (!s.user.isEmpty()) {
            Owner key = new Owner(s.pool.key.tenant(), s.user);
            List<Slot> own = owners.get(key);
            if (own != null) {
                own.remove(s);
                if (own.isEmpty()) owners.remove(key);
            }
        }
        if (s.free) for (ScopedPool p : s.agent.inScopes) p.free.remove(s);
        s.pool.unlinkFree(s);
        if (--s.pool.members == 0) pools.remove(s.pool.key);
    }

    private Pool intern(int tenant, String name) {
        PoolKey key = new PoolKey(tenant, name);
        Pool p = pools.get(key);
        if (p == null) {
            p = new Pool(new PoolKey(tenant, name.intern()));
            pools.put(p.key, p);
        }
        return p;
    }

    private void remove(Agent a, Slot s) {
        unindex(s);
        a.slots[s.number] = null;
        a.count--;
        desktopCount--;
    }

    private void forget(Agent a) {
        dropDesktops(a);
        agents.remove(a.id);
    }

    private void dropDesktops(Agent a) {
        for (int n = 1; n < a.slots.length; n++) if (a.slots[n] != null) remove(a, a.slots[n]);
    }

    private DesktopView view(Slot s) {
        Agent a = s.agent;
        return new DesktopView(a.id + "/" + s.number, a.id, s.state(), s.pool.key.tenant(), s.pool.key.name(),
                s.user, s.version, s.sessionId, s.port, a.host, a.width, a.height, List.of(a.labels));
    }

    private record PoolKey(int tenant, String name) {}

    private record Owner(int tenant, String user) {}

    private static final DesktopState[] STATES = DesktopState.values();

    /** One desktop: the compact layout (see the class comment). */
    private static final class Slot {
        final Agent agent;
        final short number;
        byte stateOrdinal;
        long version;
        String user = "";
        Pool pool;
        /** Links of the pool's free list (AVAILABLE desktops dedicated to nobody), oldest first. */
        Slot prev;
        Slot next;
        boolean free;
        /** When it last became free ({@code freeSequence}): the order of scoped free lists built later. */
        long freeSeq;
        int port;
        /** The session holding it, empty if none. */
        String sessionId = "";

        Slot(Agent agent, int number) {
            this.agent = agent;
            this.number = (short) number;
        }

        DesktopState state() {
            return STATES[stateOrdinal];
        }
    }

    /** A (tenant, pool) interned, with its free desktops in the order they became available. */
    private static final class Pool {
        final PoolKey key;
        int members;
        Slot freeHead;
        Slot freeTail;

        Pool(PoolKey key) {
            this.key = key;
        }

        void linkFree(Slot s) {
            s.free = true;
            s.prev = freeTail;
            s.next = null;
            if (freeTail == null) freeHead = s;
            else freeTail.next = s;
            freeTail = s;
        }

        void unlinkFree(Slot s) {
            if (!s.free) return;
            if (s.prev == null) freeHead = s.next;
            else s.prev.next = s.next;
            if (s.next == null) freeTail = s.prev;
            else s.next.prev = s.prev;
            s.prev = null;
            s.next = null;
            s.free = false;
        }
    }

    /** A pool asked for by scope: the free desktops of its tenant on the agents in its scope, oldest first. */
    private static final class ScopedPool {
        final Scope scope;
        int tenant;
        final LinkedHashSet<Slot> free = new LinkedHashSet<>();

        ScopedPool(Scope scope) {
            this.scope = scope;
        }
    }

    private static final String[] NO_LABELS = {};

    private static final class Agent {
        final String id;
        final long connection;
        /** From the hello, held once per agent: labels and host interned. */
        final String[] labels;
        final String host;
        final short width;
        final short height;
        /** The scoped pools whose scope holds this agent. */
        final List<ScopedPool> inScopes = new ArrayList<>(1);
        long lastHeardNs;
        Slot[] slots = new Slot[9];
        int count;

        Agent(String id, long connection, AgentInfo info) {
            this.id = id;
            this.connection = connection;
            this.labels = info.labels().isEmpty() ? NO_LABELS : info.labels().stream().map(String::intern).toArray(String[]::new);
            this.host = info.host().intern();
            this.width = (short) info.width();
            this.height = (short) info.height();
        }

        Slot slot(int n) {
            return n < slots.length ? slots[n] : null;
        }

        void put(int n, Slot s) {
            if (n >= slots.length) slots = java.util.Arrays.copyOf(slots, Math.min(MAX_DESKTOP_NUMBER + 1, Math.max(n + 1, slots.length * 2)));
            slots[n] = s;
            count++;
        }
    }
}
