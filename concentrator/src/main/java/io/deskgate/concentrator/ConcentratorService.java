package io.deskgate.concentrator;

import io.deskgate.concentrator.Concentrator.AgentStream;
import io.deskgate.concentrator.Concentrator.Verdict;
import io.deskgate.control.AgentGrpc;
import io.deskgate.control.AgentHello;
import io.deskgate.control.AgentReport;
import io.deskgate.control.ConcentratorAnswer;
import io.deskgate.control.ConcentratorCall;
import io.deskgate.control.ConcentratorGrpc;
import io.deskgate.control.ControlChannels;
import io.deskgate.control.DesktopStatus;
import io.deskgate.control.EndSessionReply;
import io.deskgate.control.EndSessionRequest;
import io.deskgate.control.FindAvailableReply;
import io.deskgate.control.FindAvailableRequest;
import io.deskgate.control.InitiateSessionReply;
import io.deskgate.control.InitiateSessionRequest;
import io.deskgate.control.ReleaseUserReply;
import io.deskgate.control.ReleaseUserRequest;
import io.deskgate.control.ReportAck;
import io.deskgate.control.SessionStartedReply;
import io.deskgate.control.SessionStartedRequest;
import io.deskgate.control.UserHeld;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * The gRPC {@code Concentrator} service (control.proto; docs/protocol.md, "The control plane") over a
 * {@link Concentrator}: the agents' report streams, FindAvailable, and the session calls forwarded to the
 * owning agent's {@code Agent} service. Called on gRPC's executor threads; thread-safe. Input refused here
 * (a stream without hello, a bad target, a bad FindAvailable) ends that call with a clear status and one
 * rate-limited line, never a stack trace; the directory logs what it refuses itself.
 */
final class ConcentratorService extends ConcentratorGrpc.ConcentratorImplBase {
    /** The most users one coalesced FindAvailable names (a broker's batch is its requests in flight). */
    static final int MAX_BATCH_USERS = 256;

    private final Concentrator concentrator;
    private final AtomicLong connections = new AtomicLong();

    ConcentratorService(Concentrator concentrator) {
        this.concentrator = concentrator;
    }

    @Override
    public StreamObserver<AgentReport> report(StreamObserver<ReportAck> acks) {
        ReportStream stream = new ReportStream(connections.incrementAndGet(), (ServerCallStreamObserver<ReportAck>) acks);
        stream.out.setOnCancelHandler(stream::gone);
        return stream;
    }

