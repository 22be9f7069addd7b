package io.deskgate.broker;

import io.deskgate.control.EndSessionRequest;
import io.deskgate.control.FindDesktopReply;
import io.deskgate.control.FindDesktopRequest;
import io.deskgate.control.ListDesktopsReply;
import io.deskgate.control.ReleaseUserReply;
import io.deskgate.control.ReleaseUserRequest;
import io.deskgate.control.ListDesktopsRequest;
import io.deskgate.control.SessionStartedRequest;

/**
 * What the gRPC {@code Broker} service ({@link BrokerService}) asks of a broker: the direct {@link Broker} and the
 * sharded {@link SessionBroker} answer the same calls. A refusal is a {@link io.grpc.StatusRuntimeException},
 * passed to the caller as it is.
 */
interface BrokerCalls {
    ListDesktopsReply listDesktops(ListDesktopsRequest request);

    FindDesktopReply findDesktop(FindDesktopRequest request);

    /**
     * FindDesktop answered through {@code reply} (once; a refusal as its status): by default
     * {@link #findDesktop(FindDesktopRequest)} on the calling thread. A broker that places without a thread
     * waiting ({@link SessionBroker}) answers later from another thread.
     */
    default void findDesktop(FindDesktopRequest request, io.grpc.stub.StreamObserver<FindDesktopReply> reply) {
        BrokerService.answer(reply, () -> findDesktop(request));
    }

    void sessionStarted(SessionStartedRequest request);

    void endSession(EndSessionRequest request);

    ReleaseUserReply releaseUser(ReleaseUserRequest request);
}
