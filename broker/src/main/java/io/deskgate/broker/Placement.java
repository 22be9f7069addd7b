package io.deskgate.broker;

import io.deskgate.broker.PlacementChoice.AssignmentPolicy;
import io.deskgate.common.RateLimitedLog;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One session request's way to a desktop (seed 001, issue 8 items 5 and 6): a pure state machine, events
 * in, actions out, time as an input.
 *
 * <pre>
 * start --> choose a set ({@link SetRotation}) --> Broadcast FindAvailable to its healthy members
 *   answers (or failures) of them all, or the set's answer deadline --> merge ({@link AvailableMerge})
 *   --> order the offers ({@link PlacementChoice}) --> Initiate the first on its owning concentrator
 *   won --> Done
 *   lost the compare-and-set, refused or unreachable --> Initiate the next offer
 *   no offer left --> the next set not yet tried --> ... --> Failed (one reason naming each set's fate)
 * at any point, the request's deadline --> Failed
 * </pre>
 *
 * The answer deadline of a set is {@code answerTimeoutNs} after its broadcast, never past the request's
 * deadline; answers after it are ignored with one rate-limited line. The edge performs the actions and
 * must call {@link #tick} at the deadlines given in them ({@link #nextDeadlineNs}); it never waits past the
 * request's deadline. Not thread-safe: one request, one caller at a time.
 */
final class Placement {
    /** What the request asks for. {@code spread}: a hash of the session id ({@link PlacementChoice}). */
    record Request(String sessionId, int tenant, String pool, String user, AssignmentPolicy policy, int spread) {
        Request {
            Objects.requireNonNull(sessionId, "sessionId");
            Objects.requireNonNull(pool, "pool");
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(policy, "policy");
        }
    }

    sealed interface Action permits Broadcast, Initiate, Done, Failed {}

    /** Send FindAvailable(tenant, pool, user, limit) to each of {@code concentrators}; answers count until {@code answerDeadlineNs}. */
    record Broadcast(String setId, List<String> concentrators, long answerDeadlineNs) implements Action {}

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
        DEADLINE
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
        return nextSet(nowNs);
    }

    /** A concentrator's FindAvailable answer. */
    List<Action> onAnswer(String concentratorId, List<Offer> offers, long nowNs) {
        if (phase == Phase.ENDED) return ignored(concentratorId, "after the request ended");
        if (expired(nowNs)) return fail(nowNs);
        if (phase != Phase.GATHERING) return ignored(concentratorId, "after the merge");
        AvailableMerge.Answer a = merge.onAnswer(concentratorId, offers, nowNs);
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
        merge = new AvailableMerge(set.healthyMembers(), answerDeadline);
        return List.of(new Broadcast(set.id(), set.healthyMembers(), answerDeadline));
    }

    private List<Action> merged(long nowNs) {
        Set<String> missing = merge.missing();
        candidates = PlacementChoice.order(merge.merge(), request.tenant(), request.user(), request.policy(), request.spread());
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
        return nextSet(nowNs);
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
