package io.deskgate.broker;

import io.deskgate.common.RateLimitedLog;
import io.deskgate.control.CallError;
import io.deskgate.control.ConcentratorAnswer;
import io.deskgate.control.ConcentratorCall;
import io.deskgate.control.ConcentratorGrpc;
import io.deskgate.control.FindAvailableReply;
import io.deskgate.control.FindAvailableRequest;
import io.deskgate.control.InitiateSessionReply;
import io.deskgate.control.InitiateSessionRequest;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One broker's FindAvailable and InitiateSession calls to the concentrators, over one {@code Calls} stream per
 * concentrator target (control.proto; docs/protocol.md, "Calls streams") instead of one HTTP/2 stream per call.
 * Each call carries an id; its answer is matched by that id, in any order. Each call's deadline is the broker's:
 * a timer fails it with {@code DEADLINE_EXCEEDED} and an answer arriving after that is ignored (one
 * rate-limited line). A stream that fails or ends fails every call in flight on it at once with its status
 * ({@code UNAVAILABLE} if it had none), which the callers treat as a failed unary call (the member is marked
 * failing); the next call opens a new stream. A malformed answer (no answer set, or one of the wrong kind)
 * fails its call {@code INTERNAL} with one line; an answer naming no call in flight is ignored with one line.
 *
 * <p>The answer observers get {@code onNext} then {@code onCompleted}, or {@code onError}, exactly once, on
 * the transport's thread or the timer's; they must not block. Thread-safe; the owner closes it.
 */
