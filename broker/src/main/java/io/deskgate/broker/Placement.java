package io.deskgate.broker;

import io.deskgate.broker.PlacementChoice.AssignmentPolicy;
import io.deskgate.common.RateLimitedLog;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import io.deskgate.control.DesktopState;

/**
 * One session request's way to a desktop (seed 001, issue 8 items 5 and 6): a pure state machine, events
 * in, actions out, time as an input.
 *
 * <pre>
 * start --> choose a set ({@link SetRotation}) --> Broadcast FindAvailable to its healthy members
 *   answers (or failures) of them all, or the set's answer deadline (with one answer at least; else the
 *   first answer) --> merge ({@link AvailableMerge})
 *   --> order the offers ({@link PlacementChoice}) --> Initiate the first on its owning concentrator
 *   won --> Done
 *   lost the compare-and-set, refused or unreachable --> Initiate the next offer
 *   no offer left --> the next set not yet tried --> ... --> Failed (one reason naming each set's fate)
 *     (a set whose every offer was lost to other sessions counts as not yet tried again, at most
 *     {@link #MAX_ASKED_AGAIN} times per request: a new broadcast within the request's deadline)
 * at any point, the request's deadline --> Failed
 * </pre>
 *
 * The answer deadline of a set is {@code answerTimeoutNs} after its broadcast, never past the request's
 * deadline; answers after it are ignored with one rate-limited line, but for the first one when none had come
 * by then, which is waited for up to the request's deadline ({@link AvailableMerge}). The edge performs the actions and
 * must call {@link #tick} at the deadlines given in them ({@link #nextDeadlineNs}); it never waits past the
 * request's deadline. Not thread-safe: one request, one caller at a time.
 */
final class Placement {
    /**
     * What the request asks for. {@code spread}: a hash of the session id ({@link PlacementChoice}); {@code desktopId}:
     * only this desktop (empty: any); {@code maxPerUser}: how many desktops the user may hold at once, in every pool
     * (the concentrators' {@code held} counts, summed over the set's answers).
     */
    record Request(String sessionId, int tenant, String pool, String user, AssignmentPolicy policy, int spread,
                   String desktopId, int maxPerUser) {
        Request {
            Objects.requireNonNull(sessionId, "sessionId");
            Objects.requireNonNull(pool, "pool");
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(policy, "policy");
            Objects.requireNonNull(desktopId, "desktopId");
            if (maxPerUser < 1) throw new IllegalArgumentException("maxPerUser must be at least 1: " + maxPerUser);
        }

        /** Any desktop, no per-user limit. */
        Request(String sessionId, int tenant, String pool, String user, AssignmentPolicy policy, int spread) {
            this(sessionId, tenant, pool, user, policy, spread, "", Integer.MAX_VALUE);
        }
    }

    sealed interface Action permits Broadcast, Initiate, Done, Failed {}

    /**
     * Send FindAvailable(tenant, pool, user, limit) to each of {@code concentrators}; answers count until
     * {@code answerDeadlineNs}, or, while none has come, the first one until {@code lastAnswerNs} (the request's
     * deadline): the calls may run until then.
     */
    record Broadcast(String setId, List<String> concentrators, long answerDeadlineNs, long lastAnswerNs) implements Action {}

    /** Ask {@code offer.concentratorId()} to initiate the session on {@code offer}, expecting its version. */
    record Initiate(Offer offer) implements Action {}

    /** The session has its desktop. */
    record Done(Offer offer) implements Action {}

    /** No desktop: {@code reason} is the one line for the user (and the log). */
    record Failed(Reason reason, String message) implements Action {}

    enum Reason {
        /** Every set asked had no desktop to give, or lost every one to other sessions. */
        NO_DESKTOP,
        /** No set had a healthy concentrator. */
        NO_CONCENTRATOR,
        /** The request's deadline passed first. */
        DEADLINE,
        /** The user holds the most desktops one user may, none of them in the pool (the message names the limit). */
        LIMIT,
        /** The desktop the request named is not in the pool (or of another tenant, or none such). */
        NOT_FOUND,
        /** The desktop the request named is held by another user. */
        HELD_BY_ANOTHER
    }

    /** How the owning concentrator answered an Initiate. */
    enum InitiateResult {
        WON,
        /** ABORTED: another session took the desktop first (the compare-and-set lost). */
        LOST_RACE,
        /** The agent refused for another reason (the desktop is not what it was). */
        REFUSED,
        /** The concentrator or the agent did not answer. */
        UNREACHABLE
    }

    private enum Phase { NEW, GATHERING, INITIATING, ENDED }

