package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.deskgate.common.Secrets;
import io.deskgate.control.DesktopState;
import io.deskgate.engine.Engine;
import io.deskgate.engine.EngineConfig;
import io.deskgate.engine.InstanceLimits;
import io.deskgate.store.Database;
import io.deskgate.store.EntitlementStore;
import io.deskgate.store.PoolStore;
import io.deskgate.store.DrainStore;
import io.deskgate.store.Registration;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.RegistryHeartbeat;
import io.deskgate.store.RegistryStore;
import io.deskgate.store.RegistryTiming;
import io.deskgate.store.Role;
import io.deskgate.store.SessionRow;
import io.deskgate.store.SessionStore;
import io.deskgate.store.TenantStore;
import io.deskgate.store.UserStore;
import io.deskgate.testkit.Conditions;
import io.deskgate.control.Desktop;
import io.deskgate.testkit.RfbTestDesktop;
import io.deskgate.engine.TranscodingInstance;
import io.deskgate.tokens.TokenClaims;
import io.deskgate.tokens.TokenSigner;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fleet's engine choice end to end (issue 9, seed 000): two in-process frontdoors on one embedded store,
 * two real engines (registered with real heartbeats publishing their true tallies) and a fake broker whose
 * desktop is an in-process RFB server ({@link RfbTestDesktop}: no Xvnc, so the machine's other helpers are not
 * disturbed). Balance, drain, a second connection of one unique socket, foreign sockets, an engine that
 * fails its launch.
 */
class FleetTallyTest {
    private static final Duration DEADLINE = Duration.ofSeconds(120);
    private static final InstanceLimits PATIENT = InstanceLimits.builder().attachGrace(Duration.ofMinutes(30))
            .peerLost(Duration.ofMinutes(30)).build();

