package io.deskgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.Secrets;
import io.deskgate.control.AgentAnswer;
import io.deskgate.control.AgentCall;
import io.deskgate.control.AgentReport;
import io.deskgate.control.ConcentratorGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.DesktopState;
import io.deskgate.control.InitiateSessionRequest;
import io.deskgate.control.ReportAck;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An agent's side of the session calls on its report stream (docs/protocol.md, "Session calls on the report
 * stream"): {@link ConcentratorLinks} started with a {@link SimulatedAgent}'s InitiateSession (the real
 * {@code DesktopLifecycle} and its compare-and-set), reporting to a concentrator the test scripts over loopback.
 */
class ConcentratorLinksCallsTest {
    private static final byte[] SECRET = Secrets.randomBytes(32);
    private static final long WAIT_S = 30;

    private final LinkedBlockingQueue<AgentReport> received = new LinkedBlockingQueue<>();
    private volatile StreamObserver<ReportAck> down;
    private Server server;
    private SimulatedAgent agent;
    private ConcentratorLinks links;

    @BeforeEach
    void start() throws Exception {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new ConcentratorGrpc.ConcentratorImplBase() {
                    @Override
                    public StreamObserver<AgentReport> report(StreamObserver<ReportAck> acks) {
                        down = acks;
                        return new StreamObserver<>() {
                            @Override
                            public void onNext(AgentReport r) {
                                received.add(r);
                            }

                            @Override
                            public void onError(Throwable t) {}

                            @Override
                            public void onCompleted() {}
                        };
                    }
                })
                .intercept(new ControlAuth(SECRET).serverInterceptor()).build().start();
        agent = SimulatedAgent.start("agent-1", 2, SECRET);
        String target = "127.0.0.1:" + server.getPort();
        links = ConcentratorLinks.start(ConcentratorLinks.Settings.of(agent.agentId(), agent.target())
                        .withHeartbeat(Duration.ofSeconds(5), Duration.ofSeconds(60)),
                () -> List.of(new ConcentratorLinks.Row("c-1", "a", target, 0)), agent::desktops, new ControlAuth(SECRET),
                agent::initiateSession, Runnable::run);
        agent.onDesktopsChanged(links::desktopsChanged);
        AgentReport hello = next();
        assertThat(hello.getHello().getStreamCalls()).as("the hello says it takes calls").isTrue();
        send(ReportAck.newBuilder().setConcentratorId("c-1").build());
    }

    @AfterEach
    void stop() throws Exception {
        links.close();
        agent.close();
        server.shutdownNow();
    }

    private AgentReport next() throws InterruptedException {
        AgentReport r = received.poll(WAIT_S, TimeUnit.SECONDS);
        assertThat(r).as("a message from the agent").isNotNull();
        return r;
    }

    /** The next answer up the stream, skipping reports (deltas of the desktops' changes). */
    private AgentAnswer answer() throws InterruptedException {
        while (true) {
            AgentReport r = next();
            if (r.hasAnswer()) return r.getAnswer();
        }
    }

    private synchronized void send(ReportAck ack) {
        down.onNext(ack);
    }

    private static InitiateSessionRequest initiate(String desktopId, long version) {
        return InitiateSessionRequest.newBuilder().setDesktopId(desktopId).setSessionId("s-1").setUser("u").setTenant(1)
                .setExpectedVersion(version).build();
    }

    private long version(String desktopId) {
        return agent.desktops().stream().filter(d -> d.getDesktopId().equals(desktopId)).findFirst().orElseThrow().getVersion();
    }

    @Test
    void shouldInitiateThroughTheLifecycleAndAnswerUpTheSameStreamByCallId() throws Exception {
        send(ReportAck.newBuilder().setCall(AgentCall.newBuilder().setCallId(41).setInitiate(initiate("agent-1/1", version("agent-1/1"))))
                .build());

        AgentAnswer a = answer();
        assertThat(a.getCallId()).isEqualTo(41);
        assertThat(a.getInitiated().getDesktop().getDesktopId()).isEqualTo("agent-1/1");
        assertThat(a.getInitiated().getDesktop().getState()).isEqualTo(DesktopState.ASSIGNED);
        assertThat(a.getInitiated().getVncPassword()).isNotEmpty();
    }

    /** The messages up the stream until the answer to {@code callId}, that answer last. */
    private List<AgentReport> until(long callId) throws InterruptedException {
        List<AgentReport> out = new java.util.ArrayList<>();
        while (true) {
            AgentReport r = next();
            out.add(r);
            if (r.hasAnswer() && r.getAnswer().getCallId() == callId) return out;
        }
    }

    private static List<String> assigned(AgentReport r) {
        return r.getDesktopsList().stream().filter(d -> d.getState() == DesktopState.ASSIGNED).map(d -> d.getDesktopId()).toList();
    }

    @Test
    void shouldSendTheCallsChangeWithItsAnswerAndNotAsADeltaOfItsOwnWhenTheCallSaysReportInAnswer() throws Exception {
        send(ReportAck.newBuilder().setCall(AgentCall.newBuilder().setCallId(41).setReportInAnswer(true)
                .setInitiate(initiate("agent-1/1", version("agent-1/1")))).build());
        List<AgentReport> first = until(41);
        send(ReportAck.newBuilder().setCall(AgentCall.newBuilder().setCallId(42).setReportInAnswer(true)
                .setInitiate(initiate("agent-1/2", version("agent-1/2")))).build());
        List<AgentReport> second = until(42);

        AgentReport answer = first.getLast();
        assertThat(answer.getAnswer().getInitiated().getDesktop().getState()).isEqualTo(DesktopState.ASSIGNED);
        assertThat(answer.getFull()).isFalse();
        assertThat(assigned(answer)).as("the change rides with the answer").containsExactly("agent-1/1");
        assertThat(answer.getDesktops(0).getVersion()).isEqualTo(version("agent-1/1"));
        assertThat(first.subList(0, first.size() - 1)).as("no delta of its own before the answer").allSatisfy(r -> assertThat(assigned(r)).isEmpty());
        // Sent behind the first answer on the same stream: a delta of agent-1/1 after it would come before this answer.
        assertThat(second).as("nothing of agent-1/1 again").allSatisfy(r -> assertThat(assigned(r)).doesNotContain("agent-1/1"));
        assertThat(assigned(second.getLast())).containsExactly("agent-1/2");
    }

    @Test
    void shouldAnswerAloneAndSendTheChangeAsADeltaWhenTheCallDoesNotSayReportInAnswer() throws Exception {
        send(ReportAck.newBuilder().setCall(AgentCall.newBuilder().setCallId(43).setInitiate(initiate("agent-1/1", version("agent-1/1"))))
                .build());
        List<AgentReport> seen = new java.util.ArrayList<>(until(43));
        while (seen.stream().noneMatch(r -> !r.hasAnswer() && assigned(r).contains("agent-1/1"))) seen.add(next());

        AgentReport answer = seen.stream().filter(AgentReport::hasAnswer).findFirst().orElseThrow();
        assertThat(answer.getDesktopsList()).as("an old concentrator's answer comes alone").isEmpty();
        assertThat(seen.stream().filter(r -> !r.hasAnswer() && assigned(r).contains("agent-1/1")).count()).isEqualTo(1);
    }

    @Test
    void shouldAnswerALostCompareAndSetAsAborted() throws Exception {
        send(ReportAck.newBuilder().setCall(AgentCall.newBuilder().setCallId(1).setInitiate(initiate("agent-1/1", version("agent-1/1") + 7)))
                .build());

        assertThat(answer().getError().getCode()).isEqualTo(Status.Code.ABORTED.value());
        assertThat(agent.assignments()).isZero();
    }

    @Test
    void shouldRefuseAnInitiationOfADesktopItDoesNotOwn() throws Exception {
        send(ReportAck.newBuilder().setCall(AgentCall.newBuilder().setCallId(2).setInitiate(initiate("agent-2/1", 0))).build());

        AgentAnswer a = answer();
        assertThat(a.hasInitiated()).isFalse();
        assertThat(a.getError().getCode()).isEqualTo(Status.Code.NOT_FOUND.value());
    }

    @Test
    void shouldRefuseACallWithoutARequest() throws Exception {
        send(ReportAck.newBuilder().setCall(AgentCall.newBuilder().setCallId(3)).build());

        AgentAnswer a = answer();
        assertThat(a.getCallId()).isEqualTo(3);
        assertThat(a.getError().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
        assertThat(agent.assignments()).isZero();
    }
}
