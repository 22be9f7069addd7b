package io.deskgate.agent;

import io.deskgate.agent.DesktopLifecycle.Accepted;
import io.deskgate.agent.DesktopLifecycle.Rejected;
import io.deskgate.control.AgentGrpc;
import io.deskgate.control.EndSessionReply;
import io.deskgate.control.ReleaseUserReply;
import io.deskgate.control.ReleaseUserRequest;
import io.deskgate.control.EndSessionRequest;
import io.deskgate.control.InitiateSessionReply;
import io.deskgate.control.InitiateSessionRequest;
import io.deskgate.control.ListDesktopsReply;
import io.deskgate.control.ListDesktopsRequest;
import io.deskgate.control.SessionStartedReply;
import io.deskgate.control.SessionStartedRequest;
import java.util.List;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The gRPC {@code Agent} service: maps requests onto the agent's loop and its outcomes onto gRPC
 * status codes (unknown desktop: NOT_FOUND; desktop in the wrong state or held by someone else:
 * FAILED_PRECONDITION; a lost compare-and-set (the desktop changed since the broker saw it): ABORTED,
 * retryable with another desktop; missing fields: INVALID_ARGUMENT; agent closing: UNAVAILABLE). Called on gRPC's
 * executor threads; thread-safe.
 */
public final class AgentService extends AgentGrpc.AgentImplBase {
    private final Agent agent;

    AgentService(Agent agent) {
        this.agent = agent;
    }

    @Override
    public void listDesktops(ListDesktopsRequest request, StreamObserver<ListDesktopsReply> reply) {
        List<String> labels = agent.labels();
        ListDesktopsReply.Builder out = ListDesktopsReply.newBuilder();
        for (var d : agent.desktops()) out.addDesktops(labels.isEmpty() ? d : d.toBuilder().addAllLabels(labels).build());
        reply.onNext(out.build());
        reply.onCompleted();
    }

    @Override
    public void initiateSession(InitiateSessionRequest request, StreamObserver<InitiateSessionReply> reply) {
        answer(reply, agent.metrics()::initiated, () -> agent.initiateSession(request.getDesktopId(), request.getExpectedVersion(), request.getSessionId(),
                        request.getTenant(),
                        request.getUser(), request.getDedicate()),
                r -> InitiateSessionReply.newBuilder().setDesktop(((Accepted) r.outcome()).desktop())
                        .setVncPassword(r.vncPassword()).build());
    }

    @Override
    public void sessionStarted(SessionStartedRequest request, StreamObserver<SessionStartedReply> reply) {
        answer(reply, () -> agent.sessionStarted(request.getDesktopId(), request.getSessionId()),
                r -> SessionStartedReply.getDefaultInstance());
    }

    @Override
    public void endSession(EndSessionRequest request, StreamObserver<EndSessionReply> reply) {
        answer(reply, () -> agent.endSession(request.getDesktopId(), request.getSessionId(), request.getKeep()),
                r -> EndSessionReply.getDefaultInstance());
    }

    @Override
    public void releaseUser(ReleaseUserRequest request, StreamObserver<ReleaseUserReply> reply) {
        if (request.getTenant() < 1 || request.getUser().isEmpty()) {
            reply.onError(Status.INVALID_ARGUMENT.withDescription("tenant and user are required").asRuntimeException());
            return;
        }
        if (!request.getAgentsList().isEmpty() && !request.getAgentsList().contains(agent.agentId())) {
            reply.onNext(ReleaseUserReply.getDefaultInstance()); // not one of the agents named: nothing here
            reply.onCompleted();
            return;
        }
        int released;
        try {
            released = agent.releaseUser(request.getTenant(), request.getUser());
        } catch (IllegalStateException e) {
            reply.onError(Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        reply.onNext(ReleaseUserReply.newBuilder().setReleased(released).build());
        reply.onCompleted();
    }

    private static <T> void answer(StreamObserver<T> reply, Supplier<Agent.Reply> call,
                                   Function<Agent.Reply, T> onAccepted) {
        answer(reply, outcome -> {}, call, onAccepted);
    }

    /** As above, telling {@code outcome} how it ended ({@code accepted}, {@code unavailable} or the lifecycle's rejection). */
    private static <T> void answer(StreamObserver<T> reply, java.util.function.Consumer<String> outcome, Supplier<Agent.Reply> call,
                                   Function<Agent.Reply, T> onAccepted) {
        Agent.Reply r;
        try {
            r = call.get();
        } catch (IllegalStateException e) {
            outcome.accept("unavailable");
            reply.onError(Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        outcome.accept(r.outcome() instanceof Rejected(DesktopLifecycle.Rejection rejection, String m) ? rejection.name() : "accepted");
        switch (r.outcome()) {
            case Accepted a -> {
                reply.onNext(onAccepted.apply(r));
                reply.onCompleted();
            }
            case Rejected(DesktopLifecycle.Rejection rejection, String message) -> {
                Status status = switch (rejection) {
                    case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
                    case NOT_FOUND -> Status.NOT_FOUND;
                    case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
                    case ABORTED -> Status.ABORTED;
                };
                reply.onError(status.withDescription(message).asRuntimeException());
            }
        }
    }
}
