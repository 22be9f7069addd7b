package io.deskgate.concentrator;

import io.deskgate.control.CallError;
import io.deskgate.control.ConcentratorAnswer;
import io.deskgate.control.ConcentratorCall;
import io.deskgate.control.FindAvailableReply;
import io.deskgate.control.FindAvailableRequest;
import io.deskgate.control.InitiateSessionReply;
import io.deskgate.control.InitiateSessionRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * One broker's calls stream ({@link ConcentratorService#calls}; docs/protocol.md, "Calls streams"): each call
 * is answered as its unary call would be, on the stream, by its id. A malformed call ends the stream
 * INVALID_ARGUMENT (one line): the broker fails what it had in flight and opens a new one. Calls arrive one at
 * a time (gRPC's inbound order); answers may come from any thread (writes are serialized here).
 */
final class BrokerCallStream implements StreamObserver<ConcentratorCall> {
    /** How a call is answered: the service's unary FindAvailable, and its InitiateSession under a timeout. */
    interface Find {
        void find(FindAvailableRequest request, StreamObserver<FindAvailableReply> reply);
    }

    interface Initiate {
        void initiate(InitiateSessionRequest request, long timeoutNs, StreamObserver<InitiateSessionReply> reply);
    }

    private final Concentrator concentrator;
    private final Find find;
    private final Initiate initiate;
    final ServerCallStreamObserver<ConcentratorAnswer> out;
    /** The ids in flight: a reused one is malformed. */
    final java.util.Set<Long> open = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Guarded by this. */
    private boolean done;

    BrokerCallStream(Concentrator concentrator, ServerCallStreamObserver<ConcentratorAnswer> out, Find find, Initiate initiate) {
        this.concentrator = concentrator;
        this.find = find;
        this.initiate = initiate;
        this.out = out;
        out.setOnCancelHandler(() -> {
            synchronized (this) {
                done = true;
            }
        });
    }

    @Override
    public void onNext(ConcentratorCall call) {
        long id = call.getCallId();
        String bad = id == 0 ? "a call without call_id"
                : call.getCallCase() == ConcentratorCall.CallCase.CALL_NOT_SET ? "call " + id + " names no call"
                : call.getTimeoutMs() < 0 ? "call " + id + " has a negative timeout_ms"
                : !open.add(id) ? "call " + id + " is already in flight" : "";
        if (!bad.isEmpty()) {
            concentrator.refusals().warn("bad-call", "refused a broker's calls stream: {}", bad);
            synchronized (this) {
                if (done) return;
                done = true;
                try {
                    out.onError(Status.INVALID_ARGUMENT.withDescription(bad).asRuntimeException());
                } catch (IllegalStateException | StatusRuntimeException e) {
                    // Already closed by the transport.
                }
            }
            return;
        }
        long timeoutNs = call.getTimeoutMs() == 0 ? Long.MAX_VALUE : TimeUnit.MILLISECONDS.toNanos(call.getTimeoutMs());
        switch (call.getCallCase()) {
            case FIND -> find.find(call.getFind(), answer(id, ConcentratorAnswer.Builder::setFound));
            case INITIATE -> initiate.initiate(call.getInitiate(), timeoutNs, answer(id, ConcentratorAnswer.Builder::setInitiated));
            case CALL_NOT_SET -> throw new IllegalStateException("checked above");
        }
    }

    /** The unary answer of call {@code id}, sent on the stream. */
    private <A> StreamObserver<A> answer(long id, BiConsumer<ConcentratorAnswer.Builder, A> set) {
        return new StreamObserver<>() {
            @Override
            public void onNext(A value) {
                ConcentratorAnswer.Builder a = ConcentratorAnswer.newBuilder().setCallId(id);
                set.accept(a, value);
                send(id, a.build());
            }

            @Override
            public void onError(Throwable t) {
                Status st = Status.fromThrowable(t);
                send(id, ConcentratorAnswer.newBuilder().setCallId(id).setError(CallError.newBuilder()
                        .setCode(st.getCode().value()).setDescription(java.util.Objects.requireNonNullElse(st.getDescription(), "")))
                        .build());
            }

            @Override
            public void onCompleted() {}
        };
    }

    private void send(long id, ConcentratorAnswer a) {
        open.remove(id);
        synchronized (this) {
            if (done) return;
            try {
                out.onNext(a);
            } catch (IllegalStateException | StatusRuntimeException e) {
                done = true; // closed by the transport: the broker fails its calls itself
            }
        }
    }

    @Override
    public void onError(Throwable t) {
        synchronized (this) {
            done = true;
        }
    }

    @Override
    public void onCompleted() {
        synchronized (this) {
            if (done) return;
            done = true;
            out.onCompleted();
        }
    }
}
