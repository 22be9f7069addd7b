package io.deskgate.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.agent.AgentMetrics;
import io.deskgate.agent.ConcentratorLinks;
import io.deskgate.agent.SimulatedAgent;
import io.deskgate.common.Secrets;
import io.deskgate.concentrator.Concentrator;
import io.deskgate.concentrator.ConcentratorConfig;
import io.deskgate.concentrator.ConcentratorMetrics;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.FindDesktopRequest;
import io.deskgate.metrics.MetricsEndpoint;
import io.deskgate.metrics.RoleMetrics;
import io.deskgate.testkit.Conditions;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A concentrator, a {@link SimulatedAgent} (no Xvnc) and a {@link SessionBroker} over loopback gRPC, counting into one
 * registry as {@code deskgate up} does, served by the real metrics endpoint and scraped over HTTP.
 */
class FleetMetricsTest {
    private static final byte[] SECRET = Secrets.randomBytes(32);
    private static final Duration WAIT = Duration.ofSeconds(60);
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable r : resources.reversed()) r.close();
    }

    private <T extends AutoCloseable> T own(T r) {
        resources.add(r);
        return r;
    }

    @Test
    void aPlacementAndARefusalMoveTheBrokersTheConcentratorsAndTheAgentsMetrics() throws Exception {
        PrometheusMeterRegistry registry = RoleMetrics.newRegistry();
        MetricsEndpoint endpoint = own(MetricsEndpoint.start(0, registry));
        Concentrator c = own(Concentrator.start(ConcentratorConfig.builder().id("a-1").set("a").agentTimeout(Duration.ofSeconds(3))
                .tickInterval(Duration.ofMillis(100)).controlSecret(SECRET).build(),
                new ConcentratorMetrics(new RoleMetrics(registry, "concentrator"))));
        String target = "127.0.0.1:" + c.grpcPort();
        SimulatedAgent a = own(SimulatedAgent.start("agent-1", 1, SECRET, new AgentMetrics(new RoleMetrics(registry, "agent"))));
        ConcentratorLinks l = own(ConcentratorLinks.start(ConcentratorLinks.Settings.of(a.agentId(), a.target())
                        .withHeartbeat(Duration.ofMillis(200), Duration.ofSeconds(3)),
                () -> List.of(new ConcentratorLinks.Row(c.id(), c.set(), target, c.load())), a::desktops, new ControlAuth(SECRET)));
        a.onDesktopsChanged(l::desktopsChanged);
        Conditions.await("the agent's desktop", WAIT, () -> c.load() == 1);
        SessionBroker broker = own(new SessionBroker(new SessionBroker.Settings(Duration.ofSeconds(30), Duration.ofSeconds(5), 16,
                Duration.ofSeconds(5), BrokerConfig.DEFAULT_MAX_DESKTOPS_PER_USER),
                () -> List.of(new SessionBroker.Row(c.id(), c.set(), target)), SECRET,
                new BrokerMetrics(new RoleMetrics(registry, "broker"))));

        broker.findDesktop(request("s-1", "u-1"));
        assertThat(metric(endpoint, "deskgate_broker_placements_total{outcome=\"placed\"}")).isEqualTo(1);
        assertThat(metric(endpoint, "deskgate_broker_find_desktop_seconds_count{outcome=\"placed\"}")).isEqualTo(1);
        assertThat(metric(endpoint, "deskgate_broker_initiations_total{result=\"won\"}")).isEqualTo(1);
        assertThat(metric(endpoint, "deskgate_concentrator_desktops_held")).isEqualTo(1);
        assertThat(metric(endpoint, "deskgate_concentrator_agents_connected")).isEqualTo(1);
        assertThat(metric(endpoint, "deskgate_concentrator_find_available_total{kind=\"single\"}")
                + metric(endpoint, "deskgate_concentrator_find_available_total{kind=\"batch\"}")).isGreaterThanOrEqualTo(1);
        assertThat(metric(endpoint, "deskgate_concentrator_answers_after_deadline_total")).isZero();
        assertThat(metric(endpoint, "deskgate_agent_initiations_total{outcome=\"accepted\"}")).isEqualTo(1);
        assertThat(metric(endpoint, "deskgate_agent_desktops{state=\"available\"}")).isZero();
        assertThat(metric(endpoint, "deskgate_agent_desktops{state=\"assigned\"}")).isEqualTo(1);

        Conditions.await("the assignment reported", WAIT, () -> free(target) == 0);
        StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> broker.findDesktop(request("s-2", "u-2")));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(metric(endpoint, "deskgate_broker_placements_total{outcome=\"no_desktop\"}")).isEqualTo(1);
        assertThat(metric(endpoint, "deskgate_broker_find_desktop_seconds_count{outcome=\"no_desktop\"}")).isEqualTo(1);

        broker.findDesktop(request("", "u-3"), new io.grpc.stub.StreamObserver<>() {
            @Override public void onNext(io.deskgate.control.FindDesktopReply v) {}
            @Override public void onError(Throwable t) {}
            @Override public void onCompleted() {}
        });
        assertThat(metric(endpoint, "deskgate_broker_placements_total{outcome=\"invalid\"}")).isEqualTo(1);
    }

    @Test
    void theDirectBrokerCountsItsPlacementsToo() throws Exception {
        PrometheusMeterRegistry registry = RoleMetrics.newRegistry();
        MetricsEndpoint endpoint = own(MetricsEndpoint.start(0, registry));
        FakeAgent agent = own(new FakeAgent(DesktopChooserTest.desktop("a/1", io.deskgate.control.DesktopState.AVAILABLE, "")));
        Broker broker = own(Broker.start(BrokerConfig.builder().bindHost("127.0.0.1").grpcPort(0).agentTargets(List.of(agent.target()))
                .controlSecret(FakeAgent.CONTROL_SECRET).build(), List::of, new BrokerMetrics(new RoleMetrics(registry, "broker"))));
        broker.findDesktop(FindDesktopRequest.newBuilder().setSessionId("s-1").setUser("alice").setTenant(DesktopChooserTest.T1).build());
        assertThat(metric(endpoint, "deskgate_broker_placements_total{outcome=\"placed\"}")).isEqualTo(1);
        assertThat(metric(endpoint, "deskgate_broker_find_desktop_seconds_count{outcome=\"placed\"}")).isEqualTo(1);
        org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> broker.findDesktop(FindDesktopRequest.newBuilder().setSessionId("").setUser("bob").build()));
        assertThat(metric(endpoint, "deskgate_broker_placements_total{outcome=\"invalid\"}")).isEqualTo(1);
    }

    /** The desktops the concentrator offers now, as a broker's FindAvailable sees them. */
    private static int free(String target) {
        var ch = io.deskgate.control.ControlChannels.open(target, new ControlAuth(SECRET));
        try {
            return io.deskgate.control.ConcentratorGrpc.newBlockingStub(ch).withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS)
                    .findAvailable(io.deskgate.control.FindAvailableRequest.newBuilder().setTenant(1).setPool("default").setLimit(1000)
                            .build()).getDesktopsCount();
        } finally {
            io.deskgate.control.ControlChannels.close(ch, Duration.ofSeconds(1));
        }
    }

    private static FindDesktopRequest request(String session, String user) {
        return FindDesktopRequest.newBuilder().setSessionId(session).setUser(user).setTenant(1).setPool("default").build();
    }

    /** The value of the sample {@code line} scraped from the endpoint now; 0 when absent. */
    private double metric(MetricsEndpoint endpoint, String line) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(endpoint.url()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        for (String l : r.body().split("\n")) {
            if (l.startsWith(line + " ")) return Double.parseDouble(l.substring(line.length() + 1).trim());
        }
        return 0;
    }
}
