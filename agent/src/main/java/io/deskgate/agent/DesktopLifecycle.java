package io.deskgate.agent;

import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The state machine of one agent's desktops (seed 001): events in, actions out, time as an input.
 *
 * <pre>
 * STARTING --launched--> AVAILABLE --initiate--> ASSIGNED --sessionStarted--> IN_USE --no viewer--> DISCONNECTED
 *     ^                      ^                     |  '--password expired, never used---^              |
 *     |                      '---------------------'                                                  |
 *     +------ endSession, or DISCONNECTED for disconnectedReleaseNs (reset: a fresh Xvnc) -----------+
 *     '------ restart after backoff <-- UNHEALTHY <-- Xvnc died / launch failed (any state)
 * </pre>
 *
 * A desktop assigned to, in use by or disconnected from a user may be initiated again for the same
 * user (a reconnect, with a new one-time password). A user is the pair (tenant, user name): another
 * tenant's user of the same name is another user. A desktop left DISCONNECTED for
 * {@code disconnectedReleaseNs} is ended and reset like a logout, so an abandoned desktop returns to the
 * pool (as VDI brokers "log off after disconnect"); a reconnect before then stops that clock. Every launch
 * has a generation; events from an older generation (a process being replaced) are ignored.
 *
 * <p>Pools (issue 8 item 6): a desktop initiated with {@code dedicate} (its pool assigns persistently) is
 * dedicated to its user: after every reset it comes back AVAILABLE naming that user, and is initiated for
 * nobody else until {@link #releaseUser} drops the dedication. {@link #endSession} with {@code keep} (its pool
 * does not reset on logout) holds a desktop that had a session DISCONNECTED for its user instead of resetting it.
 * Whatever the pool says, a desktop passes to another user only through a reset (a fresh Xvnc): AVAILABLE is
 * only ever reached by a launch or by a password that expired before any session started.
 *
 * <p>Every change of a desktop's state or holder raises its version (from 1; {@link Desktop#getVersion}).
 * The arbitration between brokers is here (issue 8 item 6): a broker that chose a desktop from a
 * concentrator's list initiates it with the version it saw, a compare-and-set; when another broker got
 * there first the version has moved on and the request is refused {@link Rejection#ABORTED}, so the loser
 * tries another desktop and no desktop is assigned twice.
 *
 * <p>Not thread-safe: owned by one thread (the agent's loop), which performs the returned actions.
 */
final class DesktopLifecycle {
    /** Something the edge must do, in list order. */
    sealed interface Action permits Launch, ScramblePassword {}

    /** Stop whatever runs for desktop {@code index} and launch a fresh one as {@code generation}. */
    record Launch(int index, long generation) implements Action {}

    /** Write a random secret nobody knows into the desktop's password file. */
    record ScramblePassword(int index) implements Action {}

    /**
     * Why a request was refused. {@code ABORTED}: a compare-and-set lost (the desktop changed since the
     * caller saw it); retryable with another desktop.
     */
    enum Rejection { INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, ABORTED }

    /** What {@link #releaseUser} did: how many desktops it released, and what the edge must do. */
    record Released(int desktops, List<Action> actions) {}

    /** The expected version of {@link #initiate(String, long, String, int, String, long)} that matches any. */
    static final long ANY_VERSION = 0;

    /** The answer to a request: accepted with the desktop afterwards and actions, or rejected. */
    sealed interface Outcome permits Accepted, Rejected {}

    /**
     * @param issuesPassword the edge must write a fresh one-time password into the desktop's password file
     *                       and hand it to the caller (only {@link #initiate} sets it, so no password is
     *                       ever issued and thrown away)
     */
    record Accepted(int index, Desktop desktop, List<Action> actions, boolean issuesPassword) implements Outcome {
        Accepted(int index, Desktop desktop, List<Action> actions) {
            this(index, desktop, actions, false);
        }
    }

    record Rejected(Rejection rejection, String message) implements Outcome {}

    /** Restart policy for desktops whose Xvnc dies or fails to start. */
    record RestartPolicy(int maxConsecutiveFailures, long initialBackoffNs, long maxBackoffNs, long stableAfterNs) {
        static final RestartPolicy DEFAULT = new RestartPolicy(5, 1_000_000_000L, 30_000_000_000L, 60_000_000_000L);

        long backoffNs(int failures) {
            long backoff = initialBackoffNs;
            for (int i = 1; i < failures && backoff < maxBackoffNs; i++) backoff *= 2;
            return Math.min(backoff, maxBackoffNs);
        }
    }

    private static final long NONE = Long.MIN_VALUE;

    private final String agentId;
    private final int width;
    private final int height;
    private final long oneTimePasswordTtlNs;
    private final long disconnectedReleaseNs;
    private final RestartPolicy restartPolicy;
    private final List<Slot> slots = new ArrayList<>();

    /** @param disconnectedReleaseNs how long a DISCONNECTED desktop is kept for its user before it is reset */
    DesktopLifecycle(String agentId, int desktops, int width, int height, long oneTimePasswordTtlNs,
                     long disconnectedReleaseNs, RestartPolicy restartPolicy) {
        if (disconnectedReleaseNs <= 0) throw new IllegalArgumentException("disconnectedReleaseNs must be positive");
        this.agentId = Objects.requireNonNull(agentId);
        this.disconnectedReleaseNs = disconnectedReleaseNs;
        this.width = width;
        this.height = height;
        this.oneTimePasswordTtlNs = oneTimePasswordTtlNs;
        this.restartPolicy = Objects.requireNonNull(restartPolicy);
        for (int i = 0; i < desktops; i++) slots.add(new Slot(agentId + "/" + (i + 1)));
    }

    /** Launches every desktop. Call once, first. */
    List<Action> start(long nowNs) {
        List<Action> actions = new ArrayList<>();
        for (int i = 0; i < slots.size(); i++) actions.add(relaunch(i));
        return actions;
    }

    /** Whether {@code generation} is the desktop's current launch; an older one must be stopped. */
    boolean isCurrent(int index, long generation) {
        return slots.get(index).generation == generation;
    }

    /** The desktop's RFB server is up at {@code host:port} and its session programs are started. */
    List<Action> onLaunched(int index, long generation, String host, int port, long nowNs) {
        Slot s = slots.get(index);
        if (s.generation != generation || s.state != DesktopState.STARTING) return List.of();
        s.state = DesktopState.AVAILABLE;
        s.version++;
        s.host = host;
        s.port = port;
        s.healthySinceNs = nowNs;
        return List.of();
    }

    /** The launch of {@code generation} failed (Xvnc did not start or did not get ready in time). */
    List<Action> onLaunchFailed(int index, long generation, long nowNs) {
        return failed(index, generation, nowNs);
    }

    /** The Xvnc of {@code generation} exited although nobody asked it to. */
    List<Action> onExited(int index, long generation, long nowNs) {
        return failed(index, generation, nowNs);
    }

    private List<Action> failed(int index, long generation, long nowNs) {
        Slot s = slots.get(index);
        if (s.generation != generation || s.state == DesktopState.UNHEALTHY) return List.of();
        boolean wasStable = s.state != DesktopState.STARTING && s.healthySinceNs != NONE
                && nowNs - s.healthySinceNs >= restartPolicy.stableAfterNs();
        if (wasStable) s.failures = 0;
        s.failures++;
        s.clearSession();
        s.state = DesktopState.UNHEALTHY;
        s.version++;
        s.port = 0;
        s.healthySinceNs = NONE;
        s.restartAtNs = s.failures > restartPolicy.maxConsecutiveFailures()
                ? NONE : nowNs + restartPolicy.backoffNs(s.failures);
        return List.of();
    }

    /** Whether the desktop is UNHEALTHY for good: it failed too often in a row and is not restarted. */
    boolean gaveUp(int index) {
        Slot s = slots.get(index);
        return s.state == DesktopState.UNHEALTHY && s.restartAtNs == NONE;
    }

    /**
     * Advances time: expires unused one-time passwords, releases desktops DISCONNECTED for too long (ends
     * and resets them) and restarts unhealthy desktops when due.
     */
    List<Action> tick(long nowNs) {
        List<Action> actions = new ArrayList<>();
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            if (s.passwordExpiresAtNs != NONE && nowNs - s.passwordExpiresAtNs >= 0) {
                s.passwordExpiresAtNs = NONE;
                actions.add(new ScramblePassword(i));
                if (s.state == DesktopState.ASSIGNED) {
                    if (s.hadSession) {
                        disconnect(s, nowNs);
                    } else {
                        s.state = DesktopState.AVAILABLE;
                        s.version++;
                        s.clearSession();
                    }
                }
            }
            if (s.state == DesktopState.DISCONNECTED && s.releaseAtNs != NONE && nowNs - s.releaseAtNs >= 0) {
                actions.add(new ScramblePassword(i));
                actions.add(relaunch(i)); // a logout: the user's session ends, a fresh Xvnc takes its place
            }
            if (s.state == DesktopState.UNHEALTHY && s.restartAtNs != NONE && nowNs - s.restartAtNs >= 0) {
                actions.add(relaunch(i));
            }
        }
        return actions;
    }

    /** Assigns a desktop to {@code sessionId} of {@code user} of {@code tenant} and issues a one-time password. */
    Outcome initiate(String desktopId, String sessionId, int tenant, String user, long nowNs) {
        return initiate(desktopId, ANY_VERSION, sessionId, tenant, user, nowNs);
    }

    /**
     * {@link #initiate(String, String, int, String, long)} as a compare-and-set: only while the desktop's
     * version is {@code expectedVersion} ({@link #ANY_VERSION}: whatever it is); otherwise
     * {@link Rejection#ABORTED}.
     */
    Outcome initiate(String desktopId, long expectedVersion, String sessionId, int tenant, String user, long nowNs) {
        return initiate(desktopId, expectedVersion, sessionId, tenant, user, false, nowNs);
    }

    /**
     * As {@link #initiate(String, long, String, int, String, long)}; with {@code dedicate} (a persistent pool) a
     * desktop dedicated to nobody becomes dedicated to the user. A desktop dedicated to another user is refused
     * {@link Rejection#FAILED_PRECONDITION} either way.
     */
    Outcome initiate(String desktopId, long expectedVersion, String sessionId, int tenant, String user, boolean dedicate,
                     long nowNs) {
        if (sessionId.isBlank() || user.isBlank()) {
            return new Rejected(Rejection.INVALID_ARGUMENT, "session_id and user are required");
        }
        int index = indexOf(desktopId);
        if (index < 0) return notFound(desktopId);
        Slot s = slots.get(index);
        if (expectedVersion != ANY_VERSION && s.version != expectedVersion) {
            return new Rejected(Rejection.ABORTED, "desktop " + desktopId + " changed since it was offered (version "
                    + s.version + ", expected " + expectedVersion + "): try another");
        }
        if (!s.dedicatedUser.isEmpty() && !(s.dedicatedTenant == tenant && s.dedicatedUser.equals(user))) {
            return new Rejected(Rejection.FAILED_PRECONDITION, "desktop " + desktopId + " is dedicated to another user");
        }
        boolean reconnect = s.tenant == tenant && s.user.equals(user) && (s.state == DesktopState.ASSIGNED
                || s.state == DesktopState.IN_USE || s.state == DesktopState.DISCONNECTED);
        if (s.state != DesktopState.AVAILABLE && !reconnect) {
            return new Rejected(Rejection.FAILED_PRECONDITION, "desktop " + desktopId + " is " + s.state);
        }
        s.state = DesktopState.ASSIGNED;
        s.version++;
        s.releaseAtNs = NONE;
        if (dedicate && s.dedicatedUser.isEmpty()) {
            s.dedicatedTenant = tenant;
            s.dedicatedUser = user;
        }
        s.sessionId = sessionId;
        s.tenant = tenant;
        s.user = user;
        s.passwordExpiresAtNs = nowNs + oneTimePasswordTtlNs;
        return new Accepted(index, snapshot(index), List.of(), true);
    }

    /** The engine authenticated: the one-time password is spent. Repeating it is harmless. */
    Outcome sessionStarted(String desktopId, String sessionId, long nowNs) {
        int index = indexOf(desktopId);
        if (index < 0) return notFound(desktopId);
        Slot s = slots.get(index);
        if (s.state == DesktopState.IN_USE && s.sessionId.equals(sessionId)) {
            return new Accepted(index, snapshot(index), List.of());
        }
        if (s.state != DesktopState.ASSIGNED || !s.sessionId.equals(sessionId)) {
            return new Rejected(Rejection.FAILED_PRECONDITION,
                    "desktop " + desktopId + " is not assigned to this session (it is " + s.state + ")");
        }
        s.state = DesktopState.IN_USE;
        s.version++;
        s.hadSession = true;
        s.passwordExpiresAtNs = NONE;
        return new Accepted(index, snapshot(index), List.of(new ScramblePassword(index)));
    }

    /** Ends the session and resets the desktop. Ending a desktop that has no session is a no-op. */
    Outcome endSession(String desktopId, String sessionId, long nowNs) {
        return endSession(desktopId, sessionId, false, nowNs);
    }

    /**
     * Ends the session. Without {@code keep}, or when no session ever started on the desktop since its last reset
     * (nothing of the user's is on it), as {@link #endSession(String, String, long)}: reset. With {@code keep} a
     * desktop holding the user's work is held DISCONNECTED for them, without a session, for
     * {@link #disconnectedReleaseNs} (then reset like any abandoned desktop); its one-time password is replaced.
     */
    Outcome endSession(String desktopId, String sessionId, boolean keep, long nowNs) {
        int index = indexOf(desktopId);
        if (index < 0) return notFound(desktopId);
        Slot s = slots.get(index);
        if (s.sessionId.isEmpty()) return new Accepted(index, snapshot(index), List.of());
        if (!s.sessionId.equals(sessionId)) {
            return new Rejected(Rejection.FAILED_PRECONDITION, "desktop " + desktopId + " belongs to another session");
        }
        if (keep && s.hadSession) {
            if (s.state != DesktopState.DISCONNECTED) disconnect(s, nowNs);
            else s.version++;
            s.sessionId = "";
            s.passwordExpiresAtNs = NONE;
            return new Accepted(index, snapshot(index), List.of(new ScramblePassword(index)));
        }
        List<Action> actions = List.of(new ScramblePassword(index), relaunch(index));
        return new Accepted(index, snapshot(index), actions);
    }

    /**
     * Releases the user {@code (tenant, user)} (removed, or their pool of this agent revoked): every desktop
     * dedicated to them loses its dedication, and every desktop they hold (ASSIGNED, IN_USE, DISCONNECTED) is reset;
     * one only dedicated to them (AVAILABLE, STARTING, UNHEALTHY: nothing of theirs on it) becomes free as it is.
     */
    Released releaseUser(int tenant, String user, long nowNs) {
        List<Action> actions = new ArrayList<>();
        int released = 0;
        if (user.isEmpty()) return new Released(0, List.of());
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            boolean dedicated = s.dedicatedTenant == tenant && s.dedicatedUser.equals(user);
            boolean holds = s.tenant == tenant && s.user.equals(user);
            if (!dedicated && !holds) continue;
            released++;
            s.dedicatedTenant = 0;
            s.dedicatedUser = "";
            if (s.state == DesktopState.ASSIGNED || s.state == DesktopState.IN_USE || s.state == DesktopState.DISCONNECTED) {
                actions.add(new ScramblePassword(i));
                actions.add(relaunch(i));
            } else {
                s.clearSession();
                s.version++;
            }
        }
        return new Released(released, List.copyOf(actions));
    }

    /** The number of TCP connections to the desktop's RFB port, as last observed by the edge. */
    List<Action> onViewerCount(int index, int viewers, long nowNs) {
        Slot s = slots.get(index);
        if (s.state == DesktopState.IN_USE && viewers == 0) disconnect(s, nowNs);
        return List.of();
    }

    /** The desktop keeps the user's work, for {@link #disconnectedReleaseNs} at most. */
    private void disconnect(Slot s, long nowNs) {
        s.state = DesktopState.DISCONNECTED;
        s.version++;
        s.releaseAtNs = nowNs + disconnectedReleaseNs;
    }

    private Action relaunch(int index) {
        Slot s = slots.get(index);
        s.generation++;
        s.state = DesktopState.STARTING;
        s.version++;
        s.clearSession();
        s.port = 0;
        s.restartAtNs = NONE;
        s.healthySinceNs = NONE;
        return new Launch(index, s.generation);
    }

    private Rejected notFound(String desktopId) {
        return new Rejected(Rejection.NOT_FOUND, "no desktop " + desktopId + " on agent " + agentId);
    }

    /** The slot index of {@code desktopId} ({@code <agentId>/<n>}), or -1. */
    int indexOf(String desktopId) {
        String prefix = agentId + "/";
        if (!desktopId.startsWith(prefix)) return -1;
        String n = desktopId.substring(prefix.length());
        if (n.isEmpty() || n.length() > 3 || !n.chars().allMatch(c -> c >= '0' && c <= '9')) return -1;
        int index = Integer.parseInt(n) - 1;
        return index >= 0 && index < slots.size() ? index : -1;
    }

    int size() {
        return slots.size();
    }

    String desktopId(int index) {
        return slots.get(index).id;
    }

    DesktopState state(int index) {
        return slots.get(index).state;
    }

    int port(int index) {
        return slots.get(index).port;
    }

    Desktop snapshot(int index) {
        Slot s = slots.get(index);
        Desktop c = s.snapshot;
        // The last snapshot while nothing it shows changed: publishing every step of an agent of many desktops
        // then builds one message, not one per desktop, and listeners comparing lists see the same instances.
        if (c != null && c.getState() == s.state && c.getVersion() == s.version && c.getPort() == s.port
                && c.getTenant() == s.tenant && c.getHost().equals(s.host) && c.getSessionId().equals(s.sessionId)
                && c.getUser().equals(s.user)) {
            return c;
        }
        c = Desktop.newBuilder().setDesktopId(s.id).setHost(s.host).setPort(s.port).setState(s.state)
                .setSessionId(s.sessionId).setTenant(s.tenant).setUser(s.user).setWidth(width).setHeight(height)
                .setVersion(s.version).build();
        s.snapshot = c;
        return c;
    }

    List<Desktop> desktops() {
        List<Desktop> out = new ArrayList<>(slots.size());
        for (int i = 0; i < slots.size(); i++) out.add(snapshot(i));
        return List.copyOf(out);
    }

    private static final class Slot {
        final String id;
        DesktopState state = DesktopState.STARTING;
        long generation;
        /** Raised at every change of state or holder; 0 before the first launch. */
        long version;
        String host = "";
        int port;
        String sessionId = "";
        int tenant;
        String user = "";
        /** The user a persistent pool dedicated the desktop to (tenant 0, "" if none): what a reset leaves as holder. */
        int dedicatedTenant;
        String dedicatedUser = "";
        /** A session started on this desktop since its last reset: the desktop holds the user's work. */
        boolean hadSession;
        long passwordExpiresAtNs = NONE;
        /** When a DISCONNECTED desktop is released (ended and reset), or NONE. */
        long releaseAtNs = NONE;
        int failures;
        /** The last {@link #snapshot} of this slot, reused while it is still true. */
        Desktop snapshot;
        long restartAtNs = NONE;
        long healthySinceNs = NONE;

        Slot(String id) {
            this.id = id;
        }

        void clearSession() {
            sessionId = "";
            tenant = dedicatedTenant;
            user = dedicatedUser;
            hadSession = false;
            passwordExpiresAtNs = NONE;
            releaseAtNs = NONE;
        }
    }
}
