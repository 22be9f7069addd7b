package io.deskgate.broker;

import static io.deskgate.broker.DesktopChooserTest.desktop;
import static io.deskgate.testkit.GrpcCalls.code;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.Secrets;
import io.deskgate.control.BrokerGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import io.deskgate.control.EndSessionRequest;
import io.deskgate.control.FindDesktopReply;
import io.deskgate.control.FindDesktopRequest;
import io.deskgate.control.ListDesktopsRequest;
import io.deskgate.control.PoolScope;
import io.deskgate.control.SessionStartedRequest;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The broker over real loopback gRPC against fake agents that are real gRPC servers on port 0. */
class BrokerLoopbackTest {
    private final List<AutoCloseable> resources = new ArrayList<>();
    private BrokerGrpc.BrokerBlockingStub broker;

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable r : resources.reversed()) r.close();
    }

    private FakeAgent agent(Desktop... desktops) throws IOException {
        FakeAgent a = new FakeAgent(desktops);
        resources.add(a);
        return a;
    }

    private Broker startBroker(Duration timeout, String... targets) throws IOException {
        return startBroker(BrokerConfig.DEFAULT_MAX_DESKTOPS_PER_USER, timeout, targets);
    }

    private Broker startBroker(int maxDesktopsPerUser, Duration timeout, String... targets) throws IOException {
        Broker b = Broker.start(BrokerConfig.builder().bindHost("127.0.0.1").grpcPort(0).agentTargets(List.of(targets))
                .agentCallTimeout(timeout).controlSecret(FakeAgent.CONTROL_SECRET).maxDesktopsPerUser(maxDesktopsPerUser)
                .build());
        resources.add(b);
        broker = stub(b, new ControlAuth(FakeAgent.CONTROL_SECRET).clientInterceptor());
        return b;
    }

    private BrokerGrpc.BrokerBlockingStub stub(Broker b, ClientInterceptor... interceptors) {
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", b.grpcPort()).usePlaintext()
                .intercept(interceptors).build();
        resources.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        return BrokerGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    /** A loopback port nothing listens on: connecting is refused at once. */
    private static String deadTarget() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return "127.0.0.1:" + s.getLocalPort();
        }
    }

    /** A request of a user of tenant {@link DesktopChooserTest#T1}. */
    private static FindDesktopRequest.Builder request() {
        return FindDesktopRequest.newBuilder().setTenant(DesktopChooserTest.T1);
    }

    private FindDesktopReply find(String session, String user) {
        return broker.findDesktop(request().setSessionId(session).setUser(user).build());
    }

    @Test
    void shouldMergeEveryAgentsDesktopsAndSkipADeadAgent() throws Exception {
        FakeAgent a = agent(desktop("a/1", DesktopState.AVAILABLE, ""), desktop("a/2", DesktopState.IN_USE, "bob"));
        FakeAgent b = agent(desktop("b/1", DesktopState.AVAILABLE, ""));
        startBroker(Duration.ofSeconds(5), a.target(), deadTarget(), b.target());
        assertThat(broker.listDesktops(ListDesktopsRequest.getDefaultInstance()).getDesktopsList())
                .extracting(Desktop::getDesktopId).containsExactlyInAnyOrder("a/1", "a/2", "b/1");

        FindDesktopReply reply = find("s1", "alice");
        assertThat(reply.getDesktop().getState()).isEqualTo(DesktopState.ASSIGNED);
        assertThat(reply.getVncPassword()).isEqualTo("pw-" + reply.getDesktop().getDesktopId());
    }

    @Test
    void shouldSkipAnAgentThatDoesNotAnswerBeforeTheDeadline() throws Exception {
        FakeAgent a = agent(desktop("a/1", DesktopState.AVAILABLE, ""));
        // Accepts TCP connections but never speaks HTTP/2: every call to it runs into the deadline.
        ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        resources.add(silent);
        startBroker(Duration.ofMillis(300), "127.0.0.1:" + silent.getLocalPort(), a.target());
        long start = System.nanoTime();
        FindDesktopReply reply = find("s1", "alice");
        assertThat(reply.getDesktop().getDesktopId()).isEqualTo("a/1");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    }

    @Test
    void shouldReconnectAUserToTheDesktopTheyAlreadyHave() throws Exception {
        FakeAgent a = agent(desktop("a/1", DesktopState.AVAILABLE, ""), desktop("a/2", DesktopState.AVAILABLE, ""));
        FakeAgent b = agent(desktop("b/1", DesktopState.DISCONNECTED, "alice"), desktop("b/2", DesktopState.IN_USE, "bob"));
        startBroker(Duration.ofSeconds(5), a.target(), b.target());

        FindDesktopReply reply = find("s2", "alice");
        assertThat(reply.getDesktop().getDesktopId()).isEqualTo("b/1");
        assertThat(reply.getDesktop().getSessionId()).isEqualTo("s2");
        assertThat(reply.getReconnect()).as("the desktop already held alice's work").isTrue();
        assertThat(b.calls).containsExactly("initiate b/1 s2 alice");
        assertThat(a.calls).isEmpty();

        FindDesktopReply other = find("s3", "carol");
        assertThat(other.getDesktop().getDesktopId()).startsWith("a/");
        assertThat(other.getReconnect()).as("a fresh desktop").isFalse();
    }

    @Test
    void shouldNeverReconnectOneTenantsUserToAnotherTenantsDesktopOfTheSameName() throws Exception {
        FakeAgent a = agent(desktop("a/1", DesktopState.AVAILABLE, ""));
        FakeAgent b = agent(desktop("b/1", DesktopState.DISCONNECTED, DesktopChooserTest.T1, "alice"));
        startBroker(Duration.ofSeconds(5), a.target(), b.target());

        FindDesktopReply second = broker.findDesktop(FindDesktopRequest.newBuilder().setSessionId("s2")
                .setTenant(DesktopChooserTest.T2).setUser("alice").build());
        assertThat(second.getDesktop().getDesktopId()).as("tenant 2's alice gets a fresh desktop").isEqualTo("a/1");
        assertThat(second.getDesktop().getTenant()).isEqualTo(DesktopChooserTest.T2);
        assertThat(second.getReconnect()).isFalse();
        assertThat(b.calls).as("tenant 1's desktop was never asked for").isEmpty();

        FindDesktopReply first = find("s3", "alice");
        assertThat(first.getDesktop().getDesktopId()).as("tenant 1's alice reconnects").isEqualTo("b/1");
        assertThat(first.getReconnect()).isTrue();
    }

    @Test
    void shouldAnswerResourceExhaustedWhenNoDesktopIsFree() throws Exception {
        FakeAgent a = agent(desktop("a/1", DesktopState.IN_USE, "bob"), desktop("a/2", DesktopState.STARTING, ""));
        startBroker(Duration.ofSeconds(5), a.target(), deadTarget());
        assertThatThrownBy(() -> find("s1", "alice")).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(e.getStatus().getDescription()).contains("no desktop available");
        });
    }

    @Test
    void shouldTryTheNextCandidateWhenAnAgentRefusesARacedDesktop() throws Exception {
        FakeAgent a = agent(desktop("a/1", DesktopState.AVAILABLE, ""), desktop("a/2", DesktopState.AVAILABLE, ""));
        a.taken.add("a/1"); // listed as AVAILABLE, but someone else initiates it first
        startBroker(Duration.ofSeconds(5), a.target());
        assertThat(find("s1", "alice").getDesktop().getDesktopId()).isEqualTo("a/2");
        assertThat(a.calls).containsExactly("initiate a/1 s1 alice", "initiate a/2 s1 alice");
        assertThat(code(() -> find("s2", "bob"))).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    }

    @Test
    void shouldRouteSessionStartedAndEndSessionToTheOwningAgent() throws Exception {
        FakeAgent a = agent(desktop("a/1", DesktopState.AVAILABLE, ""));
        FakeAgent b = agent(desktop("b/1", DesktopState.AVAILABLE, ""), desktop("b/2", DesktopState.AVAILABLE, ""));
        startBroker(Duration.ofSeconds(5), a.target(), b.target());
        FindDesktopReply reply = find("s1", "alice");
        String id = reply.getDesktop().getDesktopId();
        assertThat(id).startsWith("b/");

        broker.sessionStarted(SessionStartedRequest.newBuilder().setDesktopId(id).setSessionId("s1").build());
        broker.endSession(EndSessionRequest.newBuilder().setDesktopId(id).setSessionId("s1").build());
        assertThat(b.calls).containsExactly("initiate " + id + " s1 alice", "started " + id + " s1", "end " + id + " s1");
        assertThat(a.calls).isEmpty();

        assertThat(code(() -> broker.endSession(EndSessionRequest.newBuilder().setDesktopId(id).setSessionId("other")
                .build()))).as("the agent's refusal reaches the caller").isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(code(() -> broker.endSession(EndSessionRequest.newBuilder().setDesktopId("zz/1").setSessionId("s1")
                .build()))).isEqualTo(Status.Code.NOT_FOUND);
    }

    @Test
    void shouldHonourARequestedDesktopAndRejectBadRequests() throws Exception {
        FakeAgent a = agent(desktop("a/1", DesktopState.AVAILABLE, ""), desktop("a/2", DesktopState.IN_USE, "bob"));
        startBroker(Duration.ofSeconds(5), a.target());
        assertThat(broker.findDesktop(request().setSessionId("s1").setUser("bob")
                .setDesktopId("a/2").build()).getDesktop().getDesktopId()).isEqualTo("a/2");
        assertThat(code(() -> broker.findDesktop(request().setSessionId("s2").setUser("alice")
                .setDesktopId("a/2").build()))).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(code(() -> broker.findDesktop(request().setSessionId("s2").setUser("alice")
                .setDesktopId("a/9").build()))).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(code(() -> find("", "alice"))).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void shouldGiveAUserOneDesktopByDefaultAndRefuseAnotherNamingTheLimit() throws Exception {
        FakeAgent a = agent(desktop("a/1", DesktopState.AVAILABLE, ""), desktop("a/2", DesktopState.AVAILABLE, ""),
                desktop("a/3", DesktopState.AVAILABLE, ""));
        startBroker(Duration.ofSeconds(5), a.target());
        String first = find("s1", "alice").getDesktop().getDesktopId();
        FindDesktopReply again = find("s2", "alice");
        assertThat(again.getDesktop().getDesktopId()).as("their own desktop back").isEqualTo(first);
        assertThat(again.getReconnect()).isTrue();
        for (Desktop d : broker.listDesktops(ListDesktopsRequest.getDefaultInstance()).getDesktopsList()) {
            if (d.getState() != DesktopState.AVAILABLE) continue;
            assertThatThrownBy(() -> broker.findDesktop(request().setSessionId("s3").setUser("alice")
                    .setDesktopId(d.getDesktopId()).build())).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
                        assertThat(e.getStatus().getDescription()).contains("limit 1");
                    });
        }
        assertThat(a.calls).as("no second desktop initiated for alice")
                .containsExactly("initiate " + first + " s1 alice", "initiate " + first + " s2 alice");
        assertThat(find("s4", "bob").getDesktop().getDesktopId()).as("bob is not limited by alice").isNotEqualTo(first);
    }

    @Test
    void shouldLetAUserHoldAsManyDesktopsAsConfigured() throws Exception {
        FakeAgent a = agent(desktop("a/1", DesktopState.AVAILABLE, ""), desktop("a/2", DesktopState.AVAILABLE, ""),
                desktop("a/3", DesktopState.AVAILABLE, ""));
        startBroker(2, Duration.ofSeconds(5), a.target());
        String first = find("s1", "alice").getDesktop().getDesktopId();
        String other = broker.listDesktops(ListDesktopsRequest.getDefaultInstance()).getDesktopsList().stream()
                .filter(d -> d.getState() == DesktopState.AVAILABLE).findFirst().orElseThrow().getDesktopId();
        assertThat(broker.findDesktop(request().setSessionId("s2").setUser("alice")
                .setDesktopId(other).build()).getDesktop().getDesktopId()).isEqualTo(other);
        assertThat(code(() -> broker.findDesktop(request().setSessionId("s3").setUser("alice")
                .setDesktopId(a.desktops.values().stream().filter(d -> d.getState() == DesktopState.AVAILABLE)
                        .findFirst().orElseThrow().getDesktopId()).build()))).isEqualTo(Status.Code.ALREADY_EXISTS);
        assertThat(first).isNotEqualTo(other);
        assertThatThrownBy(() -> BrokerConfig.builder().bindHost("127.0.0.1").grpcPort(0)
                .agentTargets(List.of("127.0.0.1:1")).maxDesktopsPerUser(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max-desktops-per-user");
    }

    @Test
    void shouldRefuseCallsWithoutTheControlCredentialBeforeAskingAnyAgent() throws Exception {
        FakeAgent a = agent(desktop("a/1", DesktopState.AVAILABLE, ""));
        Broker b = startBroker(Duration.ofSeconds(5), a.target());
        FindDesktopRequest takeover = request().setSessionId("s1").setUser("admin").build();
        for (BrokerGrpc.BrokerBlockingStub intruder : List.of(stub(b),
                stub(b, new ControlAuth(Secrets.randomBytes(32)).clientInterceptor()))) {
            assertThatThrownBy(() -> intruder.findDesktop(takeover)).isInstanceOfSatisfying(StatusRuntimeException.class,
                    e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
            assertThat(code(() -> intruder.listDesktops(ListDesktopsRequest.getDefaultInstance())))
                    .isEqualTo(Status.Code.UNAUTHENTICATED);
        }
        assertThat(a.calls).as("no session was initiated").isEmpty();
        assertThat(a.desktops.get("a/1").getState()).isEqualTo(DesktopState.AVAILABLE);
    }

    @Test
    void shouldNotUseAnAgentThatRequiresAnotherControlSecret() throws Exception {
        FakeAgent foreign = new FakeAgent(Secrets.randomBytes(32), desktop("x/1", DesktopState.AVAILABLE, ""));
        resources.add(foreign);
        FakeAgent a = agent(desktop("a/1", DesktopState.AVAILABLE, ""));
        startBroker(Duration.ofSeconds(5), foreign.target(), a.target());
        assertThat(broker.listDesktops(ListDesktopsRequest.getDefaultInstance()).getDesktopsList())
                .extracting(Desktop::getDesktopId).containsExactly("a/1");
        assertThat(find("s1", "alice").getDesktop().getDesktopId()).isEqualTo("a/1");
        assertThat(foreign.calls).isEmpty();
    }

    @Test
    void shouldAskTheAgentsItsSourceNamesAtEachListingBesidesTheFixedOnes() throws Exception {
        FakeAgent fixed = agent(desktop("f/1", DesktopState.IN_USE, "carol"));
        FakeAgent a = agent(desktop("a/1", DesktopState.AVAILABLE, ""));
        FakeAgent b = agent(desktop("b/1", DesktopState.AVAILABLE, ""));
        java.util.concurrent.atomic.AtomicReference<List<String>> live = new java.util.concurrent.atomic.AtomicReference<>(
                List.of(a.target()));
        Broker b0 = Broker.start(BrokerConfig.builder().bindHost("127.0.0.1").grpcPort(0).agentTargets(List.of(fixed.target()))
                .controlSecret(FakeAgent.CONTROL_SECRET).build(), live::get);
        resources.add(b0);
        broker = stub(b0, new ControlAuth(FakeAgent.CONTROL_SECRET).clientInterceptor());
        assertThat(broker.listDesktops(ListDesktopsRequest.getDefaultInstance()).getDesktopsList())
                .extracting(Desktop::getDesktopId).containsExactlyInAnyOrder("f/1", "a/1");

        live.set(List.of(b.target(), "not a target"));
        assertThat(broker.listDesktops(ListDesktopsRequest.getDefaultInstance()).getDesktopsList())
                .as("a/1's agent left the source; b/1's joined; an unusable target is skipped")
                .extracting(Desktop::getDesktopId).containsExactlyInAnyOrder("f/1", "b/1");
        assertThat(find("s1", "alice").getDesktop().getDesktopId()).isEqualTo("b/1");

        live.set(null); // the source fails (List.copyOf(null)): the last agents are kept
        assertThat(broker.listDesktops(ListDesktopsRequest.getDefaultInstance()).getDesktopsList())
                .extracting(Desktop::getDesktopId).containsExactlyInAnyOrder("f/1", "b/1");
        assertThat(b0.inFlight()).as("no FindDesktop is being served now").isZero();
    }

    @Test
    void shouldRefuseToStartWithoutAControlSecret() throws Exception {
        FakeAgent a = agent(desktop("a/1", DesktopState.AVAILABLE, ""));
        assertThatThrownBy(() -> Broker.start(BrokerConfig.builder().bindHost("127.0.0.1").grpcPort(0)
                .agentTargets(List.of(a.target())).build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no control secret configured");
        assertThatThrownBy(() -> BrokerConfig.builder().bindHost("127.0.0.1").grpcPort(0).agentTargets(List.of(a.target()))
                .controlSecret(new byte[16]).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 32 bytes");
    }

    @Test
    void shouldRejectMalformedConfig() {
        assertThatThrownBy(() -> Broker.start(BrokerConfig.builder().bindHost("127.0.0.1").grpcPort(0).agentTargets(List.of())
                .controlSecret(new byte[32]).build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("agent-targets must name at least one agent");
        assertThatThrownBy(() -> BrokerConfig.builder().bindHost("127.0.0.1").grpcPort(0).agentTargets(List.of("nohost"))
                .build()).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BrokerConfig.builder().bindHost("127.0.0.1").grpcPort(0).agentTargets(List.of("h:0"))
                .build()).isInstanceOf(IllegalArgumentException.class);
        assertThat(BrokerConfig.builder().bindHost("127.0.0.1").grpcPort(0).agentTargets(List.of("127.0.0.1:1")).build().agentCallTimeout()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void shouldChooseOnlyAmongThePoolsDesktops() throws Exception {
        FakeAgent a = agent(desktop("a/1", DesktopState.AVAILABLE, ""), desktop("a/2", DesktopState.AVAILABLE, ""));
        FakeAgent b = agent(desktop("b/1", DesktopState.AVAILABLE, "").toBuilder().addLabels("gpu").build());
        startBroker(2, Duration.ofSeconds(5), a.target(), b.target());
        PoolScope gpu = PoolScope.newBuilder().addLabels("gpu").build();
        PoolScope agentB = PoolScope.newBuilder().addAgents("b").build();
        PoolScope nowhere = PoolScope.newBuilder().addAgents("z").build();

        FindDesktopReply byLabel = broker.findDesktop(request().setSessionId("s1").setUser("alice").setScope(gpu).build());
        assertThat(byLabel.getDesktop().getDesktopId()).as("a has more free desktops, but only b is in the pool").isEqualTo("b/1");
        assertThat(a.calls).isEmpty();
        assertThat(code(() -> broker.findDesktop(request().setSessionId("s2").setUser("bob").setScope(agentB).build())))
                .as("the pool's only desktop is taken").isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(code(() -> broker.findDesktop(request().setSessionId("s3").setUser("bob").setScope(agentB)
                .setDesktopId("a/1").build()))).as("a desktop outside the pool cannot be named").isEqualTo(Status.Code.NOT_FOUND);
        assertThat(code(() -> broker.findDesktop(request().setSessionId("s4").setUser("bob").setScope(nowhere).build())))
                .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(a.calls).as("no desktop outside the pools was initiated").isEmpty();
    }
}