    private final Request request;
    private final long deadlineNs;
    private final long answerTimeoutNs;
    private final SetRotation rotation;
    private final RateLimitedLog log;
    private final Set<String> tried = new LinkedHashSet<>();
    private final List<String> fates = new ArrayList<>();
    private List<ConcentratorSet> sets = List.of();
    private Phase phase = Phase.NEW;
    private String setId = "";
    private AvailableMerge merge;
    private List<Offer> candidates = List.of();
    private int next;
    private int lostRaces;
    private int unreachable;
    /** Sets asked again because other sessions took every offer they gave ({@link #MAX_ASKED_AGAIN} at most). */
    private int askedAgain;
    /** The held counts of the set being gathered, by concentrator. */
    private final java.util.Map<String, Integer> heldCounts = new java.util.HashMap<>();

    Placement(Request request, long deadlineNs, long answerTimeoutNs, SetRotation rotation, RateLimitedLog log) {
        if (answerTimeoutNs <= 0) throw new IllegalArgumentException("answerTimeoutNs must be positive");
        this.request = Objects.requireNonNull(request, "request");
        this.deadlineNs = deadlineNs;
        this.answerTimeoutNs = answerTimeoutNs;
        this.rotation = Objects.requireNonNull(rotation, "rotation");
        this.log = Objects.requireNonNull(log, "log");
    }

    /** Begins with the sets as they are now (the registry's, with failing members marked). */
    List<Action> start(List<ConcentratorSet> sets, long nowNs) {
        if (phase != Phase.NEW) throw new IllegalStateException("started twice");
        this.sets = List.copyOf(sets);
        if (expired(nowNs)) return fail(nowNs); // it waited for its user's turn past its deadline
        return nextSet(nowNs);
    }

    /** A concentrator's FindAvailable answer, without a held count. */
    List<Action> onAnswer(String concentratorId, List<Offer> offers, long nowNs) {
        return onAnswer(concentratorId, offers, 0, nowNs);
    }

    /** A concentrator's FindAvailable answer: its offers and how many desktops the user holds there in every pool. */
    List<Action> onAnswer(String concentratorId, List<Offer> offers, int held, long nowNs) {
        if (phase == Phase.ENDED) return ignored(concentratorId, "after the request ended");
        if (expired(nowNs)) return fail(nowNs);
        if (phase != Phase.GATHERING) return ignored(concentratorId, "after the merge");
        AvailableMerge.Answer a = merge.onAnswer(concentratorId, offers, nowNs);
        if (a == AvailableMerge.Answer.TAKEN) heldCounts.put(concentratorId, Math.max(0, held));
        if (a != AvailableMerge.Answer.TAKEN) {
            ignored(concentratorId, a == AvailableMerge.Answer.LATE ? "after the deadline" : "not expected (" + a + ")");
        }
        return merge.due(nowNs) ? merged(nowNs) : List.of();
    }

    /** A concentrator's FindAvailable call failed: it will not answer. */
    List<Action> onAnswerFailed(String concentratorId, long nowNs) {
        if (phase != Phase.GATHERING) return List.of();
        if (expired(nowNs)) return fail(nowNs);
        merge.onFailed(concentratorId);
        return merge.due(nowNs) ? merged(nowNs) : List.of();
    }

    /** The answer to the last {@link Initiate}. */
    List<Action> onInitiated(String desktopId, InitiateResult result, long nowNs) {
        if (phase != Phase.INITIATING || !candidates.get(next).desktopId().equals(desktopId)) return List.of();
        if (result == InitiateResult.WON) {
            phase = Phase.ENDED;
            return List.of(new Done(candidates.get(next)));
        }
        if (result == InitiateResult.LOST_RACE) lostRaces++;
        if (result == InitiateResult.UNREACHABLE) unreachable++;
        if (expired(nowNs)) return fail(nowNs);
        next++;
        return initiateNext(nowNs);
    }

    /** Time passed: the set's answer deadline, or the request's. */
    List<Action> tick(long nowNs) {
        if (phase == Phase.ENDED) return List.of();
        if (expired(nowNs)) return fail(nowNs);
        if (phase == Phase.GATHERING && merge.due(nowNs)) return merged(nowNs);
        return List.of();
    }

    /** When {@link #tick} must be called next at the latest. */
    long nextDeadlineNs() {
        return phase == Phase.GATHERING ? merge.deadlineNs() : deadlineNs;
    }

    boolean ended() {
        return phase == Phase.ENDED;
    }

    // ------------------------------------------------------------------ internals

    private boolean expired(long nowNs) {
        return nowNs - deadlineNs >= 0;
    }

    private List<Action> nextSet(long nowNs) {
        var chosen = rotation.choose(sets, tried);
        if (chosen.isEmpty()) {
            phase = Phase.ENDED;
            if (tried.isEmpty()) {
                return List.of(new Failed(Reason.NO_CONCENTRATOR, "no desktop: no concentrator set has a concentrator answering"));
            }
            return List.of(new Failed(Reason.NO_DESKTOP, "no desktop in pool " + request.pool() + " for "
                    + request.user() + ": " + String.join("; ", fates)));
        }
        ConcentratorSet set = chosen.get();
        tried.add(set.id());
        setId = set.id();
        phase = Phase.GATHERING;
        long answerDeadline = Math.min(deadlineNs, nowNs + answerTimeoutNs);
        merge = new AvailableMerge(set.healthyMembers(), answerDeadline, deadlineNs);
        heldCounts.clear();
        return List.of(new Broadcast(set.id(), set.healthyMembers(), answerDeadline, deadlineNs));
    }

