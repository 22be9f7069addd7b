package io.deskgate.broker;

import io.deskgate.control.ConcentratorGrpc;
import io.deskgate.control.EndSessionRequest;
import io.deskgate.control.ReleaseUserReply;
import io.deskgate.control.ReleaseUserRequest;
import io.deskgate.control.SessionStartedRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The sharded broker's session calls ({@link SessionBroker}): SessionStarted and EndSession routed to the
 * concentrator holding the desktop's agent (first the one that placed it), and ReleaseUser sent to every live
 * concentrator. Blocking, on the caller's thread, each call under the request timeout. Thread-safe.
 */
final class SessionRoutes {
    private final Duration requestTimeout;
    private final BiFunction<Long, Map<String, String>, List<ConcentratorSet>> sets;
    private final Function<String, ManagedChannel> channel;
    private final BiConsumer<String, Status> markFailing;
    /** Desktop id to the concentrator that placed it last: where SessionStarted and EndSession go first. */
    private final Map<String, String> placedBy = new ConcurrentHashMap<>();

    /**
     * @param sets        the sets as they are at a time, filling in the members' targets
     * @param channel     the channel to a {@code host:port} target
     * @param markFailing called with a concentrator whose call failed
     */
    SessionRoutes(Duration requestTimeout, BiFunction<Long, Map<String, String>, List<ConcentratorSet>> sets,
                  Function<String, ManagedChannel> channel, BiConsumer<String, Status> markFailing) {
        this.requestTimeout = requestTimeout;
        this.sets = sets;
        this.channel = channel;
        this.markFailing = markFailing;
    }

    /** {@code concentratorId} initiated a session on {@code desktopId}: the session's later calls go there first. */
    void placed(String desktopId, String concentratorId) {
        placedBy.put(desktopId, concentratorId);
    }

    void sessionStarted(SessionStartedRequest request) {
        route(request.getDesktopId(), stub -> stub.sessionStarted(request));
    }

    void endSession(EndSessionRequest request) {
        route(request.getDesktopId(), stub -> stub.endSession(request));
        placedBy.remove(request.getDesktopId());
    }

    /**
     * Asks every live concentrator, in parallel under the request's deadline, to release the user on its agents
     * (every agent reports to one concentrator of every set, so each is reached at least once; an agent releases
     * idempotently). The sum of what answered; a concentrator that did not answer is marked failing and logged.
     */
    ReleaseUserReply releaseUser(ReleaseUserRequest request) {
        if (request.getTenant() < 1 || request.getUser().isEmpty()) {
            throw Status.INVALID_ARGUMENT.withDescription("tenant and user are required").asRuntimeException();
        }
        Map<String, String> targets = new HashMap<>();
        sets.apply(System.nanoTime(), targets);
        long deadline = System.nanoTime() + requestTimeout.toNanos();
        Map<String, com.google.common.util.concurrent.ListenableFuture<ReleaseUserReply>> calls = new HashMap<>();
        for (var t : targets.entrySet()) {
            calls.put(t.getKey(), ConcentratorGrpc.newFutureStub(channel.apply(t.getValue()))
                    .withDeadlineAfter(requestTimeout.toNanos(), TimeUnit.NANOSECONDS).releaseUser(request));
        }
        int released = 0;
        for (var c : calls.entrySet()) {
            try {
                released += c.getValue().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS).getReleased();
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                c.getValue().cancel(true);
                markFailing.accept(c.getKey(), Status.fromThrowable(e.getCause() == null ? e : e.getCause()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
            }
        }
        return ReleaseUserReply.newBuilder().setReleased(released).build();
    }

    /**
     * Calls the concentrator that placed {@code desktopId}, or (when that one does not hold its agent any
     * more, or another broker placed it) each live concentrator in turn until one holds the agent.
     */
    private <T> T route(String desktopId, Function<ConcentratorGrpc.ConcentratorBlockingStub, T> call) {
        Map<String, String> targets = new HashMap<>();
        sets.apply(System.nanoTime(), targets);
        List<String> order = new ArrayList<>();
        String hint = placedBy.get(desktopId);
        if (hint != null && targets.containsKey(hint)) order.add(hint);
        for (String id : targets.keySet()) if (!id.equals(hint)) order.add(id);
        long deadline = System.nanoTime() + requestTimeout.toNanos();
        StatusRuntimeException last = Status.NOT_FOUND.withDescription("no concentrator holds the agent of desktop "
                + desktopId).asRuntimeException();
        for (String id : order) {
            long left = deadline - System.nanoTime();
            if (left <= 0) break;
            try {
                T reply = call.apply(ConcentratorGrpc.newBlockingStub(channel.apply(targets.get(id)))
                        .withDeadlineAfter(left, TimeUnit.NANOSECONDS));
                placedBy.put(desktopId, id);
                return reply;
            } catch (StatusRuntimeException e) {
                boolean notHere = e.getStatus().getCode() == Status.Code.NOT_FOUND
                        && Objects.requireNonNullElse(e.getStatus().getDescription(), "").contains("does not report to");
                boolean unreachable = switch (e.getStatus().getCode()) {
                    case DEADLINE_EXCEEDED, CANCELLED, UNKNOWN, INTERNAL, UNIMPLEMENTED -> true;
                    case UNAVAILABLE -> !Objects.requireNonNullElse(e.getStatus().getDescription(), "").startsWith("agent ");
                    default -> false;
                };
                if (!notHere && !unreachable) throw e;
                if (unreachable) last = e;
            }
        }
        throw last;
    }
}