    @Override
    public void findAvailable(FindAvailableRequest request, StreamObserver<FindAvailableReply> reply) {
        String invalid = request.getTenant() < 1 ? "tenant must be positive"
                : request.getPool().isEmpty() || request.getPool().length() > DesktopDirectory.MAX_NAME_CHARS
                ? "pool must be 1 to " + DesktopDirectory.MAX_NAME_CHARS + " characters"
                : request.getUser().length() > DesktopDirectory.MAX_NAME_CHARS
                ? "user must be at most " + DesktopDirectory.MAX_NAME_CHARS + " characters"
                : request.getLimit() < 0 ? "limit must not be negative"
                : request.getUsersCount() > MAX_BATCH_USERS ? "at most " + MAX_BATCH_USERS + " users in one FindAvailable"
                : request.getUsersList().stream().anyMatch(u -> u.length() > DesktopDirectory.MAX_NAME_CHARS)
                ? "users must be at most " + DesktopDirectory.MAX_NAME_CHARS + " characters" : "";
        if (!invalid.isEmpty()) {
            concentrator.refusals().warn("bad-find", "refused FindAvailable: {}", invalid);
            concentrator.metrics().refused();
            reply.onError(Status.INVALID_ARGUMENT.withDescription(invalid).asRuntimeException());
            return;
        }
        Optional<DesktopDirectory.Scope> scope = request.hasScope()
                ? Optional.of(new DesktopDirectory.Scope(java.util.Set.copyOf(request.getScope().getAgentsList()),
                java.util.Set.copyOf(request.getScope().getLabelsList())))
                : Optional.empty();
        String badScope = scope.map(DesktopDirectory.Scope::invalid).orElse("");
        if (!badScope.isEmpty() || request.getDesktopId().length() > DesktopDirectory.MAX_NAME_CHARS) {
            String why = badScope.isEmpty() ? "desktop_id must be at most " + DesktopDirectory.MAX_NAME_CHARS + " characters" : badScope;
            concentrator.refusals().warn("bad-find", "refused FindAvailable: {}", why);
            concentrator.metrics().refused();
            reply.onError(Status.INVALID_ARGUMENT.withDescription(why).asRuntimeException());
            return;
        }
        int limit = request.getLimit() == 0 ? Integer.MAX_VALUE : request.getLimit();
        if (request.getUsersCount() > 0) {
            if (!request.getDesktopId().isEmpty() || request.getDetails() || request.getHeld()) {
                String why = "a FindAvailable naming users has no desktop_id, details or held";
                concentrator.refusals().warn("bad-find", "refused FindAvailable: {}", why);
            concentrator.metrics().refused();
                reply.onError(Status.INVALID_ARGUMENT.withDescription(why).asRuntimeException());
                return;
            }
            List<String> users = new ArrayList<>(request.getUsersCount() + 1);
            users.add(request.getUser());
            users.addAll(request.getUsersList());
            DesktopDirectory.FoundBatch batch = concentrator.findBatch(request.getTenant(), request.getPool(), scope, users, limit);
            FindAvailableReply.Builder out = FindAvailableReply.newBuilder().setConcentratorId(concentrator.id())
                    .setHeld(batch.held().getFirst());
            for (int i = 1; i < users.size(); i++) {
                out.addUsersHeld(UserHeld.newBuilder().setUser(users.get(i)).setHeld(batch.held().get(i)));
            }
            for (DesktopView d : batch.desktops()) out.addDesktops(status(d, false));
            concentrator.metrics().served(true, pastDeadline());
            reply.onNext(out.build());
            reply.onCompleted();
            return;
        }
        DesktopDirectory.Found found = concentrator.find(new DesktopDirectory.Query(request.getTenant(), request.getPool(), scope,
                request.getUser(), request.getDesktopId(), limit, request.getHeld(), request.getDetails()));
        FindAvailableReply.Builder out = FindAvailableReply.newBuilder().setConcentratorId(concentrator.id())
                .setHeld(found.held());
        boolean details = request.getDetails() || request.getHeld();
        for (DesktopView d : found.desktops()) out.addDesktops(status(d, details));
        concentrator.metrics().served(false, pastDeadline());
        reply.onNext(out.build());
        reply.onCompleted();
    }

    /** Whether the current call's deadline (gRPC's context) has passed: its answer comes too late to be used. */
    private static boolean pastDeadline() {
        io.grpc.Deadline d = io.grpc.Context.current().getDeadline();
        return d != null && d.isExpired();
    }

    /** One desktop of an answer; with {@code details} its host, size and labels too. */
    private static DesktopStatus.Builder status(DesktopView d, boolean details) {
        DesktopStatus.Builder b = DesktopStatus.newBuilder().setDesktopId(d.desktopId()).setState(d.state())
                .setTenant(d.tenant()).setPool(d.pool()).setUser(d.user()).setVersion(d.version())
                .setSessionId(d.sessionId()).setPort(d.port());
        if (details) b.setHost(d.host()).setWidth(d.width()).setHeight(d.height()).addAllLabels(d.labels());
        return b;
    }

    @Override
    public void initiateSession(InitiateSessionRequest request, StreamObserver<InitiateSessionReply> reply) {
        initiate(request, Long.MAX_VALUE, reply);
    }

