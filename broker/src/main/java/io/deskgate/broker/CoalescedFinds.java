package io.deskgate.broker;

import io.deskgate.control.DesktopStatus;
import io.deskgate.control.FindAvailableReply;
import io.deskgate.control.FindAvailableRequest;
import io.deskgate.control.UserHeld;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The gRPC edge of a {@link BroadcastCoalescer}: one broker's coalesced FindAvailable broadcasts. Holds the
 * pure core under its own lock and performs its actions outside it: sends a batch to the set's members
 * over the broker's calls streams ({@link ConcentratorCalls}: never within a request's gRPC context, since a
 * batch serves several requests and must not end with the one whose thread sends it), and hands each request its share of each answer, or the member's failure, through
 * {@link Requests}. A failed call marks its concentrator failing. Thread-safe: called by the requests'
 * drains and by gRPC's callbacks (on the event loop).
 */
final class CoalescedFinds {
    /** Where each request's share goes (called outside every lock of this class). */
    interface Requests {
        /** {@code held}: how many desktops the request's user holds at {@code concentratorId}, in every pool. */
        void answered(long requestId, String concentratorId, List<Offer> offers, int held);

        void failed(long requestId, String concentratorId);
    }

    private final BroadcastCoalescer core;
    private final ConcentratorCalls calls;
    private final ScheduledExecutorService timers;
    /** Guarded by {@code core}: the linger tick already scheduled (0: none), and the targets of the latest ask. */
    private long lingerTickNs;
    private Map<String, String> lastTargets = Map.of();
    private final Function<String, Optional<String>> registryTarget;
    private final BiConsumer<String, Status> markFailing;
    private final Requests requests;

    /**
     * @param calls          the broker's calls streams to the concentrators
     * @param timers         where a tick at a lingering batch's end is scheduled (the core's linger)
     * @param registryTarget a concentrator's target from the registry, for one a batch names that the sending
     *                       request's view of the sets did not list
     * @param markFailing    called with a concentrator whose call failed
     */
    CoalescedFinds(BroadcastCoalescer core, ConcentratorCalls calls, ScheduledExecutorService timers,
                   Function<String, Optional<String>> registryTarget, BiConsumer<String, Status> markFailing, Requests requests) {
        this.core = core;
        this.calls = calls;
        this.timers = timers;
        this.registryTarget = registryTarget;
        this.markFailing = markFailing;
        this.requests = requests;
    }

    /** A request broadcasts; {@code targets} maps its view's concentrator ids to their targets. */
    void ask(BroadcastCoalescer.Ask a, Map<String, String> targets) {
        List<BroadcastCoalescer.Action> actions;
        synchronized (core) {
            long now = System.nanoTime();
            actions = core.ask(a, now);
            lastTargets = targets;
            armLinger(now);
        }
        perform(actions, targets);
    }

    /** Time passed (a request's deadline came): a batch past its slot deadline lets the next one go. */
    void tick(long nowNs, Map<String, String> targets) {
        List<BroadcastCoalescer.Action> due;
        synchronized (core) {
            due = core.tick(nowNs);
            armLinger(nowNs);
        }
        perform(due, targets);
    }

    void withdraw(long requestId) {
        synchronized (core) {
            core.withdraw(requestId);
        }
    }

    boolean forming(String setId) {
        synchronized (core) {
            return core.forming(setId);
        }
    }

    /** Broadcasts sent, and the requests' broadcasts they carried. */
    long[] counts() {
        synchronized (core) {
            return new long[] {core.sent(), core.asked()};
        }
    }

