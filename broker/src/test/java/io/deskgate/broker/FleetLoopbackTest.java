package io.deskgate.broker;

import io.deskgate.testkit.Conditions;
import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.agent.ConcentratorLinks;
import io.deskgate.agent.SimulatedAgent;
import io.deskgate.common.Secrets;
import io.deskgate.concentrator.Concentrator;
import io.deskgate.concentrator.ConcentratorConfig;
import io.deskgate.control.ConcentratorGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.DesktopState;
import io.deskgate.control.DesktopStatus;
import io.deskgate.control.EndSessionRequest;
import io.deskgate.control.FindAvailableReply;
import io.deskgate.control.FindAvailableRequest;
import io.deskgate.control.FindDesktopReply;
import io.deskgate.control.FindDesktopRequest;
import io.deskgate.control.InitiateSessionReply;
import io.deskgate.control.InitiateSessionRequest;
import io.deskgate.control.PoolScope;
import io.deskgate.control.SessionStartedRequest;
import io.grpc.Context;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The fleet over loopback gRPC (issue 8 items 4-6): real {@link Concentrator}s, {@link SimulatedAgent}s (the
 * agent's real lifecycle and compare-and-set, no Xvnc) reporting through {@link ConcentratorLinks}, and
 * {@link SessionBroker}s, all found through a registry that is a list here. Waits are on conditions.
 */
class FleetLoopbackTest {
    private static final byte[] SECRET = Secrets.randomBytes(32);
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration HEARTBEAT = Duration.ofMillis(200);
    private static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(3);
    private final List<AutoCloseable> resources = new ArrayList<>();
    /** The registry: every concentrator listed, until a test takes one out. */
    private final List<Concentrator> listed = new CopyOnWriteArrayList<>();
    private final List<SessionBroker.Row> extraRows = new CopyOnWriteArrayList<>();
    private final List<SimulatedAgent> agents = new ArrayList<>();
    private final List<ConcentratorLinks> links = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable r : resources.reversed()) r.close();
    }

    private <T extends AutoCloseable> T own(T r) {
        resources.add(r);
        return r;
    }

    private Concentrator concentrator(String id, String set) throws Exception {
        Concentrator c = own(Concentrator.start(ConcentratorConfig.builder().id(id).set(set)
                .agentTimeout(HEARTBEAT_TIMEOUT).tickInterval(Duration.ofMillis(100)).controlSecret(SECRET).build()));
        listed.add(c);
        return c;
    }

    private static String target(Concentrator c) {
        return "127.0.0.1:" + c.grpcPort();
    }

    private void agents(int count, int desktops) throws Exception {
        for (int i = 1; i <= count; i++) agent("agent-" + i, desktops, List.of());
    }

    private void agent(String id, int desktops, List<String> labels) throws Exception {
        ConcentratorLinks.Registry registry = () -> listed.stream()
                .map(c -> new ConcentratorLinks.Row(c.id(), c.set(), target(c), c.load())).toList();
        {
            SimulatedAgent a = own(SimulatedAgent.start(id, desktops, SECRET));
            ConcentratorLinks l = own(ConcentratorLinks.start(
                    ConcentratorLinks.Settings.of(a.agentId(), a.target()).withHeartbeat(HEARTBEAT, HEARTBEAT_TIMEOUT)
                            .withHello(labels, "127.0.0.1", 1280, 800),
                    registry, a::desktops, new ControlAuth(SECRET), a::initiateSession, Runnable::run));
            a.onDesktopsChanged(l::desktopsChanged);
            agents.add(a);
            links.add(l);
        }
    }

    /**
     * Generous timeouts (answers 5 s, requests 30 s) rather than the product's 200 ms answer deadline: the machine
     * running the tests may be busy, and no test here is about how long the deadline is (a late or silent
     * concentrator is only made later than whatever it is).
     */
    private static final SessionBroker.Settings PATIENT = new SessionBroker.Settings(Duration.ofSeconds(30), Duration.ofSeconds(5), 16,
            Duration.ofSeconds(5), BrokerConfig.DEFAULT_MAX_DESKTOPS_PER_USER);

    private SessionBroker broker() {
        return broker(PATIENT);
    }

    private SessionBroker broker(SessionBroker.Settings settings) {
        SessionBroker.Registry registry = () -> {
            List<SessionBroker.Row> rows = new ArrayList<>();
            for (Concentrator c : listed) rows.add(new SessionBroker.Row(c.id(), c.set(), target(c)));
            rows.addAll(extraRows);
            return rows;
        };
        return own(new SessionBroker(settings, registry, SECRET));
    }

    private static void await(String what, BooleanSupplier condition) {
        Conditions.await(what, WAIT, condition);
    }

    private static FindDesktopRequest request(String session, String user) {
        return FindDesktopRequest.newBuilder().setSessionId(session).setUser(user).setTenant(1).setPool("default").build();
    }

    private long assignments() {
        return agents.stream().mapToLong(SimulatedAgent::assignments).sum();
    }

    @Test
    void shouldNeverAssignADesktopTwiceWhenTwoBrokersRaceThroughTwoSets() throws Exception {
        Concentrator a1 = concentrator("a-1", "a"), a2 = concentrator("a-2", "a");
        Concentrator b1 = concentrator("b-1", "b"), b2 = concentrator("b-2", "b");
        agents(4, 8);
        await("every desktop in both sets", () -> a1.load() + a2.load() == 32 && b1.load() + b2.load() == 32);
        SessionBroker one = broker(), two = broker();
        int requests = 24;
        List<Future<FindDesktopReply>> replies = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < requests; i++) {
                SessionBroker b = i % 2 == 0 ? one : two;
                FindDesktopRequest r = request("s-" + i, "user-" + i);
                replies.add(pool.submit(() -> b.findDesktop(r)));
            }
        }
        Set<String> desktops = new HashSet<>();
        int placed = 0;
        for (Future<FindDesktopReply> f : replies) {
            FindDesktopReply r = f.get();
            placed++;
            desktops.add(r.getDesktop().getDesktopId());
            assertThat(r.getVncPassword()).isNotEmpty();
            assertThat(r.getDesktop().getState()).isEqualTo(DesktopState.ASSIGNED);
        }
        assertThat(placed).isEqualTo(requests);
        assertThat(desktops).as("no desktop placed twice").hasSize(requests);
        assertThat(assignments()).as("the agents assigned each desktop once").isEqualTo(requests);
        await("the concentrators see the assignments", () -> a1.load() + a2.load() == 32
                && free(a1) + free(a2) == 32 - requests && free(b1) + free(b2) == 32 - requests);

        // The same user again gets their own desktop back (a reconnect), from either broker.
        FindDesktopReply again = two.findDesktop(request("s-0-again", "user-0"));
        assertThat(again.getReconnect()).isTrue();
        assertThat(again.getDesktop().getUser()).isEqualTo("user-0");
        assertThat(assignments()).isEqualTo(requests);

        // SessionStarted and EndSession reach the agent through a concentrator, whichever broker placed it.
        String d = again.getDesktop().getDesktopId();
        one.sessionStarted(SessionStartedRequest.newBuilder().setDesktopId(d).setSessionId("s-0-again").build());
        one.endSession(EndSessionRequest.newBuilder().setDesktopId(d).setSessionId("s-0-again").build());
        await("the ended desktop is free again", () -> free(a1) + free(a2) == 32 - requests + 1);
    }

    private static FindDesktopRequest persistent(String session, String user) {
        return request(session, user).toBuilder().setScope(io.deskgate.control.PoolScope.newBuilder()
                .addAgents("agent-1").setPersistent(true)).build();
    }

    @Test
    void shouldGiveAUserOfAPersistentPoolTheirOwnDesktopEachTimeUntilReleased() throws Exception {
        Concentrator c = concentrator("a-1", "a");
        agents(1, 3);
        await("the agent's desktops", () -> c.load() == 3);
        SessionBroker broker = broker();

        FindDesktopReply first = broker.findDesktop(persistent("s-1", "alice"));
        String alices = first.getDesktop().getDesktopId();
        broker.sessionStarted(SessionStartedRequest.newBuilder().setDesktopId(alices).setSessionId("s-1").build());
        broker.endSession(EndSessionRequest.newBuilder().setDesktopId(alices).setSessionId("s-1").build());
        await("reset, and back AVAILABLE dedicated to alice", () -> findFree(c).getDesktopsList().stream()
                .noneMatch(d -> d.getDesktopId().equals(alices)) && free(c) == 2
                && own(c, "alice").stream().anyMatch(d -> d.getDesktopId().equals(alices) && d.getState() == DesktopState.AVAILABLE));

        FindDesktopReply bob = broker.findDesktop(persistent("s-2", "bob"));
        assertThat(bob.getDesktop().getDesktopId()).as("bob never gets alice's desktop").isNotEqualTo(alices);
        FindDesktopReply again = broker.findDesktop(persistent("s-3", "alice"));
        assertThat(again.getDesktop().getDesktopId()).as("alice gets hers again").isEqualTo(alices);
        assertThat(again.getReconnect()).as("it was reset: none of her work to protect").isFalse();

        // Kept at logout (the pool does not reset): held DISCONNECTED for her, her next launch reconnects.
        broker.sessionStarted(SessionStartedRequest.newBuilder().setDesktopId(alices).setSessionId("s-3").build());
        broker.endSession(EndSessionRequest.newBuilder().setDesktopId(alices).setSessionId("s-3").setKeep(true).build());
        await("held DISCONNECTED for alice", () -> own(c, "alice").stream()
                .anyMatch(d -> d.getDesktopId().equals(alices) && d.getState() == DesktopState.DISCONNECTED));
        FindDesktopReply back = broker.findDesktop(persistent("s-4", "alice"));
        assertThat(back.getDesktop().getDesktopId()).isEqualTo(alices);
        assertThat(back.getReconnect()).isTrue();

        // alice removed: her desktop is reset and free for anyone.
        broker.endSession(EndSessionRequest.newBuilder().setDesktopId(alices).setSessionId("s-4").setKeep(true).build());
        assertThat(broker.releaseUser(io.deskgate.control.ReleaseUserRequest.newBuilder().setTenant(1).setUser("alice")
                .addAgents("agent-9").build()).getReleased()).as("only agent-9's desktops: none of hers").isZero();
        assertThat(broker.releaseUser(io.deskgate.control.ReleaseUserRequest.newBuilder().setTenant(1).setUser("alice").build())
                .getReleased()).isEqualTo(1);
        await("alice's desktop free", () -> own(c, "alice").isEmpty()
                && findFree(c).getDesktopsList().stream().anyMatch(d -> d.getDesktopId().equals(alices)));
    }

    private static List<io.deskgate.control.DesktopStatus> own(Concentrator c, String user) {
        var ch = io.deskgate.control.ControlChannels.open(target(c), new ControlAuth(SECRET));
        try {
            return ConcentratorGrpc.newBlockingStub(ch).withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS)
                    .findAvailable(FindAvailableRequest.newBuilder().setTenant(1).setPool("default").setUser(user)
                            .setLimit(1000).build()).getDesktopsList().stream().filter(d -> d.getUser().equals(user)).toList();
        } finally {
            io.deskgate.control.ControlChannels.close(ch, Duration.ofSeconds(1));
        }
    }

    private static int free(Concentrator c) {
        return findFree(c).getDesktopsCount();
    }

    private static FindAvailableReply findFree(Concentrator c) {
        var ch = io.deskgate.control.ControlChannels.open(target(c), new ControlAuth(SECRET));
        try {
            return ConcentratorGrpc.newBlockingStub(ch).withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS)
                    .findAvailable(FindAvailableRequest.newBuilder().setTenant(1).setPool("default").setLimit(1000).build());
        } finally {
            io.deskgate.control.ControlChannels.close(ch, Duration.ofSeconds(1));
        }
    }

    @Test
    void shouldReHomeTheAgentsOfAClosedConcentratorAndKeepBrokering() throws Exception {
        Concentrator a1 = concentrator("a-1", "a"), a2 = concentrator("a-2", "a");
        Concentrator b1 = concentrator("b-1", "b"), b2 = concentrator("b-2", "b");
        agents(4, 4);
        await("every desktop in both sets", () -> a1.load() + a2.load() == 16 && b1.load() + b2.load() == 16);
        Concentrator doomed = a1.load() >= a2.load() ? a1 : a2;
        assertThat(doomed.load()).as("the concentrator closed holds agents").isPositive();
        Concentrator survivor = doomed == a1 ? a2 : a1;
        SessionBroker broker = broker();
        broker.findDesktop(request("before", "u-before"));

        doomed.close(); // its row stays listed: the agents learn from their streams failing
        await("every agent re-homed in set a", () -> survivor.load() == 16
                && links.stream().allMatch(l -> survivor.id().equals(l.reportingTo().get("a"))));
        listed.remove(doomed);

        int placed = 0;
        for (int i = 0; i < 6; i++) {
            broker.findDesktop(request("after-" + i, "u-after-" + i));
            placed++;
        }
        assertThat(placed).isEqualTo(6);
        assertThat(assignments()).isEqualTo(7);
    }

    @Test
    void shouldConnectToEveryListedConcentratorBeforeTheFirstRequest() throws Exception {
        concentrator("a-1", "a");
        concentrator("b-1", "b");
        extraRows.add(new SessionBroker.Row("gone", "b", "127.0.0.1:1"));
        SessionBroker broker = broker();

        assertThat(broker.connect(Duration.ofSeconds(2))).as("the two live concentrators answered; the gone one did not")
                .isEqualTo(2);
    }

    @Test
    void shouldIgnoreAConcentratorThatAnswersAfterTheDeadline() throws Exception {
        Concentrator real = concentrator("a-1", "a");
        agents(1, 2);
        await("the agent's desktops", () -> real.load() == 2);
        SlowConcentrator slow = own(new SlowConcentrator());
        extraRows.add(new SessionBroker.Row("a-slow", "a", slow.target()));

        FindDesktopReply r = broker().findDesktop(request("s", "u"));
        assertThat(r.getDesktop().getDesktopId()).startsWith("agent-1/");
        assertThat(slow.asked.get()).as("the slow concentrator was asked").isEqualTo(1);
        await("its answer, sent after the deadline", () -> slow.answered.get() == 1);
        assertThat(slow.initiations.get()).as("its offer was never taken").isZero();
    }

    @Test
    void shouldFailWithOneClearReasonWhenNoDesktopIsLeft() throws Exception {
        Concentrator real = concentrator("a-1", "a");
        agents(1, 1);
        await("the agent's desktop", () -> real.load() == 1);
        SessionBroker broker = broker();
        broker.findDesktop(request("s-1", "u-1"));
        await("the assignment reported", () -> free(real) == 0);
        StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> broker.findDesktop(request("s-2", "u-2")));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(e.getStatus().getDescription()).startsWith("NO_DESKTOP: ").contains("set a");
        listed.clear();
        StatusRuntimeException none = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> broker.findDesktop(request("s-3", "u-3")));
        assertThat(none.getStatus().getDescription()).startsWith("NO_CONCENTRATOR: ");
    }

    private static FindDesktopRequest scoped(String session, String user, String pool, PoolScope scope) {
        return request(session, user).toBuilder().setPool(pool).setScope(scope).build();
    }

    private static PoolScope agentsScope(String... ids) {
        return PoolScope.newBuilder().addAllAgents(List.of(ids)).build();
    }

    private static StatusRuntimeException refused(SessionBroker b, FindDesktopRequest r) {
        return org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class, () -> b.findDesktop(r));
    }

    @Test
    void shouldOfferOnlyThePoolsDesktopsByAgentAndByLabel() throws Exception {
        Concentrator a1 = concentrator("a-1", "a"), a2 = concentrator("a-2", "a");
        agent("plain-1", 2, List.of());
        agent("gpu-1", 2, List.of("gpu"));
        agent("gpu-2", 1, List.of("gpu"));
        await("every desktop", () -> a1.load() + a2.load() == 5);
        SessionBroker broker = broker(PATIENT.withMaxDesktopsPerUser(8));

        PoolScope gpu = PoolScope.newBuilder().addLabels("gpu").build();
        Set<String> placed = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            placed.add(broker.findDesktop(scoped("g-" + i, "u-g" + i, "gpu", gpu)).getDesktop().getDesktopId());
        }
        assertThat(placed).as("the gpu pool's three desktops, never one of plain-1").allMatch(d -> d.startsWith("gpu-"))
                .hasSize(3);
        StatusRuntimeException none = refused(broker, scoped("g-3", "u-g3", "gpu", gpu));
        assertThat(none.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(none.getStatus().getDescription()).startsWith("NO_DESKTOP: ");

        FindDesktopReply plain = broker.findDesktop(scoped("p-0", "u-p0", "plain", agentsScope("plain-1")));
        assertThat(plain.getDesktop().getDesktopId()).startsWith("plain-1/");
        StatusRuntimeException bad = refused(broker, scoped("p-1", "u-p1", "plain", agentsScope("not a name")));
        assertThat(bad.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(bad.getStatus().getDescription()).isEqualTo("a pool scope's agent id is not a valid name");
    }

    @Test
    void shouldHoldAUserToTheLimitInEveryPoolAsTheDirectBrokerDoes() throws Exception {
        Concentrator a1 = concentrator("a-1", "a");
        agent("one", 2, List.of());
        agent("two", 2, List.of());
        await("every desktop", () -> a1.load() == 4);
        SessionBroker broker = broker(); // the default limit: one desktop per user
        FindDesktopReply first = broker.findDesktop(scoped("s-1", "ann", "one", agentsScope("one")));
        await("the concentrator sees ann's desktop", () -> held(a1, "ann") == 1);

        StatusRuntimeException limit = refused(broker, scoped("s-2", "ann", "two", agentsScope("two")));
        assertThat(limit.getStatus().getCode()).as("the direct broker's code for the limit").isEqualTo(Status.Code.ALREADY_EXISTS);
        assertThat(limit.getStatus().getDescription()).isEqualTo("you already hold 1 desktop in other pools, the most one user"
                + " may hold at once (limit 1); open or end it first");
        FindDesktopReply back = broker.findDesktop(scoped("s-3", "ann", "one", agentsScope("one")));
        assertThat(back.getReconnect()).as("at the limit, her own desktop of the pool back").isTrue();
        assertThat(back.getDesktop().getDesktopId()).isEqualTo(first.getDesktop().getDesktopId());
        StatusRuntimeException otherTenant = refused(broker, scoped("s-4", "ann", "two", agentsScope("two")).toBuilder()
                .setTenant(2).build());
        assertThat(otherTenant.getStatus().getDescription()).as("ann of tenant 2 is another user, not at the limit; but"
                + " the agents serve tenant 1 only").startsWith("NO_DESKTOP: ");
    }

    @Test
    void shouldHoldEveryRequestOfAConcurrentStormToItsOwnUsersLimit() throws Exception {
        Concentrator a1 = concentrator("a-1", "a");
        agent("one", 2, List.of());
        agent("two", 12, List.of());
        await("every desktop", () -> a1.load() == 14);
        SessionBroker broker = broker(); // one desktop per user
        broker.findDesktop(scoped("s-ann", "ann", "one", agentsScope("one")));
        await("the concentrator sees ann's desktop", () -> held(a1, "ann") == 1);

        // Arriving together, the requests for pool two share coalesced broadcasts; ann's (three, in turn) must
        // each see her own held count, the others theirs.
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        List<java.util.concurrent.Future<String>> others = new ArrayList<>();
        List<java.util.concurrent.Future<Status.Code>> anns = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                String user = "u-" + i;
                others.add(pool.submit(() -> {
                    go.await();
                    return broker.findDesktop(scoped("s-" + user, user, "two", agentsScope("two"))).getDesktop().getDesktopId();
                }));
            }
            for (int i = 0; i < 3; i++) {
                String session = "s-ann-" + i;
                anns.add(pool.submit(() -> {
                    go.await();
                    return refused(broker, scoped(session, "ann", "two", agentsScope("two"))).getStatus().getCode();
                }));
            }
            go.countDown();
            Set<String> placed = new HashSet<>();
            for (var f : others) placed.add(f.get(60, java.util.concurrent.TimeUnit.SECONDS));
            assertThat(placed).as("each other user a desktop of pool two, none twice").hasSize(8).allMatch(d -> d.startsWith("two/"));
            for (var f : anns) {
                assertThat(f.get(60, java.util.concurrent.TimeUnit.SECONDS)).as("ann at the limit in every request")
                        .isEqualTo(Status.Code.ALREADY_EXISTS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(held(a1, "ann")).as("nothing more placed for ann").isEqualTo(1);
    }

    @Test
    void shouldPlaceANamedDesktopOnlyWhenItIsTheUsersOrFreeInThePool() throws Exception {
        Concentrator a1 = concentrator("a-1", "a");
        agent("one", 2, List.of());
        agent("two", 1, List.of());
        await("every desktop", () -> a1.load() == 3);
        SessionBroker broker = broker();
        PoolScope one = agentsScope("one");

        FindDesktopReply named = broker.findDesktop(scoped("s-1", "ann", "one", one).toBuilder().setDesktopId("one/2").build());
        assertThat(named.getDesktop().getDesktopId()).isEqualTo("one/2");
        await("the concentrator sees it", () -> held(a1, "ann") == 1);

        StatusRuntimeException taken = refused(broker, scoped("s-2", "bob", "one", one).toBuilder().setDesktopId("one/2").build());
        assertThat(taken.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(taken.getStatus().getDescription()).isEqualTo("desktop one/2 is ASSIGNED");
        StatusRuntimeException outside = refused(broker, scoped("s-3", "bob", "one", one).toBuilder().setDesktopId("two/1").build());
        assertThat(outside.getStatus().getCode()).as("another pool's desktop").isEqualTo(Status.Code.NOT_FOUND);
        assertThat(outside.getStatus().getDescription()).isEqualTo("no desktop two/1 in pool one");
        StatusRuntimeException none = refused(broker, scoped("s-4", "bob", "one", one).toBuilder().setDesktopId("one/99").build());
        assertThat(none.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
        StatusRuntimeException limit = refused(broker, scoped("s-5", "ann", "one", one).toBuilder().setDesktopId("one/1").build());
        assertThat(limit.getStatus().getCode()).as("a free one past her limit").isEqualTo(Status.Code.ALREADY_EXISTS);
        FindDesktopReply again = broker.findDesktop(scoped("s-6", "ann", "one", one).toBuilder().setDesktopId("one/2").build());
        assertThat(again.getReconnect()).as("her own, named").isTrue();
    }

    @Test
    void shouldListWholeDesktopsWithSessionIdsHostsSizesAndLabels() throws Exception {
        Concentrator a1 = concentrator("a-1", "a"), b1 = concentrator("b-1", "b");
        agent("gpu-1", 2, List.of("gpu"));
        agent("plain-1", 1, List.of());
        await("every desktop in both sets", () -> a1.load() == 3 && b1.load() == 3);
        SessionBroker broker = broker();
        FindDesktopReply placed = broker.findDesktop(scoped("sess-ann", "ann", "plain", agentsScope("plain-1")));
        await("the concentrators see it", () -> held(a1, "ann") == 1 && held(b1, "ann") == 1);

        var mine = broker.listDesktops(io.deskgate.control.ListDesktopsRequest.newBuilder().setTenant(1).setUser("ann")
                .setScope(PoolScope.newBuilder().addLabels("gpu")).build());
        assertThat(mine.getPartial()).as("no longer partial").isFalse();
        assertThat(mine.getDesktopsList()).extracting(io.deskgate.control.Desktop::getDesktopId)
                .as("her own (in another pool) first, then the free ones of her pools").containsExactly(
                        placed.getDesktop().getDesktopId(), "gpu-1/1", "gpu-1/2");
        io.deskgate.control.Desktop own = mine.getDesktops(0);
        assertThat(own.getSessionId()).isEqualTo("sess-ann");
        assertThat(own.getHost()).isEqualTo("127.0.0.1");
        assertThat(own.getPort()).isEqualTo(placed.getDesktop().getPort()).isPositive();
        assertThat(own.getWidth()).isEqualTo(1280);
        assertThat(mine.getDesktops(1).getLabelsList()).containsExactly("gpu");

        var held = broker.listDesktops(io.deskgate.control.ListDesktopsRequest.newBuilder().setTenant(1).setHeld(true).build());
        assertThat(held.getDesktopsList()).extracting(io.deskgate.control.Desktop::getSessionId).containsExactly("sess-ann");
        StatusRuntimeException bad = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> broker.listDesktops(io.deskgate.control.ListDesktopsRequest.newBuilder().setTenant(1)
                        .setScope(PoolScope.newBuilder().addLabels("")).build()));
        assertThat(bad.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    /** How many desktops {@code user} of tenant 1 holds at {@code c}, as its FindAvailable says. */
    private static int held(Concentrator c, String user) {
        var ch = io.deskgate.control.ControlChannels.open(target(c), new ControlAuth(SECRET));
        try {
            return ConcentratorGrpc.newBlockingStub(ch).withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS)
                    .findAvailable(FindAvailableRequest.newBuilder().setTenant(1).setPool("default").setUser(user).setLimit(1).build())
                    .getHeld();
        } finally {
            io.deskgate.control.ControlChannels.close(ch, Duration.ofSeconds(1));
        }
    }

    /**
     * A concentrator that answers FindAvailable only once the broker's deadline has passed (a unary call when it is
     * cancelled; a call on the calls stream 200 ms after its {@code timeout_ms}), offering a desktop nobody has; it
     * counts what it was asked.
     */
    private static final class SlowConcentrator extends ConcentratorGrpc.ConcentratorImplBase implements AutoCloseable {
        final AtomicInteger asked = new AtomicInteger();
        final AtomicInteger answered = new AtomicInteger();
        final AtomicInteger initiations = new AtomicInteger();
        private final Server server;
        private final java.util.concurrent.ScheduledExecutorService late = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();

        SlowConcentrator() throws java.io.IOException {
            server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(this)
                    .intercept(new ControlAuth(SECRET).serverInterceptor()).build().start();
        }

        String target() {
            return "127.0.0.1:" + server.getPort();
        }

        private static FindAvailableReply ghost() {
            return FindAvailableReply.newBuilder().setConcentratorId("a-slow").addDesktops(DesktopStatus
                    .newBuilder().setDesktopId("ghost/1").setState(DesktopState.AVAILABLE).setTenant(1)
                    .setPool("default").setVersion(1)).build();
        }

        @Override
        public void findAvailable(FindAvailableRequest request, StreamObserver<FindAvailableReply> reply) {
            asked.incrementAndGet();
            Context.current().addListener(ctx -> {
                try {
                    reply.onNext(ghost());
                    reply.onCompleted();
                } catch (RuntimeException e) {
                    // The call is gone: the answer is dropped, as a late answer on the wire is.
                }
                answered.incrementAndGet();
            }, Runnable::run);
        }

        @Override
        public StreamObserver<io.deskgate.control.ConcentratorCall> calls(StreamObserver<io.deskgate.control.ConcentratorAnswer> out) {
            return new StreamObserver<>() {
                @Override
                public void onNext(io.deskgate.control.ConcentratorCall call) {
                    if (call.hasFind()) {
                        asked.incrementAndGet();
                        late.schedule(() -> {
                            synchronized (out) {
                                out.onNext(io.deskgate.control.ConcentratorAnswer.newBuilder().setCallId(call.getCallId())
                                        .setFound(ghost()).build());
                            }
                            answered.incrementAndGet();
                        }, call.getTimeoutMs() + 200, java.util.concurrent.TimeUnit.MILLISECONDS);
                    } else {
                        initiations.incrementAndGet();
                        synchronized (out) {
                            out.onNext(io.deskgate.control.ConcentratorAnswer.newBuilder().setCallId(call.getCallId())
                                    .setError(io.deskgate.control.CallError.newBuilder().setCode(Status.Code.ABORTED.value())).build());
                        }
                    }
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {}
            };
        }

        @Override
        public void initiateSession(InitiateSessionRequest request, StreamObserver<InitiateSessionReply> reply) {
            initiations.incrementAndGet();
            reply.onError(Status.ABORTED.asRuntimeException());
        }

        @Override
        public void close() {
            late.shutdownNow();
            server.shutdownNow();
        }
    }
}