    /**
     * InitiateSession for the owning agent: down its report stream when its hello said {@code stream_calls}
     * (answered when it answers, or UNAVAILABLE at the agent call timeout or {@code timeoutNs}, whichever is
     * first, or when the stream ends), else forwarded to its Agent service as a unary call.
     */
    void initiate(InitiateSessionRequest request, long timeoutNs, StreamObserver<InitiateSessionReply> reply) {
        String desktopId = request.getDesktopId();
        int slash = desktopId.indexOf('/');
        String agentId = slash > 0 ? desktopId.substring(0, slash) : "";
        Optional<AgentStream> stream = agentId.isEmpty() ? Optional.empty() : concentrator.streamOf(agentId);
        if (stream.isPresent() && stream.get() instanceof ReportStream rs && rs.streamCalls) {
            rs.call(request, Math.min(timeoutNs, concentrator.config().agentCallTimeout().toNanos()), reply);
            return;
        }
        forward(desktopId, reply, (stub, relay) -> stub.initiateSession(request, relay));
    }

    @Override
    public StreamObserver<ConcentratorCall> calls(StreamObserver<ConcentratorAnswer> answers) {
        return new BrokerCallStream(concentrator, (ServerCallStreamObserver<ConcentratorAnswer>) answers, this::findAvailable,
                this::initiate);
    }

    @Override
    public void sessionStarted(SessionStartedRequest request, StreamObserver<SessionStartedReply> reply) {
        forward(request.getDesktopId(), reply, (stub, relay) -> stub.sessionStarted(request, relay));
    }

    @Override
    public void endSession(EndSessionRequest request, StreamObserver<EndSessionReply> reply) {
        forward(request.getDesktopId(), reply, (stub, relay) -> stub.endSession(request, relay));
    }

    /**
     * Forwards ReleaseUser to every agent reporting here with a desktop of the user, in parallel under the agent
     * call timeout; answers the sum of what they released. An agent that does not answer is skipped with one
     * rate-limited line (the broker asks every set, so it is asked again through another concentrator).
     */
    @Override
    public void releaseUser(ReleaseUserRequest request, StreamObserver<ReleaseUserReply> reply) {
        if (request.getTenant() < 1 || request.getUser().isEmpty() || request.getUser().length() > DesktopDirectory.MAX_NAME_CHARS) {
            concentrator.refusals().warn("bad-release", "refused ReleaseUser: no tenant or a bad user");
            reply.onError(Status.INVALID_ARGUMENT.withDescription("tenant and user are required").asRuntimeException());
            return;
        }
        // Asked in parallel and summed in the answers' callbacks: the handler runs on the transport's event loop
        // (the server's direct executor) and must not wait for the agents there.
        List<ManagedChannel> agentChannels = new ArrayList<>();
        for (String agentId : concentrator.agentsOf(request.getTenant(), request.getUser())) {
            if (!request.getAgentsList().isEmpty() && !request.getAgentsList().contains(agentId)) continue;
            concentrator.channelTo(agentId).ifPresent(agentChannels::add);
        }
        if (agentChannels.isEmpty()) {
            reply.onNext(ReleaseUserReply.newBuilder().setReleased(0).build());
            reply.onCompleted();
            return;
        }
        java.util.concurrent.atomic.AtomicInteger released = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger left = new java.util.concurrent.atomic.AtomicInteger(agentChannels.size());
        Runnable oneDone = () -> {
            if (left.decrementAndGet() != 0) return;
            reply.onNext(ReleaseUserReply.newBuilder().setReleased(released.get()).build());
            reply.onCompleted();
        };
        for (ManagedChannel ch : agentChannels) {
            AgentGrpc.newStub(ch).withDeadlineAfter(concentrator.config().agentCallTimeout().toMillis(), TimeUnit.MILLISECONDS)
                    .releaseUser(request, new StreamObserver<>() {
                        @Override
                        public void onNext(ReleaseUserReply value) {
                            released.addAndGet(value.getReleased());
                        }

                        @Override
                        public void onError(Throwable t) {
                            concentrator.refusals().warn("release-failed", "an agent did not release a user: {}",
                                    Status.fromThrowable(t).getCode());
                            oneDone.run();
                        }

                        @Override
                        public void onCompleted() {
                            oneDone.run();
                        }
                    });
        }
    }