    @TempDir static Path dir;
    static Database db;
    static FakeControlPlane control;
    static RfbTestDesktop desktop;
    static DatagramSocket udpSink;
    static ServerSocket wsPort;
    static Engine engine1;
    static Engine engine2;
    static final List<AutoCloseable> closeables = new ArrayList<>();
    /**
     * The fleet's timing here: engines publish their tallies once a minute, so that every launch of a test runs
     * between two updates of the published tallies, the case the frontdoors' counts of their own launches in
     * flight are for (without them, every session of a test would go to the engine that sorts first).
     */
    static final RegistryTiming SLOW = new RegistryTiming(Duration.ofSeconds(60), Duration.ofSeconds(180));
    static RegistryHeartbeat heartbeat1;
    static RegistryHeartbeat heartbeat2;
    static Frontdoor fd1;
    static byte[] tokenKey;
    static Frontdoor fd2;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        db = Database.embedded(dir.resolve("db"));
        UserStore users = new UserStore(db.dataSource());
        PasswordHasher hasher = new PasswordHasher();
        users.create(1, "alice", hasher.hash("alice-pw"), false);
        users.create(1, "bob", hasher.hash("bob-pw"), false);
        users.create(1, "root", hasher.hash("root-pw-long"), true);
        int acme = new TenantStore(db.dataSource()).create("acme").id();
        users.create(acme, "alice", hasher.hash("acme-alice-pw"), false);
        AdminBootstrap.ensureDefaultPool(users, new PoolStore(db.dataSource()), new EntitlementStore(db.dataSource()),
                List.of(FakeControlPlane.AGENT));
        control = new FakeControlPlane();
        desktop = new RfbTestDesktop(1024, 768);
        control.desktop = FakeControlPlane.desktop("agent-1/1", DesktopState.ASSIGNED, "alice").toBuilder()
                .setHost(desktop.host()).setPort(desktop.port()).build();
        udpSink = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        wsPort = FrontdoorFixture.acceptingSocket();
        engine1 = engine("engine-1");
        engine2 = engine("engine-2");
        closeables.add(FrontdoorFixture.gateway(db, "gateway-1", "ws://127.0.0.1:" + wsPort.getLocalPort() + "/stream",
                "127.0.0.1:" + udpSink.getLocalPort()));
        tokenKey = Secrets.randomBytes(32);
        byte[] streamMaster = Secrets.randomBytes(32);
        fd1 = Frontdoor.start(FrontdoorConfig.builder().dataDir(dir.resolve("fd1")).port(0).build(), db, tokenKey, streamMaster,
                FakeControlPlane.CONTROL_SECRET, control.brokerTarget(), SLOW);
        fd2 = Frontdoor.start(FrontdoorConfig.builder().dataDir(dir.resolve("fd2")).port(0).build(), db, tokenKey, streamMaster,
                FakeControlPlane.CONTROL_SECRET, control.brokerTarget(), SLOW);
    }

    /** (Re)registers both engines: each row shows the engine's true tally now, and keeps it for a minute. */
    private static void publish() {
        if (heartbeat1 != null) heartbeat1.close();
        if (heartbeat2 != null) heartbeat2.close();
        heartbeat1 = slowHeartbeat("engine-1", engine1);
        heartbeat2 = slowHeartbeat("engine-2", engine2);
    }

    private static RegistryHeartbeat slowHeartbeat(String id, Engine engine) {
        return RegistryHeartbeat.start(new RegistryStore(db.dataSource()), new Registration(Role.ENGINE, id, UUID.randomUUID(),
                Map.of(RegistryEntry.GRPC, "127.0.0.1:" + engine.grpcPort()), 64, "test", Map.of()), engine::connections, SLOW);
    }

    private static Engine engine(String id) throws Exception {
        return Engine.start(EngineConfig.builder().engineId(id).controlSecret(FakeControlPlane.CONTROL_SECRET)
                .maxInstances(64).limits(PATIENT).build());
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable c : List.of(fd1, fd2)) if (c != null) c.close();
        for (AutoCloseable c : closeables) c.close();
        if (heartbeat1 != null) heartbeat1.close();
        if (heartbeat2 != null) heartbeat2.close();
        if (engine1 != null) engine1.close();
        if (engine2 != null) engine2.close();
        if (control != null) control.close();
        if (desktop != null) desktop.close();
        if (udpSink != null) udpSink.close();
        if (wsPort != null) wsPort.close();
        if (db != null) db.close();
    }

    @BeforeEach
    void clean() throws Exception {
        SessionStore sessions = new SessionStore(db.dataSource());
        for (SessionRow r : sessions.listActive()) sessions.markEnded(r.id());
        for (Engine e : List.of(engine1, engine2)) for (UUID id : e.socketTallies().keySet()) e.stop(id);
        for (String id : List.of("engine-1", "engine-2")) new DrainStore(db.dataSource()).undrain(Role.ENGINE, id);
        for (String id : List.of("gateway-1", "gateway-2")) new DrainStore(db.dataSource()).undrain(Role.GATEWAY, id);
        control.reset();
        Conditions.await("both engines are empty", DEADLINE, () -> engine1.connections() == 0 && engine2.connections() == 0);
        publish();
        assertThat(published("engine-1")).isZero();
        assertThat(published("engine-2")).isZero();
        freshViews();
    }

    /**
     * Waits until each frontdoor's view of the registry is a reading that started after now: what a frontdoor's
     * launches see of a change (a drain through another frontdoor or in the store, a registration) at the latest one
     * refresh interval later (docs/architecture.md, "The launch's store cost").
     */
    private static void freshViews() {
        for (Frontdoor fd : List.of(fd1, fd2)) {
            long started = fd.roles().readsStarted();
            Conditions.await("a reading of the registry after the change", DEADLINE, () -> fd.roles().last().reading() > started);
        }
    }

    @Test
    void fortySessionsThroughTwoFrontdoorsAreBalancedAndADrainedEngineGetsNoNewSession() throws Exception {
        String alice1 = login(fd1, "alice", "alice-pw", "default");
        String alice2 = login(fd2, "alice", "alice-pw", "default");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<HttpResponse<String>>> launches = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                Frontdoor fd = i % 2 == 0 ? fd1 : fd2;
                String cookie = i % 2 == 0 ? alice1 : alice2;
                launches.add(pool.submit(() -> send(fd, "POST", "/api/sessions", "{}", cookie)));
            }
            for (Future<HttpResponse<String>> f : launches) {
                HttpResponse<String> r = f.get();
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            }
        } finally {
            pool.shutdownNow();
        }
        Map<String, Long> byEngine = activeByEngine();
        assertThat(byEngine.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(40);
        assertThat(byEngine.getOrDefault("engine-1", 0L)).as("engine-1 of %s", byEngine).isBetween(18L, 22L);
        assertThat(byEngine.getOrDefault("engine-2", 0L)).as("engine-2 of %s", byEngine).isBetween(18L, 22L);
        assertThat(engine1.connections() + engine2.connections()).as("one instance per session").isEqualTo(40);
        assertThat(engine1.connections()).isEqualTo(byEngine.get("engine-1").intValue());

        String root = login(fd1, "root", "root-pw-long", "default");
        HttpResponse<String> drained = send(fd1, "POST", "/api/admin/drains", "{\"role\":\"engine\",\"id\":\"engine-2\"}", root);
        assertThat(drained.statusCode()).as(drained.body()).isEqualTo(200);
        assertThat(fd1.roles().view().drainedEngines()).as("a drain through this frontdoor: at once").containsExactly("engine-2");
        freshViews(); // the other frontdoor: within one refresh
        assertThat(FrontdoorFixture.json(send(fd2, "GET", "/api/admin/drains", null, login(fd2, "root", "root-pw-long", "default")))
                .get("engines").toString()).isEqualTo("[\"engine-2\"]");
        int before2 = engine2.connections();
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> r = send(i % 2 == 0 ? fd1 : fd2, "POST", "/api/sessions", "{}", i % 2 == 0 ? alice1 : alice2);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        }
        assertThat(activeByEngine().get("engine-2")).as("every new session goes to the other engine").isEqualTo(before2);
        assertThat(activeByEngine().get("engine-1")).isEqualTo(byEngine.get("engine-1") + 10);
        assertThat(engine2.connections()).as("the drained engine keeps what it serves").isEqualTo(before2);

        assertThat(send(fd1, "DELETE", "/api/admin/drains/engine/engine-2", null, root).statusCode()).isEqualTo(200);
        HttpResponse<String> bad = send(fd1, "POST", "/api/admin/drains", "{\"role\":\"broker\",\"id\":\"b\"}", root);
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(send(fd1, "POST", "/api/admin/drains", "{\"role\":\"engine\",\"id\":\"engine-1\"}", alice1).statusCode())
                .as("administrators only").isEqualTo(403);
        assertThat(FrontdoorFixture.json(send(fd1, "GET", "/api/admin/drains", null, root)).get("engines").size()).isZero();
    }

    @Test
    void secondConnectionOfAUniqueSocketGoesToItsEngineAsASecondInstanceAndOnlyItsOwnerMayOpenIt() throws Exception {
        String alice1 = login(fd1, "alice", "alice-pw", "default");
        String alice2 = login(fd2, "alice", "alice-pw", "default");
        JsonNode first = FrontdoorFixture.json(send(fd1, "POST", "/api/sessions", "{}", alice1));
        UUID socket = UUID.fromString(first.get("sessionId").asText());
        SessionRow row = new SessionStore(db.dataSource()).findById(socket).orElseThrow();
        Engine home = row.engineId().equals("engine-1") ? engine1 : engine2;
        Engine other = home == engine1 ? engine2 : engine1;
        assertThat(row.userId()).isPositive();
        assertThat(row.gatewayId()).isEqualTo("gateway-1");
        assertThat(row.desktopId()).isEqualTo("agent-1/1");
        assertThat(home.socketTallies()).containsEntry(socket, 1);

        // the second tab goes through the other frontdoor: it still lands on the socket's engine
        HttpResponse<String> second = send(fd2, "POST", "/api/sessions/" + socket + "/connections", "{}", alice2);
        assertThat(second.statusCode()).as(second.body()).isEqualTo(200);
        JsonNode s = FrontdoorFixture.json(second);
        assertThat(s.get("sessionId").asText()).isEqualTo(socket.toString());
        assertThat(s.get("token").asText()).isNotEmpty();
        String secondInstance = s.get("instanceId").asText();
        assertThat(secondInstance).isNotEqualTo(row.instanceId());
        // each tab's stream token names its own instance's stream at the gateway (docs/protocol.md §2.9)
        TokenSigner signer = new TokenSigner(tokenKey);
        assertThat(streamOf(signer, first.get("token").asText())).as("the first tab: the session's own stream").isEqualTo(socket.toString());
        assertThat(streamOf(signer, s.get("token").asText())).isEqualTo(socket + "/" + secondInstance);
        assertThat(home.instances(socket)).extracting(TranscodingInstance::instanceId).contains(secondInstance);
        List<Desktop> listed = control.desktops;
        control.desktops = List.of(control.desktop.toBuilder().setSessionId(socket.toString()).build()); // held for the socket
        HttpResponse<String> refreshed = send(fd1, "POST", "/api/sessions/" + socket + "/token?instance=" + secondInstance, null, alice1);
        assertThat(refreshed.statusCode()).as(refreshed.body()).isEqualTo(200);
        assertThat(streamOf(signer, FrontdoorFixture.json(refreshed).get("token").asText())).isEqualTo(socket + "/" + secondInstance);
        assertThat(streamOf(signer, FrontdoorFixture.json(send(fd1, "POST", "/api/sessions/" + socket + "/token", null, alice1))
                .get("token").asText())).isEqualTo(socket.toString());
        assertThat(send(fd1, "POST", "/api/sessions/" + socket + "/token?instance=" + secondInstance.toUpperCase(), null, alice1)
                .statusCode()).as("only the canonical spelling").isEqualTo(400);
        assertThat(send(fd1, "POST", "/api/sessions/" + socket + "/token?instance=x%2Fy", null, alice1).statusCode()).isEqualTo(400);
        control.desktops = listed;
        assertThat(home.socketTallies()).containsEntry(socket, 2);
        assertThat(home.connections()).isEqualTo(2);
        assertThat(other.connections()).isZero();
        assertThat(control.finds).last().satisfies(f -> {
            assertThat(f.getSessionId()).as("a fresh credential for the same socket").isEqualTo(socket.toString());
            assertThat(f.getDesktopId()).isEqualTo("agent-1/1");
        });
        publish();
        assertThat(published(row.engineId())).as("the published tally").isEqualTo(2);

        // another user's, another tenant's unique socket: 403; an unknown one: 404
        assertThat(send(fd1, "POST", "/api/sessions/" + socket + "/connections", "{}", login(fd1, "bob", "bob-pw", "default"))
                .statusCode()).isEqualTo(403);
        assertThat(send(fd2, "POST", "/api/sessions/" + socket + "/connections", "{}", login(fd2, "alice", "acme-alice-pw", "acme"))
                .statusCode()).isEqualTo(403);
        assertThat(send(fd1, "POST", "/api/sessions/" + UUID.randomUUID() + "/connections", "{}", alice1).statusCode()).isEqualTo(404);
        assertThat(home.connections()).as("no instance for a refused connection").isEqualTo(2);

        // closing: the first tab, then the last, which releases the socket
        HttpResponse<String> closeFirst = send(fd1, "DELETE", "/api/sessions/" + socket + "/connections/" + row.instanceId(), null, alice1);
        assertThat(closeFirst.statusCode()).as(closeFirst.body()).isEqualTo(200);
        assertThat(FrontdoorFixture.json(closeFirst).get("released").asBoolean()).isFalse();
        assertThat(home.socketTallies()).containsEntry(socket, 1);
        assertThat(new SessionStore(db.dataSource()).findById(socket).orElseThrow().active()).isTrue();
        assertThat(control.ends).isEmpty();
        assertThat(send(fd1, "DELETE", "/api/sessions/" + socket + "/connections/" + row.instanceId(), null, alice1).statusCode())
                .as("already closed").isEqualTo(404);

        HttpResponse<String> closeLast = send(fd2, "DELETE", "/api/sessions/" + socket + "/connections/" + secondInstance, null, alice2);
        assertThat(closeLast.statusCode()).as(closeLast.body()).isEqualTo(200);
        assertThat(FrontdoorFixture.json(closeLast).get("released").asBoolean()).isTrue();
        assertThat(home.socketTallies()).doesNotContainKey(socket);
        assertThat(home.connections()).isZero();
        assertThat(new SessionStore(db.dataSource()).findById(socket).orElseThrow().active()).as("released").isFalse();
        assertThat(control.ends).extracting(e -> e.getSessionId()).containsExactly(socket.toString());
        publish();
        assertThat(published(row.engineId())).as("the published tally").isZero();
    }

    @Test
    void anEngineThatFailsItsLaunchIsSkippedForTheNextWithinTheDeadline() throws Exception {
        // the fake engine answers its Tally (it looks alive) but fails every Launch UNAVAILABLE, as one that died
        // right after
        control.launchFailure = io.grpc.Status.UNAVAILABLE.withDescription("engine going away");
        try (RegistryHeartbeat dying = FrontdoorFixture.engine(db, "engine-0", control.engineTarget(), () -> 0)) {
            freshViews();
            // engine-0, engine-1 and engine-2 all publish 0 of 64: engine-0 comes first by id
            assertThat(published("engine-0")).isZero();
            String alice = login(fd1, "alice", "alice-pw", "default");
            HttpResponse<String> r = send(fd1, "POST", "/api/sessions", "{}", alice);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            UUID id = UUID.fromString(FrontdoorFixture.json(r).get("sessionId").asText());
            assertThat(control.launches).as("engine-0 was tried first").hasSize(1);
            assertThat(new SessionStore(db.dataSource()).findById(id).orElseThrow().engineId()).isIn("engine-1", "engine-2");
            assertThat(engine1.connections() + engine2.connections()).isEqualTo(1);
            assertThat(control.ends).as("the desktop was kept for the retry").isEmpty();
        }
    }

    @Test
    void aDrainedGatewayGetsNoNewSessionAndWithEveryGatewayDrainedTheLaunchIsOneClearError() throws Exception {
        try (RegistryHeartbeat second = FrontdoorFixture.gateway(db, "gateway-2", "ws://127.0.0.1:" + wsPort.getLocalPort() + "/s2",
                "127.0.0.1:" + udpSink.getLocalPort())) {
            String alice = login(fd1, "alice", "alice-pw", "default");
            DrainStore drains = new DrainStore(db.dataSource());
            drains.drain(Role.GATEWAY, "gateway-1", "test");
            freshViews();
            for (int i = 0; i < 2; i++) {
                HttpResponse<String> r = send(i == 0 ? fd1 : fd2, "POST", "/api/sessions", "{}", i == 0 ? alice : login(fd2, "alice", "alice-pw", "default"));
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                assertThat(FrontdoorFixture.json(r).get("gatewayUrl").asText()).endsWith("/s2");
            }
            assertThat(new SessionStore(db.dataSource()).listActive()).extracting(SessionRow::gatewayId).containsOnly("gateway-2");

            drains.drain(Role.GATEWAY, "gateway-2", "test");
            freshViews();
            int finds = control.finds.size();
            HttpResponse<String> none = send(fd1, "POST", "/api/sessions", "{}", alice);
            assertThat(none.statusCode()).isEqualTo(502);
            assertThat(none.body()).contains("UPSTREAM_UNAVAILABLE").contains("requestId"); // the log line says: no gateway is available
            assertThat(control.finds).as("no desktop reserved").hasSize(finds);
            assertThat(engine1.connections() + engine2.connections()).isEqualTo(2);
        }
    }

    /** The tally an engine last published in the registry; -1 when it is not listed. */
    private static int published(String engineId) {
        return new RegistryStore(db.dataSource()).live(Role.ENGINE, SLOW.timeout())
                .stream().filter(e -> e.id().equals(engineId)).mapToInt(e -> e.load()).findFirst().orElse(-1);
    }

    private static Map<String, Long> activeByEngine() {
        return new SessionStore(db.dataSource()).listActive().stream()
                .collect(Collectors.groupingBy(SessionRow::engineId, Collectors.counting()));
    }

    private HttpResponse<String> send(Frontdoor fd, String method, String path, String body, String cookie) throws Exception {
        URI base = fd.url();
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(DEADLINE)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (!method.equals("GET")) b.header("Content-Type", "application/json");
        if (cookie != null) b.header("Cookie", cookie);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String login(Frontdoor fd, String user, String password, String tenant) throws Exception {
        HttpResponse<String> r = send(fd, "POST", "/api/login",
                "{\"tenant\":\"" + tenant + "\",\"username\":\"" + user + "\",\"password\":\"" + password + "\"}", null);
        if (r.statusCode() != 200) throw new AssertionError("login of " + user + " failed: " + r.statusCode() + " " + r.body());
        String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    /** The stream a signed STREAM token names. */
    private static String streamOf(TokenSigner signer, String token) {
        return signer.verify(token, TokenClaims.STREAM, java.time.Instant.now()).orElseThrow().sessionId();
    }
}
