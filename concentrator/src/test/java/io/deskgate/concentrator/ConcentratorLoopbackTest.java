package io.deskgate.concentrator;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.Secrets;
import io.deskgate.control.AgentHello;
import io.deskgate.control.AgentReport;
import io.deskgate.control.ConcentratorGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.ControlChannels;
import io.deskgate.control.DesktopState;
import io.deskgate.control.DesktopStatus;
import io.deskgate.control.FindAvailableReply;
import io.deskgate.control.FindAvailableRequest;
import io.deskgate.control.InitiateSessionRequest;
import io.deskgate.control.ReportAck;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Concentrator service over loopback gRPC (docs/protocol.md, "The control plane"; issue 8, "Bad
 * input"): report streams written by hand, so that every kind of bad report can be sent.
 */
class ConcentratorLoopbackTest {
    private static final byte[] SECRET = Secrets.randomBytes(32);
    private static final Duration WAIT = Duration.ofSeconds(30);
    private Concentrator concentrator;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        concentrator = Concentrator.start(ConcentratorConfig.builder().id("c-1").set("a")
                .agentTimeout(Duration.ofSeconds(30)).controlSecret(SECRET).build());
        channel = ControlChannels.open("127.0.0.1:" + concentrator.grpcPort(), new ControlAuth(SECRET));
    }

    @AfterEach
    void stop() {
        ControlChannels.close(channel, Duration.ofSeconds(2));
        concentrator.close();
    }

    /** A hand-written report stream: what the concentrator acked, and how the stream ended. */
    private final class Stream {
        final LinkedBlockingQueue<ReportAck> acks = new LinkedBlockingQueue<>();
        final CompletableFuture<Status> end = new CompletableFuture<>();
        final StreamObserver<AgentReport> out = ConcentratorGrpc.newStub(channel).report(new StreamObserver<>() {
            @Override
            public void onNext(ReportAck ack) {
                acks.add(ack);
            }

            @Override
            public void onError(Throwable t) {
                end.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                end.complete(Status.OK);
            }
        });

        ReportAck ack() throws InterruptedException {
            ReportAck a = acks.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(a).as("an ack").isNotNull();
            return a;
        }

        Status ended() throws Exception {
            return end.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    private static DesktopStatus desktop(String id, DesktopState state, long version) {
        return DesktopStatus.newBuilder().setDesktopId(id).setState(state).setTenant(1).setPool("default").setVersion(version)
                .build();
    }

    private static AgentReport hello(String agentId, DesktopStatus... desktops) {
        return AgentReport.newBuilder().setHello(AgentHello.newBuilder().setAgentId(agentId).setAgentTarget("127.0.0.1:1"))
                .setFull(true).addAllDesktops(List.of(desktops)).build();
    }

    private FindAvailableReply find() {
        return ConcentratorGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .findAvailable(FindAvailableRequest.newBuilder().setTenant(1).setPool("default").setLimit(10).build());
    }

    private Stream honestAgent() throws InterruptedException {
        Stream s = new Stream();
        s.out.onNext(hello("agent-1", desktop("agent-1/1", DesktopState.AVAILABLE, 2),
                desktop("agent-1/2", DesktopState.AVAILABLE, 2)));
        assertThat(s.ack().getDesktops()).isEqualTo(2);
        return s;
    }

    @Test
    void shouldHoldAReportedSnapshotAndItsDeltasAndAnswerFindAvailable() throws Exception {
        Stream s = honestAgent();
        assertThat(concentrator.load()).isEqualTo(2);
        s.out.onNext(AgentReport.newBuilder().addDesktops(desktop("agent-1/1", DesktopState.ASSIGNED, 3).toBuilder()
                .setUser("alice")).build());
        s.out.onNext(AgentReport.getDefaultInstance());
        s.ack(); // the heartbeat's: the stream is ordered, so the delta before it is applied
        assertThat(find().getDesktopsList()).extracting(DesktopStatus::getDesktopId).containsExactly("agent-1/2");
        assertThat(find().getConcentratorId()).isEqualTo("c-1");
        s.out.onCompleted();
        assertThat(s.ended().isOk()).isTrue();
        assertThat(s.acks).as("a delta carrying desktops is not acked, only snapshots and heartbeats").isEmpty();
        assertThat(find().getDesktopsList()).as("an agent whose stream ended is forgotten").isEmpty();
    }

    @Test
    void shouldEndTheStreamOfAnAgentReportingAnotherAgentsDesktopAndKeepServingTheOthers() throws Exception {
        Stream honest = honestAgent();
        Stream evil = new Stream();
        evil.out.onNext(hello("evil", desktop("agent-1/1", DesktopState.AVAILABLE, 9)));
        Status s = evil.ended();
        assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(s.getDescription()).contains("NOT_ITS_DESKTOP");
        assertThat(concentrator.rejected(DesktopDirectory.Rejection.NOT_ITS_DESKTOP)).isEqualTo(1);
        honest.out.onNext(AgentReport.getDefaultInstance());
        assertThat(honest.ack().getDesktops()).as("the honest agent's heartbeat is still acked").isEqualTo(2);
        assertThat(find().getDesktopsList()).extracting(DesktopStatus::getVersion).containsOnly(2L);
    }

    @Test
    void shouldRefuseASecondLiveStreamForOneAgentId() throws Exception {
        Stream honest = honestAgent();
        Stream twin = new Stream();
        twin.out.onNext(hello("agent-1"));
        assertThat(twin.ended().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
        honest.out.onNext(AgentReport.getDefaultInstance());
        assertThat(honest.ack().getDesktops()).isEqualTo(2);
        assertThat(find().getDesktopsCount()).isEqualTo(2);
    }

    @Test
    void shouldEndTheStreamOnAStepTheTransitionTableForbids() throws Exception {
        Stream s = honestAgent();
        s.out.onNext(AgentReport.newBuilder().addDesktops(desktop("agent-1/1", DesktopState.IN_USE, 3).toBuilder()
                .setUser("alice")).build());
        Status end = s.ended();
        assertThat(end.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(end.getDescription()).contains("TRANSITION_NOT_ALLOWED");
        assertThat(find().getDesktopsList()).as("the agent is forgotten; it re-homes with a snapshot").isEmpty();
    }

    @Test
    void shouldRefuseAStreamThatDoesNotBeginWithHelloOrNamesABadTarget() throws Exception {
        Stream noHello = new Stream();
        noHello.out.onNext(AgentReport.newBuilder().setFull(true).addDesktops(desktop("x/1", DesktopState.AVAILABLE, 1)).build());
        assertThat(noHello.ended().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        Stream badTarget = new Stream();
        badTarget.out.onNext(AgentReport.newBuilder().setHello(AgentHello.newBuilder().setAgentId("x").setAgentTarget("nowhere"))
                .build());
        assertThat(badTarget.ended().getDescription()).contains("host:port");
        // Issue 9: a plaintext concentrator calls agents on loopback only (it would send its bearer token in the clear).
        Stream remote = new Stream();
        remote.out.onNext(AgentReport.newBuilder().setHello(AgentHello.newBuilder().setAgentId("r").setAgentTarget("10.0.0.5:7000"))
                .build());
        assertThat(remote.ended().getDescription()).contains("agent target 10.0.0.5 is not loopback");
        assertThat(concentrator.agents()).isZero();
    }

    @Test
    void shouldAnswerNotFoundForADesktopWhoseAgentDoesNotReportHereAndUnavailableWhenItsAgentDoesNotAnswer() throws Exception {
        honestAgent(); // its target, 127.0.0.1:1, has nothing listening
        var stub = ConcentratorGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        StatusRuntimeException notHere = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> stub.initiateSession(InitiateSessionRequest.newBuilder().setDesktopId("agent-2/1").setSessionId("s")
                        .setUser("u").setTenant(1).build()));
        assertThat(notHere.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
        StatusRuntimeException down = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> stub.initiateSession(InitiateSessionRequest.newBuilder().setDesktopId("agent-1/1").setSessionId("s")
                        .setUser("u").setTenant(1).setExpectedVersion(2).build()));
        assertThat(down.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(down.getStatus().getDescription()).contains("agent agent-1 did not answer");
    }

    @Test
    void shouldRefuseABadFindAvailable() {
        StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> ConcentratorGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .findAvailable(FindAvailableRequest.newBuilder().setTenant(0).setPool("default").build()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void shouldRefuseAScopeNamingAnInvalidName() {
        StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> ConcentratorGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .findAvailable(FindAvailableRequest.newBuilder().setTenant(1).setPool("gpu")
                                .setScope(io.deskgate.control.PoolScope.newBuilder().addLabels("no such label!")).build()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e.getStatus().getDescription()).isEqualTo("a scope's label is not a valid name");
    }

    @Test
    void shouldRefuseACoalescedFindAvailableThatNamesADesktop() {
        StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> ConcentratorGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .findAvailable(FindAvailableRequest.newBuilder().setTenant(1).setPool("default").setUser("ann")
                                .addUsers("bob").setDesktopId("a/1").build()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e.getStatus().getDescription()).isEqualTo("a FindAvailable naming users has no desktop_id, details or held");
    }
}