    /**
     * Forwards a call on {@code desktopId} to its agent's Agent service, under the smaller of the caller's
     * deadline (propagated by gRPC's context) and the agent call timeout; relays the agent's answer, its
     * refusals as they are, and UNAVAILABLE when it does not answer.
     */
    private <A> void forward(String desktopId, StreamObserver<A> reply,
                             BiConsumer<AgentGrpc.AgentStub, StreamObserver<A>> call) {
        int slash = desktopId.indexOf('/');
        String agentId = slash > 0 ? desktopId.substring(0, slash) : "";
        Optional<ManagedChannel> channel = agentId.isEmpty() ? Optional.empty() : concentrator.channelTo(agentId);
        if (channel.isEmpty()) {
            reply.onError(Status.NOT_FOUND.withDescription("desktop " + shortened(desktopId) + ": its agent does not report to concentrator "
                    + concentrator.id()).asRuntimeException());
            return;
        }
        AgentGrpc.AgentStub stub = AgentGrpc.newStub(channel.get())
                .withDeadlineAfter(concentrator.config().agentCallTimeout().toMillis(), TimeUnit.MILLISECONDS);
        call.accept(stub, new StreamObserver<>() {
            @Override
            public void onNext(A value) {
                reply.onNext(value);
            }

            @Override
            public void onError(Throwable t) {
                Status s = Status.fromThrowable(t);
                reply.onError(switch (s.getCode()) {
                    case ABORTED, FAILED_PRECONDITION, NOT_FOUND, INVALID_ARGUMENT, ALREADY_EXISTS, PERMISSION_DENIED ->
                            s.asRuntimeException();
                    default -> Status.UNAVAILABLE.withDescription("agent " + agentId + " did not answer (" + s.getCode() + ")")
                            .asRuntimeException();
                });
            }

            @Override
            public void onCompleted() {
                reply.onCompleted();
            }
        });
    }

    private static String shortened(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }

    /** One agent's report stream: the first message says hello, every accepted report is acked. */
    private final class ReportStream implements StreamObserver<AgentReport>, AgentStream {
        final long connection;
        final ServerCallStreamObserver<ReportAck> out;
        /** Set by the hello, on the stream's inbound thread (gRPC calls onNext one at a time). */
        private volatile String agentId = "";
        private volatile String agentTarget = "";
        private volatile AgentInfo agentInfo = AgentInfo.NONE;
        /** The agent's hello said it takes session calls down this stream. */
        volatile boolean streamCalls;
        /** Session calls sent down this stream, by id, until answered, timed out or the stream ends. */
        private final java.util.Map<Long, AgentCallPending> calls = new java.util.concurrent.ConcurrentHashMap<>();
        private final AtomicLong callIds = new AtomicLong();
        /** Guarded by this: the stream was ended (by either side); nothing more is sent or applied. */
        private boolean done;

        ReportStream(long connection, ServerCallStreamObserver<ReportAck> out) {
            this.connection = connection;
            this.out = out;
        }

        @Override
        public long connection() {
            return connection;
        }

        @Override
        public String agentId() {
            return agentId;
        }

        @Override
        public String agentTarget() {
            return agentTarget;
        }

        @Override
        public AgentInfo agentInfo() {
            return agentInfo;
        }

