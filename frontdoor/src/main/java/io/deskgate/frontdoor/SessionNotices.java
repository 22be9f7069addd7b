package io.deskgate.frontdoor;

import io.deskgate.common.RateLimitedLog;
import io.deskgate.control.BrokerGrpc;
import io.deskgate.control.SessionStartedReply;
import io.deskgate.control.SessionStartedRequest;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's {@code SessionStarted} notices, sent without the launch waiting for their answers (issue 9, launch
 * speed), and kept in order per session: {@link #awaitSent} before any later call of the same session that the
 * broker must see after it (its {@code EndSession}), so the broker (and the desktop's agent behind it) never sees a
 * session's end before its start from this frontdoor. A notice that fails was never more than a warning (the
 * instance is connected and streaming either way, as before); it is one rate-limited log line. Callbacks run on the
 * channel's transport thread and never block. Thread-safe.
 */
final class SessionNotices {
    private static final Logger log = LoggerFactory.getLogger(SessionNotices.class);
    private static final RateLimitedLog failures = new RateLimitedLog(log);

    /** Session -> its notices not answered yet (all of them, when a session has several: one per connection). */
    private final Map<UUID, CompletableFuture<Void>> pending = new ConcurrentHashMap<>();

    /** Sends {@code SessionStarted} for {@code sessionId} on {@code desktopId} through {@code broker}; returns at once. */
    void started(BrokerGrpc.BrokerStub broker, String desktopId, UUID sessionId) {
        CompletableFuture<Void> answered = new CompletableFuture<>();
        CompletableFuture<Void> all = pending.merge(sessionId, answered, CompletableFuture::allOf);
        all.whenComplete((v, e) -> pending.remove(sessionId, all));
        try {
            broker.sessionStarted(SessionStartedRequest.newBuilder().setDesktopId(desktopId).setSessionId(sessionId.toString())
                    .build(), new StreamObserver<>() {
                @Override
                public void onNext(SessionStartedReply reply) {}

                @Override
                public void onError(Throwable t) {
                    // The instance is connected and streaming; the desktop keeps working without this notice.
                    failures.warn("SessionStarted failed", "broker did not take SessionStarted for session {}: {}", sessionId,
                            io.grpc.Status.fromThrowable(t).getCode());
                    answered.complete(null);
                }

                @Override
                public void onCompleted() {
                    answered.complete(null);
                }
            });
        } catch (RuntimeException e) {
            failures.warn("SessionStarted not sent", "SessionStarted for session {} was not sent: {}", sessionId, e.toString());
            answered.complete(null);
        }
    }

    /**
     * Waits (at most {@code wait}) until every {@code SessionStarted} of {@code sessionId} sent so far is answered or
     * failed; at once when none is pending. Returns whether none is pending now.
     */
    boolean awaitSent(UUID sessionId, Duration wait) {
        CompletableFuture<Void> f = pending.get(sessionId);
        if (f == null) return true;
        try {
            f.get(wait.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            failures.warn("SessionStarted unanswered", "SessionStarted for session {} still unanswered after {} ms; its end is sent anyway", sessionId,
                    wait.toMillis());
            return false;
        } catch (ExecutionException e) {
            return true; // never completed exceptionally; kept for the compiler
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** How many sessions have a notice not answered yet. */
    int pending() {
        return pending.size();
    }
}
