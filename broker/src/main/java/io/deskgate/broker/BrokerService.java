package io.deskgate.broker;

import io.deskgate.control.BrokerGrpc;
import io.deskgate.control.EndSessionReply;
import io.deskgate.control.EndSessionRequest;
import io.deskgate.control.FindDesktopReply;
import io.deskgate.control.FindDesktopRequest;
import io.deskgate.control.ListDesktopsReply;
import io.deskgate.control.ReleaseUserReply;
import io.deskgate.control.ReleaseUserRequest;
import io.deskgate.control.ListDesktopsRequest;
import io.deskgate.control.SessionStartedReply;
import io.deskgate.control.SessionStartedRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC {@code Broker} service over a {@link BrokerCalls}: the direct {@link Broker} or the sharded
 * {@link SessionBroker} (whose ListDesktops answers what one concentrator set holds for the asker, each entry
 * whole). The direct broker's errors: unknown desktop or agent NOT_FOUND,
 * desktop held by another user PERMISSION_DENIED, the user already holding the most desktops allowed
 * ({@link BrokerConfig#maxDesktopsPerUser}) ALREADY_EXISTS with a message naming the limit, the agent's refusals
 * as they are, nothing free RESOURCE_EXHAUSTED, owning agent not answering UNAVAILABLE. Called on gRPC's executor (virtual threads;
 * the sharded broker's FindDesktop, which never blocks, on the transport's event loop); thread-safe.
 */
public final class BrokerService extends BrokerGrpc.BrokerImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerService.class);
    private final BrokerCalls broker;

    BrokerService(BrokerCalls broker) {
        this.broker = broker;
    }

    @Override
    public void listDesktops(ListDesktopsRequest request, StreamObserver<ListDesktopsReply> reply) {
        answer(reply, () -> broker.listDesktops(request));
    }

    @Override
    public void findDesktop(FindDesktopRequest request, StreamObserver<FindDesktopReply> reply) {
        broker.findDesktop(request, reply);
    }

    @Override
    public void sessionStarted(SessionStartedRequest request, StreamObserver<SessionStartedReply> reply) {
        answer(reply, () -> {
            broker.sessionStarted(request);
            return SessionStartedReply.getDefaultInstance();
        });
    }

    @Override
    public void endSession(EndSessionRequest request, StreamObserver<EndSessionReply> reply) {
        answer(reply, () -> {
            broker.endSession(request);
            return EndSessionReply.getDefaultInstance();
        });
    }

    @Override
    public void releaseUser(ReleaseUserRequest request, StreamObserver<ReleaseUserReply> reply) {
        answer(reply, () -> broker.releaseUser(request));
    }

    static <T> void answer(StreamObserver<T> reply, Supplier<T> call) {
        T value;
        try {
            value = call.get();
        } catch (StatusRuntimeException e) {
            reply.onError(e.getStatus().asRuntimeException());
            return;
        } catch (RuntimeException e) {
            LOG.error("broker call failed", e);
            reply.onError(Status.INTERNAL.withDescription("broker error").asRuntimeException());
            return;
        }
        reply.onNext(value);
        reply.onCompleted();
    }
}
