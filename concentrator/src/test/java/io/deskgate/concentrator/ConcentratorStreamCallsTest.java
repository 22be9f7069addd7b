package io.deskgate.concentrator;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.Secrets;
import io.deskgate.control.AgentAnswer;
import io.deskgate.control.AgentHello;
import io.deskgate.control.AgentReport;
import io.deskgate.control.CallError;
import io.deskgate.control.ConcentratorAnswer;
import io.deskgate.control.ConcentratorCall;
import io.deskgate.control.ConcentratorGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.ControlChannels;
import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import io.deskgate.control.DesktopStatus;
import io.deskgate.control.FindAvailableRequest;
import io.deskgate.control.InitiateSessionReply;
import io.deskgate.control.InitiateSessionRequest;
import io.deskgate.control.ReportAck;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The concentrator's side of the calls streams (docs/protocol.md, "Calls streams" and "Session calls on the report
 * stream"): a broker's calls stream and an agent's report stream written by hand, so that every answer, good or
 * bad, can be sent.
 */
class ConcentratorStreamCallsTest {
    private static final byte[] SECRET = Secrets.randomBytes(32);
    private static final long WAIT_S = 30;
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

    /** An agent's report stream that says stream_calls: the calls it is sent, and how it ended. */
    private final class AgentStream {
        final LinkedBlockingQueue<ReportAck> acks = new LinkedBlockingQueue<>();
        final LinkedBlockingQueue<ReportAck> calls = new LinkedBlockingQueue<>();
        final CompletableFuture<Status> end = new CompletableFuture<>();
        final StreamObserver<AgentReport> out = ConcentratorGrpc.newStub(channel).report(new StreamObserver<>() {
            @Override
            public void onNext(ReportAck ack) {
                (ack.hasCall() ? calls : acks).add(ack);
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

        AgentStream(String agentId) throws InterruptedException {
            out.onNext(AgentReport.newBuilder().setHello(AgentHello.newBuilder().setAgentId(agentId).setAgentTarget("127.0.0.1:1")
                            .setStreamCalls(true))
                    .setFull(true).addDesktops(DesktopStatus.newBuilder().setDesktopId(agentId + "/1").setState(DesktopState.AVAILABLE)
                            .setTenant(1).setPool("default").setVersion(2)).build());
            assertThat(acks.poll(WAIT_S, TimeUnit.SECONDS)).as("the snapshot acked").isNotNull();
        }

        ReportAck call() throws InterruptedException {
            ReportAck c = calls.poll(WAIT_S, TimeUnit.SECONDS);
            assertThat(c).as("a call down the report stream").isNotNull();
            return c;
        }

        void answer(long callId, String desktopId) {
            out.onNext(AgentReport.newBuilder().setAnswer(AgentAnswer.newBuilder().setCallId(callId).setInitiated(
                    InitiateSessionReply.newBuilder().setVncPassword("pw").setDesktop(Desktop.newBuilder().setDesktopId(desktopId)
                            .setState(DesktopState.ASSIGNED)))).build());
        }
    }

    /** A broker's calls stream: the answers by id, and how it ended. */
    private final class BrokerStream {
        final LinkedBlockingQueue<ConcentratorAnswer> answers = new LinkedBlockingQueue<>();
        final CompletableFuture<Status> end = new CompletableFuture<>();
        final StreamObserver<ConcentratorCall> out = ConcentratorGrpc.newStub(channel).calls(new StreamObserver<>() {
            @Override
            public void onNext(ConcentratorAnswer a) {
                answers.add(a);
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

        ConcentratorAnswer answer() throws InterruptedException {
            ConcentratorAnswer a = answers.poll(WAIT_S, TimeUnit.SECONDS);
            assertThat(a).as("an answer on the calls stream").isNotNull();
            return a;
        }
    }

    private static InitiateSessionRequest initiate(String desktopId) {
        return InitiateSessionRequest.newBuilder().setDesktopId(desktopId).setSessionId("s-1").setUser("u").setTenant(1)
                .setExpectedVersion(2).build();
    }

    private static FindAvailableRequest find() {
        return FindAvailableRequest.newBuilder().setTenant(1).setPool("default").setLimit(10).build();
    }

    @Test
    void shouldAnswerEachCallOfTheStreamByItsId() throws Exception {
        new AgentStream("agent-1");
        BrokerStream b = new BrokerStream();
        b.out.onNext(ConcentratorCall.newBuilder().setCallId(7).setTimeoutMs(10_000).setFind(find()).build());
        b.out.onNext(ConcentratorCall.newBuilder().setCallId(8).setTimeoutMs(10_000)
                .setFind(find().toBuilder().setTenant(0)).build()); // refused: tenant 0

        ConcentratorAnswer first = b.answer();
        ConcentratorAnswer second = b.answer();
        assertThat(first.getCallId()).isEqualTo(7);
        assertThat(first.getFound().getDesktopsList()).extracting(DesktopStatus::getDesktopId).containsExactly("agent-1/1");
        assertThat(second.getCallId()).isEqualTo(8);
        assertThat(second.getError().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
        assertThat(b.end).as("a refused call leaves the stream open").isNotDone();
    }

    @Test
    void shouldEndACallsStreamThatSendsAMalformedCall() throws Exception {
        BrokerStream b = new BrokerStream();
        b.out.onNext(ConcentratorCall.newBuilder().setFind(find()).build()); // no call_id

        assertThat(b.end.get(WAIT_S, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(b.answers).isEmpty();
    }

    @Test
    void shouldEndACallsStreamThatReusesAnIdInFlight() throws Exception {
        AgentStream agent = new AgentStream("agent-1");
        BrokerStream b = new BrokerStream();
        b.out.onNext(ConcentratorCall.newBuilder().setCallId(1).setTimeoutMs(10_000).setInitiate(initiate("agent-1/1")).build());
        agent.call(); // in flight at the agent
        b.out.onNext(ConcentratorCall.newBuilder().setCallId(1).setTimeoutMs(10_000).setFind(find()).build());

        assertThat(b.end.get(WAIT_S, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void shouldSendTheInitiationDownTheAgentsReportStreamAndRelayItsAnswer() throws Exception {
        AgentStream agent = new AgentStream("agent-1");
        BrokerStream b = new BrokerStream();
        b.out.onNext(ConcentratorCall.newBuilder().setCallId(3).setTimeoutMs(10_000).setInitiate(initiate("agent-1/1")).build());

        ReportAck call = agent.call();
        assertThat(call.getCall().getInitiate().getExpectedVersion()).as("forwarded unchanged").isEqualTo(2);
        agent.answer(call.getCall().getCallId(), "agent-1/1");

        ConcentratorAnswer a = b.answer();
        assertThat(a.getCallId()).isEqualTo(3);
        assertThat(a.getInitiated().getDesktop().getDesktopId()).isEqualTo("agent-1/1");
        assertThat(a.getInitiated().getVncPassword()).isEqualTo("pw");
    }

    @Test
    void shouldApplyTheDeltaThatComesWithAnAnswerBeforeRelayingIt() throws Exception {
        AgentStream agent = new AgentStream("agent-1");
        BrokerStream b = new BrokerStream();
        b.out.onNext(ConcentratorCall.newBuilder().setCallId(3).setTimeoutMs(10_000).setInitiate(initiate("agent-1/1")).build());
        ReportAck call = agent.call();
        assertThat(call.getCall().getReportInAnswer()).as("the concentrator takes the delta with the answer").isTrue();
        agent.out.onNext(AgentReport.newBuilder().setAnswer(AgentAnswer.newBuilder().setCallId(call.getCall().getCallId())
                        .setInitiated(InitiateSessionReply.newBuilder().setVncPassword("pw").setDesktop(Desktop.newBuilder()
                                .setDesktopId("agent-1/1").setState(DesktopState.ASSIGNED))))
                .addDesktops(DesktopStatus.newBuilder().setDesktopId("agent-1/1").setState(DesktopState.ASSIGNED).setTenant(1)
                        .setPool("default").setUser("u").setSessionId("s-1").setVersion(3))
                .build());

        assertThat(b.answer().getInitiated().getVncPassword()).isEqualTo("pw");
        b.out.onNext(ConcentratorCall.newBuilder().setCallId(4).setTimeoutMs(10_000).setFind(find()).build());
        assertThat(b.answer().getFound().getDesktopsList()).as("held as ASSIGNED once the answer is relayed: no longer free").isEmpty();
        b.out.onNext(ConcentratorCall.newBuilder().setCallId(5).setTimeoutMs(10_000).setFind(find().toBuilder().setUser("u")).build());
        assertThat(b.answer().getFound().getDesktopsList()).extracting(DesktopStatus::getState, DesktopStatus::getVersion)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(DesktopState.ASSIGNED, 3L));
        assertThat(agent.end).isNotDone();
    }

    @Test
    void shouldEndTheStreamOfAnAnswerWhoseDeltaIsRefusedAndFailTheCall() throws Exception {
        AgentStream agent = new AgentStream("agent-1");
        BrokerStream b = new BrokerStream();
        b.out.onNext(ConcentratorCall.newBuilder().setCallId(3).setTimeoutMs(600_000).setInitiate(initiate("agent-1/1")).build());
        long id = agent.call().getCall().getCallId();
        agent.out.onNext(AgentReport.newBuilder().setAnswer(AgentAnswer.newBuilder().setCallId(id)
                        .setInitiated(InitiateSessionReply.newBuilder().setDesktop(Desktop.newBuilder().setDesktopId("agent-1/1"))))
                .addDesktops(DesktopStatus.newBuilder().setDesktopId("agent-2/1").setState(DesktopState.ASSIGNED).setTenant(1)
                        .setPool("default").setUser("u").setVersion(3))
                .build());

        assertThat(agent.end.get(WAIT_S, TimeUnit.SECONDS).getCode()).as("a desktop it does not own").isEqualTo(Status.Code.INVALID_ARGUMENT);
        ConcentratorAnswer a = b.answer();
        assertThat(a.hasInitiated()).as("never relayed").isFalse();
        assertThat(a.getError().getCode()).isEqualTo(Status.Code.UNAVAILABLE.value());
    }

    @Test
    void shouldRelayALostCompareAndSetAsAborted() throws Exception {
        AgentStream agent = new AgentStream("agent-1");
        BrokerStream b = new BrokerStream();
        b.out.onNext(ConcentratorCall.newBuilder().setCallId(3).setTimeoutMs(10_000).setInitiate(initiate("agent-1/1")).build());
        long id = agent.call().getCall().getCallId();
        agent.out.onNext(AgentReport.newBuilder().setAnswer(AgentAnswer.newBuilder().setCallId(id)
                .setError(CallError.newBuilder().setCode(Status.Code.ABORTED.value()).setDescription("version 3, not 2"))).build());

        assertThat(b.answer().getError().getCode()).isEqualTo(Status.Code.ABORTED.value());
    }

    @Test
    void shouldRefuseAnAgentAnsweringForADesktopItDoesNotOwn() throws Exception {
        AgentStream agent = new AgentStream("agent-1");
        new AgentStream("agent-2");
        BrokerStream b = new BrokerStream();
        b.out.onNext(ConcentratorCall.newBuilder().setCallId(4).setTimeoutMs(10_000).setInitiate(initiate("agent-1/1")).build());
        agent.answer(agent.call().getCall().getCallId(), "agent-2/1");

        ConcentratorAnswer a = b.answer();
        assertThat(a.hasInitiated()).as("never relayed as an initiation").isFalse();
        assertThat(a.getError().getCode()).isEqualTo(Status.Code.UNAVAILABLE.value());
        assertThat(a.getError().getDescription()).contains("agent-1", "not asked for");
    }

    @Test
    void shouldIgnoreAnAgentAnswerToNoCallInFlight() throws Exception {
        AgentStream agent = new AgentStream("agent-1");
        agent.answer(99, "agent-1/1");
        // The stream stays open and the agent's desktops held: a heartbeat is still acked.
        agent.out.onNext(AgentReport.getDefaultInstance());

        assertThat(agent.acks.poll(WAIT_S, TimeUnit.SECONDS)).as("the heartbeat acked").isNotNull();
        assertThat(agent.end).isNotDone();
        assertThat(concentrator.load()).isEqualTo(1);
    }

    @Test
    void shouldFailAnInitiationInFlightAtOnceWhenTheAgentsStreamEnds() throws Exception {
        AgentStream agent = new AgentStream("agent-1");
        BrokerStream b = new BrokerStream();
        b.out.onNext(ConcentratorCall.newBuilder().setCallId(5).setTimeoutMs(600_000).setInitiate(initiate("agent-1/1")).build());
        agent.call();
        agent.out.onError(Status.CANCELLED.asRuntimeException());

        ConcentratorAnswer a = b.answer();
        assertThat(a.getCallId()).isEqualTo(5);
        assertThat(a.getError().getCode()).isEqualTo(Status.Code.UNAVAILABLE.value());
        assertThat(a.getError().getDescription()).as("failed by the stream's end, not the agent call timeout")
                .contains("stream ended");
    }
}