final class ConcentratorCalls implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConcentratorCalls.class);

    private final Function<String, ManagedChannel> channel;
    private final ScheduledExecutorService timers;
    private final RateLimitedLog log;
    private final Map<String, CallStream> streams = new ConcurrentHashMap<>();
    private final AtomicLong ignoredAnswers = new AtomicLong();
    private volatile boolean closed;

    /**
     * @param channel the channel to a {@code host:port} target (its callbacks on the transport's thread)
     * @param timers  where the calls' deadlines fire
     */
    ConcentratorCalls(Function<String, ManagedChannel> channel, ScheduledExecutorService timers, RateLimitedLog log) {
        this.channel = channel;
        this.timers = timers;
        this.log = log;
    }

    /** FindAvailable to {@code target}, answered by {@code deadlineNs} (System.nanoTime) or failed. */
    void find(String target, FindAvailableRequest request, long deadlineNs, StreamObserver<FindAvailableReply> answer) {
        call(target, ConcentratorCall.newBuilder().setFind(request), deadlineNs,
                new Pending<>(answer, ConcentratorAnswer.AnswerCase.FOUND, ConcentratorAnswer::getFound));
    }

    /** InitiateSession through {@code target}, answered by {@code deadlineNs} or failed. */
    void initiate(String target, InitiateSessionRequest request, long deadlineNs, StreamObserver<InitiateSessionReply> answer) {
        call(target, ConcentratorCall.newBuilder().setInitiate(request), deadlineNs,
                new Pending<>(answer, ConcentratorAnswer.AnswerCase.INITIATED, ConcentratorAnswer::getInitiated));
    }

    /** Calls in flight, over every stream (for tests). */
    int inFlight() {
        int n = 0;
        for (CallStream s : streams.values()) n += s.pending.size();
        return n;
    }

    /** Answers that named no call in flight (late, or never sent), ignored since the start. */
    long ignoredAnswers() {
        return ignoredAnswers.get();
    }

    /** Streams open now (for tests). */
    int streams() {
        return streams.size();
    }

    private void call(String target, ConcentratorCall.Builder call, long deadlineNs, Pending<?> p) {
        if (closed) {
            p.fail(Status.UNAVAILABLE.withDescription("the broker is closing"));
            return;
        }
        CallStream s;
        try {
            s = streams.compute(target, (t, old) -> old == null || old.dead ? new CallStream(t, channel.apply(t)) : old);
        } catch (IllegalArgumentException e) { // a registry row with a bad target
            p.fail(Status.UNAVAILABLE.withDescription(e.getMessage()));
            return;
        }
        s.send(call, deadlineNs, p);
    }

    /** Ends every stream; calls in flight fail UNAVAILABLE. Idempotent. */
    @Override
    public void close() {
        closed = true;
        for (CallStream s : List.copyOf(streams.values())) s.cancel();
    }

    /** One call waiting for its answer: delivers it once. */
    private static final class Pending<T> {
        final StreamObserver<T> answer;
        final ConcentratorAnswer.AnswerCase expected;
        final Function<ConcentratorAnswer, T> extract;
        volatile ScheduledFuture<?> timer;

        Pending(StreamObserver<T> answer, ConcentratorAnswer.AnswerCase expected, Function<ConcentratorAnswer, T> extract) {
            this.answer = answer;
            this.expected = expected;
            this.extract = extract;
        }

        void reply(ConcentratorAnswer a) {
            answer.onNext(extract.apply(a));
            answer.onCompleted();
        }

        void fail(Status s) {
            answer.onError(s.asRuntimeException());
        }
    }

    /** The stream to one concentrator target and its calls in flight. */
    private final class CallStream implements ClientResponseObserver<ConcentratorCall, ConcentratorAnswer> {
        final String target;
        final Map<Long, Pending<?>> pending = new ConcurrentHashMap<>();
        final AtomicLong ids = new AtomicLong();
        /** Guarded by this: the request side (not thread-safe). */
        private ClientCallStreamObserver<ConcentratorCall> out;
        volatile boolean dead;

        CallStream(String target, ManagedChannel ch) {
            this.target = target;
            Context previous = Context.ROOT.attach(); // serves many requests: never cancelled with the one opening it
            try {
                ConcentratorGrpc.newStub(ch).calls(this);
            } finally {
                Context.ROOT.detach(previous);
            }
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<ConcentratorCall> requestStream) {
            synchronized (this) {
                out = requestStream;
            }
        }

        void send(ConcentratorCall.Builder call, long deadlineNs, Pending<?> p) {
            long id = ids.incrementAndGet();
            long left = Math.max(1, deadlineNs - System.nanoTime());
            pending.put(id, p);
            try {
                p.timer = timers.schedule(() -> expired(id), left, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException closing) {
                if (pending.remove(id) != null) p.fail(Status.UNAVAILABLE.withDescription("the broker is closing"));
                return;
            }
            ConcentratorCall message = call.setCallId(id).setTimeoutMs(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))).build();
            boolean sent = false;
            synchronized (this) {
                if (!dead) {
                    try {
                        out.onNext(message);
                        sent = true;
                    } catch (RuntimeException e) {
                        // The call is closing: its onError follows and fails what is in flight.
                    }
                }
            }
            if (!sent) failOne(id, Status.UNAVAILABLE.withDescription("the stream to concentrator " + target + " ended"));
        }

        private void expired(long id) {
            failOne(id, Status.DEADLINE_EXCEEDED.withDescription("no answer from concentrator " + target + " by the deadline"));
        }

        private void failOne(long id, Status s) {
            Pending<?> p = pending.remove(id);
            if (p == null) return;
            ScheduledFuture<?> t = p.timer;
            if (t != null) t.cancel(false);
            p.fail(s);
        }

        @Override
        public void onNext(ConcentratorAnswer a) {
            Pending<?> p = pending.remove(a.getCallId());
            if (p == null) {
                ignoredAnswers.incrementAndGet();
                log.warn("late-answer", "concentrator {} answered call {}, which is not in flight (after its deadline, or never sent): ignored",
                        target, a.getCallId());
                return;
            }
            ScheduledFuture<?> t = p.timer;
            if (t != null) t.cancel(false);
            if (a.getAnswerCase() == ConcentratorAnswer.AnswerCase.ERROR) {
                CallError e = a.getError();
                p.fail(Status.fromCodeValue(e.getCode()).withDescription(e.getDescription()));
            } else if (a.getAnswerCase() == p.expected) {
                p.reply(a);
            } else {
                log.warn("bad-answer", "concentrator {} answered call {} with {} where {} was due: refused", target, a.getCallId(),
                        a.getAnswerCase(), p.expected);
                p.fail(Status.INTERNAL.withDescription("malformed answer from concentrator " + target));
            }
        }

        @Override
        public void onError(Throwable t) {
            Status s = Status.fromThrowable(t);
            ended(s);
            if (!closed) log.warn("stream-failed", "the calls stream to concentrator {} failed: {} {}", target, s.getCode(),
                    s.getDescription() == null ? "" : s.getDescription());
        }

        @Override
        public void onCompleted() {
            ended(Status.UNAVAILABLE.withDescription("concentrator " + target + " ended the calls stream"));
        }

        /** Fails every call in flight at once; the next call opens a new stream. */
        private void ended(Status s) {
            synchronized (this) {
                dead = true;
            }
            streams.remove(target, this);
            Status failure = s.isOk() ? Status.UNAVAILABLE.withDescription("the calls stream ended") : s;
            for (Long id : List.copyOf(pending.keySet())) failOne(id, failure);
        }

        void cancel() {
            synchronized (this) {
                if (dead || out == null) return;
                try {
                    out.cancel("the broker is closing", null);
                } catch (RuntimeException e) {
                    // Already closed.
                }
            }
        }
    }
}