    private List<Action> merged(long nowNs) {
        Set<String> missing = merge.missing();
        List<Offer> offers = merge.merge();
        int held = heldCounts.values().stream().mapToInt(Integer::intValue).sum();
        if (!request.desktopId().isEmpty()) {
            Optional<Offer> named = offers.stream().filter(o -> o.desktopId().equals(request.desktopId())).findFirst();
            if (named.isEmpty()) {
                fates.add("set " + setId + ": no desktop " + request.desktopId());
                if (!missing.isEmpty()) return nextSet(nowNs); // a concentrator that did not answer may hold it
                return end(Reason.NOT_FOUND, "no desktop " + request.desktopId() + " in pool " + request.pool());
            }
            Offer o = named.get();
            boolean own = owned(o);
            if (!own && !(o.user().isEmpty() && o.state() == DesktopState.AVAILABLE)) {
                return end(Reason.HELD_BY_ANOTHER, "desktop " + o.desktopId() + " is " + o.state());
            }
            if (!own && held >= request.maxPerUser()) return end(Reason.LIMIT, limitMessage(held, ""));
            candidates = List.of(o);
        } else {
            candidates = PlacementChoice.order(offers, request.tenant(), request.user(), request.policy(), request.spread());
            if (held >= request.maxPerUser()) {
                // At the limit: only their own desktops (held ones) of the pool, as the direct broker does.
                candidates = candidates.stream().filter(this::ownHeld).toList();
                if (candidates.isEmpty()) return end(Reason.LIMIT, limitMessage(held, " in other pools"));
            }
        }
        next = 0;
        lostRaces = 0;
        unreachable = 0;
        String answered = merge.answered() + " of " + (merge.answered() + missing.size()) + " concentrators answered";
        if (candidates.isEmpty()) {
            fates.add("set " + setId + ": " + (merge.answered() == 0 ? "no concentrator answered in time"
                    : "none free (" + answered + ")"));
            return nextSet(nowNs);
        }
        fates.add("set " + setId + ": " + answered);
        phase = Phase.INITIATING;
        return initiateNext(nowNs);
    }

    private List<Action> initiateNext(long nowNs) {
        if (next < candidates.size()) return List.of(new Initiate(candidates.get(next)));
        fates.set(fates.size() - 1, "set " + setId + ": " + candidates.size() + " offered, " + lostRaces
                + " taken by other sessions first, " + unreachable + " unreachable");
        // Every offer taken by other sessions: the set is not out of desktops, its answers were only older than
        // those sessions' assignments. It may be asked again (a new broadcast, its own answer deadline), a few
        // times within the request's deadline, rather than the request failing NO_DESKTOP with time left.
        if (lostRaces == candidates.size() && askedAgain < MAX_ASKED_AGAIN) {
            askedAgain++;
            tried.remove(setId);
        }
        return nextSet(nowNs);
    }

    /** How many times one request asks a set again whose offers were all taken by other sessions first. */
    static final int MAX_ASKED_AGAIN = 2;

    private boolean owned(Offer o) {
        return !request.user().isEmpty() && o.tenant() == request.tenant() && o.user().equals(request.user())
                && (HELD.contains(o.state()) || o.state() == DesktopState.AVAILABLE);
    }

    private boolean ownHeld(Offer o) {
        return owned(o) && HELD.contains(o.state());
    }

    private static final Set<DesktopState> HELD = java.util.EnumSet.of(DesktopState.ASSIGNED, DesktopState.IN_USE,
            DesktopState.DISCONNECTED);

    /** The direct broker's words for the per-user limit ({@link DesktopChooser}). */
    private String limitMessage(int held, String where) {
        return "you already hold " + held + (held == 1 ? " desktop" : " desktops") + where
                + ", the most one user may hold at once (limit " + request.maxPerUser() + "); open or end it first";
    }

    private List<Action> end(Reason reason, String message) {
        phase = Phase.ENDED;
        return List.of(new Failed(reason, message));
    }

    private List<Action> fail(long nowNs) {
        phase = Phase.ENDED;
        String sofar = fates.isEmpty() ? "" : " (" + String.join("; ", fates) + ")";
        return List.of(new Failed(Reason.DEADLINE, "no desktop found before the request's deadline" + sofar));
    }

    private List<Action> ignored(String concentratorId, String why) {
        log.info("late-answer", "ignored FindAvailable answer of concentrator {} for session {}: {}", concentratorId,
                request.sessionId(), why);
        return List.of();
    }
}