        /**
         * Sends InitiateSession down the stream; {@code reply} gets the agent's answer, or UNAVAILABLE after
         * {@code timeoutNs} or when the stream ends. Any thread.
         */
        void call(InitiateSessionRequest request, long timeoutNs, StreamObserver<InitiateSessionReply> reply) {
            long id = callIds.incrementAndGet();
            AgentCallPending p = new AgentCallPending(request.getDesktopId(), reply);
            calls.put(id, p);
            try {
                p.timer = concentrator.timers().schedule(() -> failCall(id, Status.UNAVAILABLE.withDescription("agent " + agentId
                        + " did not answer (DEADLINE_EXCEEDED)")), timeoutNs, TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                failCall(id, Status.UNAVAILABLE.withDescription("the concentrator is closing"));
                return;
            }
            boolean sent = false;
            synchronized (this) {
                if (!done) {
                    try {
                        // report_in_answer: the agent's delta of this change comes with the answer (applied in onNext).
                        out.onNext(ReportAck.newBuilder().setCall(io.deskgate.control.AgentCall.newBuilder().setCallId(id)
                                .setInitiate(request).setReportInAnswer(true)).build());
                        sent = true;
                    } catch (IllegalStateException | StatusRuntimeException e) {
                        // Closed by the transport: failed below.
                    }
                }
            }
            if (!sent) failCall(id, Status.UNAVAILABLE.withDescription("agent " + agentId + " did not answer (its stream ended)"));
        }

        private void failCall(long id, Status s) {
            AgentCallPending p = calls.remove(id);
            if (p == null) return;
            if (p.timer != null) p.timer.cancel(false);
            p.reply.onError(s.asRuntimeException());
        }

        /** The stream ended: every call in flight fails at once. */
        private void failCalls() {
            for (Long id : List.copyOf(calls.keySet())) {
                failCall(id, Status.UNAVAILABLE.withDescription("agent " + agentId + " did not answer (its stream ended)"));
            }
        }

        /**
         * The agent's answer to a call: relayed, if it is one in flight and names the desktop asked for (else refused
         * with one line: an agent answers only for its own desktops, and only what was asked).
         */
        private void answered(io.deskgate.control.AgentAnswer a) {
            AgentCallPending p = calls.remove(a.getCallId());
            if (p == null) {
                concentrator.refusals().warn("late-agent-answer", "agent {} answered call {}, which is not in flight (after its deadline, "
                        + "or never sent): ignored", agentId, a.getCallId());
                return;
            }
            if (p.timer != null) p.timer.cancel(false);
            switch (a.getAnswerCase()) {
                case INITIATED -> {
                    String answeredFor = a.getInitiated().getDesktop().getDesktopId();
                    if (!answeredFor.equals(p.desktopId) || !answeredFor.startsWith(agentId + "/")) {
                        concentrator.refusals().warn("foreign-answer", "agent {} answered an initiation of {} for desktop {}: refused",
                                agentId, shortened(p.desktopId), shortened(answeredFor));
                        p.reply.onError(Status.UNAVAILABLE.withDescription("agent " + agentId + " answered for a desktop it was not asked for")
                                .asRuntimeException());
                        return;
                    }
                    p.reply.onNext(a.getInitiated());
                    p.reply.onCompleted();
                }
                case ERROR -> {
                    Status s = Status.fromCodeValue(a.getError().getCode()).withDescription(a.getError().getDescription());
                    p.reply.onError(switch (s.getCode()) {
                        case ABORTED, FAILED_PRECONDITION, NOT_FOUND, INVALID_ARGUMENT, ALREADY_EXISTS, PERMISSION_DENIED ->
                                s.asRuntimeException();
                        default -> Status.UNAVAILABLE.withDescription("agent " + agentId + " did not answer (" + s.getCode() + ")")
                                .asRuntimeException();
                    });
                }
                case ANSWER_NOT_SET -> {
                    concentrator.refusals().warn("bad-agent-answer", "agent {} answered call {} with nothing: refused", agentId,
                            a.getCallId());
                    p.reply.onError(Status.UNAVAILABLE.withDescription("agent " + agentId + " answered with nothing").asRuntimeException());
                }
            }
        }

        @Override
        public void onNext(AgentReport report) {
            synchronized (this) {
                if (done) return;
            }
            if (report.hasAnswer()) {
                if (agentId.isEmpty() || report.hasHello() || report.getFull()) {
                    refuse("bad-answer", "an answer must come after hello, with no snapshot");
                    return;
                }
                // The delta that came with it (the call said report_in_answer) is applied first, as a delta: the
                // desktop's new state is held before the broker hears of the initiation.
                if (report.getDesktopsCount() > 0 && !applied(report)) return;
                answered(report.getAnswer());
                return;
            }
            if (agentId.isEmpty()) {
                if (!report.hasHello()) {
                    refuse("no-hello", "a report stream must begin with hello");
                    return;
                }
                if (!hello(report.getHello())) return;
            } else if (report.hasHello()) {
                refuse("hello-twice", "agent " + agentId + " said hello twice on one stream");
                return;
            }
            Verdict v = apply(report);
            if (v.refusal().isPresent()) {
                end(v.refusal().get());
                return;
            }
            // Deltas that carry desktops are not acked: the agent's liveness check needs one ack per
            // heartbeat interval, and an ack per change cost as much as the change (docs/protocol.md).
            if (!report.getFull() && report.getDesktopsCount() > 0) return;
            synchronized (this) {
                if (done) return;
                out.onNext(ReportAck.newBuilder().setConcentratorId(concentrator.id()).setDesktops(v.desktops()).build());
            }
        }

        /** The report's desktops given to the directory (a snapshot when it says full, else a delta). */
        private Verdict apply(AgentReport report) {
            List<DesktopReport> desktops = new ArrayList<>(report.getDesktopsCount());
            for (DesktopStatus d : report.getDesktopsList()) {
                desktops.add(new DesktopReport(d.getDesktopId(), d.getState(), d.getTenant(), d.getPool(), d.getUser(),
                        d.getVersion(), d.getSessionId(), d.getPort()));
            }
            return concentrator.report(this, report.getFull(), desktops);
        }

        /** Whether the delta was accepted; otherwise the stream is ended (its calls in flight fail). */
        private boolean applied(AgentReport report) {
            Verdict v = apply(report);
            if (v.refusal().isEmpty()) return true;
            end(v.refusal().get());
            return false;
        }

        /** Whether the hello was accepted; otherwise the stream is ended. */
        private boolean hello(AgentHello hello) {
            try {
                ControlChannels.Target t = ControlChannels.Target.parse(hello.getAgentTarget());
                // Issue 9: without mutual TLS this concentrator calls agents on loopback only (its channels refuse
                // another target), so such an agent is refused here, at its hello, not at the first forwarded call.
                io.deskgate.control.ControlAddresses.requireTlsOffLoopback("agent target", t.host(), concentrator.mutualTls());
            } catch (IllegalArgumentException e) {
                refuse("bad-target", "agent " + shortened(hello.getAgentId()) + ": " + e.getMessage());
                return false;
            }
            agentInfo = new AgentInfo(hello.getLabelsList(), hello.getDesktopHost(), hello.getWidth(), hello.getHeight());
            streamCalls = hello.getStreamCalls();
            agentId = hello.getAgentId();
            agentTarget = hello.getAgentTarget();
            Optional<Status> refusal = concentrator.connect(this);
            if (refusal.isPresent()) {
                endOnly(refusal.get());
                return false;
            }
            return true;
        }

        private void refuse(String reason, String message) {
            concentrator.refusals().warn(reason, "refused a report stream: {}", message);
            end(Status.INVALID_ARGUMENT.withDescription(message));
        }

        @Override
        public void onError(Throwable t) {
            gone();
        }

        @Override
        public void onCompleted() {
            synchronized (this) {
                if (!done) out.onCompleted();
                done = true;
            }
            failCalls();
            concentrator.ended(this);
        }

        /** The agent went away (cancelled, reset, failed): the directory forgets it. */
        void gone() {
            synchronized (this) {
                done = true;
            }
            failCalls();
            if (!agentId.isEmpty()) concentrator.ended(this);
        }

        @Override
        public void end(Status status) {
            endOnly(status);
            if (!agentId.isEmpty()) concentrator.ended(this);
        }

        /** Ends the call without touching the directory (a refused hello was never connected there). */
        private void endOnly(Status status) {
            synchronized (this) {
                if (done) return;
                done = true;
                try {
                    out.onError(status.asRuntimeException());
                } catch (IllegalStateException | StatusRuntimeException e) {
                    // Already closed by the transport: nothing to tell.
                }
            }
            failCalls();
        }
    }

    /** A session call sent down an agent's report stream, waiting for its answer. */
    private static final class AgentCallPending {
        final String desktopId;
        final StreamObserver<InitiateSessionReply> reply;
        volatile java.util.concurrent.ScheduledFuture<?> timer;

        AgentCallPending(String desktopId, StreamObserver<InitiateSessionReply> reply) {
            this.desktopId = desktopId;
            this.reply = reply;
        }
    }
}