    /** Under {@code core}'s lock: a tick at the end of the earliest lingering batch, unless one comes by then. */
    private void armLinger(long nowNs) {
        Optional<Long> due = core.lingerDeadlineNs(nowNs);
        if (due.isEmpty()) return;
        long at = due.get();
        if (lingerTickNs != 0 && lingerTickNs - at <= 0 && lingerTickNs - nowNs >= 0) return;
        lingerTickNs = at;
        Map<String, String> targets = lastTargets;
        try {
            timers.schedule(() -> {
                synchronized (core) {
                    if (lingerTickNs == at) lingerTickNs = 0;
                }
                tick(System.nanoTime(), targets);
            }, Math.max(0, at - nowNs), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            lingerTickNs = 0; // the broker is closing: its requests end with it
        }
    }

    private void perform(List<BroadcastCoalescer.Action> actions, Map<String, String> targets) {
        for (BroadcastCoalescer.Action a : actions) {
            switch (a) {
                case BroadcastCoalescer.Send s -> send(s, targets);
                case BroadcastCoalescer.Deliver(long requestId, String id, List<Offer> offers, int held) ->
                        requests.answered(requestId, id, offers, held);
                case BroadcastCoalescer.DeliverFailed(long requestId, String id) -> requests.failed(requestId, id);
                case BroadcastCoalescer.Silent(String id) ->
                        markFailing.accept(id, Status.DEADLINE_EXCEEDED.withDescription("no answer by the answer deadline"));
            }
        }
    }

    private void send(BroadcastCoalescer.Send s, Map<String, String> targets) {
        FindAvailableRequest.Builder find = FindAvailableRequest.newBuilder().setTenant(s.tenant()).setPool(s.pool())
                .setLimit(s.limit());
        s.scope().ifPresent(find::setScope);
        // One user: the lone request's FindAvailable. More: the first as `user`, the others in `users`.
        if (!s.users().isEmpty()) find.setUser(s.users().getFirst()).addAllUsers(s.users().subList(1, s.users().size()));
        FindAvailableRequest call = find.build();
        for (String id : s.concentrators()) {
            Optional<String> target = Optional.ofNullable(targets.get(id)).or(() -> registryTarget.apply(id));
            if (target.isEmpty()) {
                answered(s.batchId(), id, "", Optional.empty(), Status.UNAVAILABLE.withDescription("not in the registry"), targets);
                continue;
            }
            // Over the broker's calls stream to that member (a bad target fails the call, and so the member).
            calls.find(target.get(), call, s.callDeadlineNs(), new Answer(s.batchId(), id, call.getUser(), targets));
        }
    }

    /** A batch's answer (or failure) from {@code id}, on gRPC's thread: shared out to its requests. */
    private void answered(long batchId, String id, String user, Optional<FindAvailableReply> reply, Status failure,
                          Map<String, String> targets) {
        List<Offer> offers = reply.map(r -> offers(id, r)).orElse(List.of());
        Map<String, Integer> held = reply.map(r -> held(r, user)).orElse(Map.of());
        if (reply.isEmpty()) markFailing.accept(id, failure);
        List<BroadcastCoalescer.Action> next;
        long now = System.nanoTime();
        synchronized (core) {
            next = reply.isPresent() ? core.onAnswer(batchId, id, offers, held, now) : core.onFailed(batchId, id, now);
            armLinger(now);
        }
        perform(next, targets);
    }

    /** The answer's held counts by user: {@code held} is {@code user}'s (the call's), {@code users_held} the others'. */
    private static Map<String, Integer> held(FindAvailableReply reply, String user) {
        Map<String, Integer> out = new HashMap<>();
        if (!user.isEmpty()) out.put(user, reply.getHeld());
        for (UserHeld u : reply.getUsersHeldList()) out.put(u.getUser(), u.getHeld());
        return out;
    }

    static List<Offer> offers(String concentratorId, FindAvailableReply reply) {
        List<Offer> out = new ArrayList<>(reply.getDesktopsCount());
        for (DesktopStatus d : reply.getDesktopsList()) {
            int slash = d.getDesktopId().indexOf('/');
            if (slash <= 0) continue; // not a desktop id: never offered
            out.add(new Offer(d.getDesktopId(), d.getDesktopId().substring(0, slash), concentratorId, d.getState(),
                    d.getTenant(), d.getUser(), d.getVersion()));
        }
        return out;
    }

    /** One member's answer to one batch. */
    private final class Answer implements StreamObserver<FindAvailableReply> {
        private final long batchId;
        private final String concentratorId;
        private final String user;
        private final Map<String, String> targets;

        Answer(long batchId, String concentratorId, String user, Map<String, String> targets) {
            this.batchId = batchId;
            this.concentratorId = concentratorId;
            this.user = user;
            this.targets = targets;
        }

        @Override
        public void onNext(FindAvailableReply reply) {
            answered(batchId, concentratorId, user, Optional.of(reply), Status.OK, targets);
        }

        @Override
        public void onError(Throwable t) {
            answered(batchId, concentratorId, user, Optional.empty(), Status.fromThrowable(t), targets);
        }

        @Override
        public void onCompleted() {}
    }
}
