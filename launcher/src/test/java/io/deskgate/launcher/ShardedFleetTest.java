package io.deskgate.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.agent.ConcentratorLinks;
import io.deskgate.agent.SimulatedAgent;
import io.deskgate.concentrator.Concentrator;
import io.deskgate.concentrator.ConcentratorConfig;
import io.deskgate.control.BrokerGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.ControlChannels;
import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import io.deskgate.control.FindDesktopReply;
import io.deskgate.control.FindDesktopRequest;
import io.deskgate.control.ListDesktopsReply;
import io.deskgate.control.ListDesktopsRequest;
import io.deskgate.store.Database;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.RegistryTiming;
import io.deskgate.store.Role;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The sharded path as the launcher wires it (issue 8 items 1, 4-6), in this JVM on one embedded store: two
 * concentrator sets of two concentrators each and two sharded brokers, all started and registered by
 * {@link RoleRunner} as {@code run} starts them; three {@link SimulatedAgent}s (the agent's real lifecycle
 * and compare-and-set, no Xvnc) reporting through {@link RoleRunner#reportToConcentrators}, which finds the
 * concentrators in the registry. Sessions are asked of the brokers over gRPC, as the frontdoor asks. Waits
 * are on conditions with generous deadlines.
 */
class ShardedFleetTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final RegistryTiming TIMING = RegistryTiming.builder().heartbeatInterval(Duration.ofMillis(200))
            .timeout(Duration.ofSeconds(1)).build();
    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable r : resources.reversed()) r.close();
    }

    private <T extends AutoCloseable> T own(T r) {
        resources.add(r);
        return r;
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as("waited for %s", what).isNegative();
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000); // polls the condition; it alone ends the wait
        }
    }

    private static FindDesktopRequest request(String session, String user) {
        return FindDesktopRequest.newBuilder().setSessionId(session).setUser(user).setTenant(1).setPool("default").build();
    }

    @Test
    void shouldPlaceThroughTheRegisteredSetsListTheUsersDesktopsAndKeepBrokeringWhenAConcentratorDies() throws Exception {
        EmbeddedPostgres pg = own(EmbeddedPostgres.builder().start());
        Database db = own(Database.external(urlOf(pg), "postgres", "unused"));
        Fleet fleet = Fleet.of(db, TIMING);
        DeskgateConfigFile file = DeskgateConfigFile.empty();

        List<RoleRunner.Started<Concentrator>> concentrators = new ArrayList<>();
        for (String set : List.of("a", "b")) {
            for (int i = 1; i <= 2; i++) {
                concentrators.add(own(RoleRunner.concentrator(ConcentratorConfig.builder().id(set + "-" + i).set(set)
                        .agentTimeout(Duration.ofSeconds(3)).tickInterval(Duration.ofMillis(100)), fleet, file)));
            }
        }
        List<RoleRunner.Started<RoleRunner.BrokerRole>> brokers = new ArrayList<>();
        for (String id : List.of("br-1", "br-2")) {
            brokers.add(own(RoleRunner.broker(UpOptions.builder().build().broker().placement("sharded"), fleet, id, file)));
        }
        List<RegistryEntry> rows = fleet.registry().live(Role.CONCENTRATOR, TIMING.timeout());
        assertThat(rows).extracting(e -> e.label(RegistryEntry.SET).orElseThrow()).containsExactlyInAnyOrder("a", "a", "b", "b");

        List<ConcentratorLinks> links = new ArrayList<>();
        List<SimulatedAgent> agents = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            SimulatedAgent a = own(SimulatedAgent.start("agent-" + i, 2, fleet.controlSecret()));
            ConcentratorLinks l = own(RoleRunner.reportToConcentrators(fleet, ConcentratorLinks.Settings.of(a.agentId(), a.target())
                    .withHeartbeat(Duration.ofMillis(200), Duration.ofSeconds(3))
                    .withHello(i == 3 ? List.of("spare") : List.of(), "127.0.0.1", 1280, 800), a::desktops));
            a.onDesktopsChanged(l::desktopsChanged);
            links.add(l);
            agents.add(a);
        }
        await("every desktop in both sets", () -> load(concentrators, "a") == 6 && load(concentrators, "b") == 6);
        await("the registry shows the loads", () -> fleet.registry().live(Role.CONCENTRATOR, TIMING.timeout()).stream()
                .mapToInt(RegistryEntry::load).sum() == 12);

        ControlAuth auth = new ControlAuth(fleet.controlSecret());
        List<BrokerGrpc.BrokerBlockingStub> stubs = new ArrayList<>();
        for (RoleRunner.Started<RoleRunner.BrokerRole> b : brokers) {
            ManagedChannel ch = ControlChannels.open(b.addresses().get(RegistryEntry.GRPC), auth);
            own(() -> ControlChannels.close(ch, Duration.ofSeconds(1)));
            stubs.add(BrokerGrpc.newBlockingStub(ch));
        }

        // A pool by label (agent-3 carries "spare"): only its desktops, named in the request's scope.
        FindDesktopRequest spare = request("s-spare", "user-spare").toBuilder().setPool("spare")
                .setScope(io.deskgate.control.PoolScope.newBuilder().addLabels("spare")).build();
        FindDesktopReply inPool = stubs.get(0).withDeadlineAfter(30, TimeUnit.SECONDS).findDesktop(spare);
        assertThat(inPool.getDesktop().getDesktopId()).startsWith("agent-3/");
        // Two brokers racing through the sets: every request placed, no desktop twice.
        int requests = 4;
        List<Future<FindDesktopReply>> replies = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < requests; i++) {
                BrokerGrpc.BrokerBlockingStub stub = stubs.get(i % 2).withDeadlineAfter(30, TimeUnit.SECONDS);
                FindDesktopRequest r = request("s-" + i, "user-" + i);
                replies.add(pool.submit(() -> stub.findDesktop(r)));
            }
        }
        Set<String> placed = new HashSet<>(Set.of(inPool.getDesktop().getDesktopId()));
        for (Future<FindDesktopReply> f : replies) {
            FindDesktopReply r = f.get();
            assertThat(r.getVncPassword()).isNotEmpty();
            placed.add(r.getDesktop().getDesktopId());
        }
        assertThat(placed).as("no desktop placed twice").hasSize(requests + 1);
        assertThat(agents.stream().mapToLong(SimulatedAgent::assignments).sum()).isEqualTo(requests + 1);
        // Every role started with one Fleet counts into its one registry (as up's roles do): one endpoint serves both
        // brokers' placements and the concentrators' answers.
        io.deskgate.metrics.MetricsEndpoint metrics = own(io.deskgate.metrics.MetricsEndpoint.start(0, fleet.metrics()));
        java.net.http.HttpResponse<String> scraped = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(metrics.url()).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(scraped.body()).contains("deskgate_broker_placements_total{outcome=\"placed\"} " + (requests + 1) + ".0")
                .contains("deskgate_broker_find_desktop_seconds_count{outcome=\"placed\"} " + (requests + 1) + "\n")
                .contains("deskgate_concentrator_find_available_total{kind=\"single\"}");

        // The portal's listing on the sharded path: the user's own desktop first, then free ones; whole entries.
        await("the assignment reported", () -> {
            ListDesktopsReply l = list(stubs.get(1), "user-0");
            return !l.getDesktopsList().isEmpty() && "user-0".equals(l.getDesktops(0).getUser());
        });
        ListDesktopsReply mine = list(stubs.get(1), "user-0");
        assertThat(mine.getPartial()).isFalse();
        assertThat(mine.getDesktops(0).getState()).isEqualTo(DesktopState.ASSIGNED);
        assertThat(mine.getDesktops(0).getSessionId()).as("the session id, for the token refresh and the admin list").isEqualTo("s-0");
        assertThat(mine.getDesktops(0).getHost()).isEqualTo("127.0.0.1");
        assertThat(mine.getDesktops(0).getPort()).isPositive();
        assertThat(mine.getDesktops(0).getWidth()).isEqualTo(1280);
        assertThat(mine.getDesktopsList().subList(1, mine.getDesktopsCount())).extracting(Desktop::getState)
                .containsOnly(DesktopState.AVAILABLE);
        assertThat(mine.getDesktopsList()).extracting(Desktop::getUser).doesNotContain("user-1", "user-2", "user-3");

        await("the held listing (the admin's session list) shows every session", () -> stubs.get(1).withDeadlineAfter(30,
                TimeUnit.SECONDS).listDesktops(ListDesktopsRequest.newBuilder().setTenant(1).setHeld(true).build())
                .getDesktopsCount() == requests + 1);
        ListDesktopsReply held = stubs.get(1).withDeadlineAfter(30, TimeUnit.SECONDS).listDesktops(ListDesktopsRequest.newBuilder()
                .setTenant(1).setHeld(true).build());
        assertThat(held.getDesktopsList()).extracting(Desktop::getSessionId).allMatch(id -> id.startsWith("s-"));

        // A concentrator of set a dies with its row still listed (as after kill -9, until the timeout): its agents
        // re-home to the other one of the set, and both brokers keep placing.
        RoleRunner.Started<Concentrator> doomed = concentrators.get(0).role().load() >= concentrators.get(1).role().load()
                ? concentrators.get(0) : concentrators.get(1);
        Concentrator survivor = (doomed == concentrators.get(0) ? concentrators.get(1) : concentrators.get(0)).role();
        assertThat(doomed.role().load()).as("the concentrator that dies holds agents").isPositive();
        doomed.role().close();
        await("every agent re-homed in set a", () -> survivor.load() == 6
                && links.stream().allMatch(l -> survivor.id().equals(l.reportingTo().get("a"))));
        for (int i = 0; i < 1; i++) {
            FindDesktopReply r = stubs.get(i).withDeadlineAfter(30, TimeUnit.SECONDS).findDesktop(request("after-" + i, "late-" + i));
            assertThat(placed.add(r.getDesktop().getDesktopId())).as("a new desktop").isTrue();
        }
        doomed.heartbeat().close();
        assertThat(fleet.registry().live(Role.CONCENTRATOR, TIMING.timeout())).extracting(RegistryEntry::id)
                .doesNotContain(doomed.id()).hasSize(3);

        // Every desktop taken (six placed): one clear reason.
        assertThat(placed).hasSize(6);
        await("the last assignments reported", () -> list(stubs.get(0), "").getDesktopsCount() == 0);
        assertThatThrownBy(() -> stubs.get(0).withDeadlineAfter(30, TimeUnit.SECONDS).findDesktop(request("none", "nobody")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                    assertThat(e.getStatus().getDescription()).startsWith("NO_DESKTOP: ");
                });
    }

    private static String urlOf(EmbeddedPostgres pg) {
        String url = pg.getJdbcUrl("postgres", "postgres");
        return url.indexOf('?') < 0 ? url : url.substring(0, url.indexOf('?'));
    }

    private static int load(List<RoleRunner.Started<Concentrator>> cs, String set) {
        return cs.stream().filter(c -> c.role().set().equals(set)).mapToInt(c -> c.role().load()).sum();
    }

    private static ListDesktopsReply list(BrokerGrpc.BrokerBlockingStub stub, String user) {
        return stub.withDeadlineAfter(30, TimeUnit.SECONDS).listDesktops(ListDesktopsRequest.newBuilder().setTenant(1)
                .setPool("default").setUser(user).build());
    }

    @Test
    void shouldRegisterTheBrokerDirectWhenTheConfigSaysSoAndRefuseAnUnknownPlacement() throws Exception {
        EmbeddedPostgres pg = own(EmbeddedPostgres.builder().start());
        Database db = own(Database.external(urlOf(pg), "postgres", "unused"));
        Fleet fleet = Fleet.of(db, TIMING);
        DeskgateConfigFile direct = DeskgateConfigFile.parse("direct.yaml", "broker:\n  placement: direct\n");
        RoleRunner.Started<RoleRunner.BrokerRole> b = own(RoleRunner.broker(UpOptions.builder().file(direct).build().broker(),
                fleet, "br-d", direct));
        assertThat(b.role().broker()).isInstanceOf(io.deskgate.broker.Broker.class);
        assertThat(fleet.registry().live(Role.BROKER, TIMING.timeout())).extracting(RegistryEntry::id).containsExactly("br-d");

        DeskgateConfigFile bad = DeskgateConfigFile.parse("bad.yaml", "broker:\n  placement: central\n");
        assertThatThrownBy(() -> bad.build("broker", UpOptions.builder().file(bad).build().broker().controlSecret(new byte[32])::build))
                .hasMessageContaining("placement must be sharded or direct: central");
    }
}
