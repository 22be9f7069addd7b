package io.deskgate.frontdoor;

import com.fasterxml.jackson.databind.JsonNode;
import io.deskgate.common.Secrets;
import io.deskgate.store.Database;
import io.deskgate.store.Registration;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.RegistryHeartbeat;
import io.deskgate.store.RegistryStore;
import io.deskgate.store.RegistryTiming;
import io.deskgate.store.Role;
import io.deskgate.store.EntitlementStore;
import io.deskgate.store.PoolStore;
import io.deskgate.store.UserStore;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.IntSupplier;

/**
 * A real frontdoor on 127.0.0.1 port 0 over a real embedded PostgreSQL, with a fake broker and engine on
 * real gRPC servers, a listening socket standing in for the gateway's WebSocket port (its health probe
 * connects there), engine and gateway registered in the registry with real heartbeats, and metrics on a
 * free loopback port. Users: alice/alice-pw, bob/bob-pw, both entitled to the default pool, which holds the
 * desktops of agent {@value FakeControlPlane#AGENT}. Test fixture.
 */
final class FrontdoorFixture implements AutoCloseable {
    final ServerSocket gateway = acceptingSocket();
    final String gatewayWs = "ws://127.0.0.1:" + gateway.getLocalPort() + "/stream";

    final byte[] tokenKey = Secrets.randomBytes(32);
    final byte[] streamMaster = Secrets.randomBytes(32);
    /** The fleet's heartbeat timing in the frontdoor tests: frequent heartbeats, a timeout no busy machine reaches. */
    static final RegistryTiming TIMING = new RegistryTiming(Duration.ofMillis(500), Duration.ofSeconds(30));

    final Database db;
    final FakeControlPlane control;
    final RegistryHeartbeat engineHeartbeat;
    final RegistryHeartbeat gatewayHeartbeat;
    final Frontdoor frontdoor;
    final HttpClient http = HttpClient.newHttpClient();

    FrontdoorFixture(Path dir) throws IOException {
        db = Database.embedded(dir);
        UserStore users = new UserStore(db.dataSource());
        PasswordHasher hasher = new PasswordHasher();
        users.create(1, "alice", hasher.hash("alice-pw"), false);
        users.create(1, "bob", hasher.hash("bob-pw"), false);
        // As deskgate up does: the default pool holds agent-1's desktops, and the users so far are entitled.
        AdminBootstrap.ensureDefaultPool(users, new PoolStore(db.dataSource()), new EntitlementStore(db.dataSource()),
                List.of(FakeControlPlane.AGENT));
        control = new FakeControlPlane();
        engineHeartbeat = engine(db, "engine-1", control.engineTarget(), () -> control.connections);
        gatewayHeartbeat = gateway(db, "gateway-1", gatewayWs, "127.0.0.1:40000");
        frontdoor = Frontdoor.start(FrontdoorConfig.builder().dataDir(dir).port(0).metricsPort(0).build(), db, tokenKey, streamMaster,
                FakeControlPlane.CONTROL_SECRET, control.brokerTarget(), TIMING);
    }

    /** Registers an engine at {@code grpcTarget} and keeps it heartbeating with {@code load}, as a real engine's process does. */
    static RegistryHeartbeat engine(Database db, String id, String grpcTarget, IntSupplier load) {
        return RegistryHeartbeat.start(new RegistryStore(db.dataSource()), new Registration(Role.ENGINE, id, UUID.randomUUID(),
                Map.of(RegistryEntry.GRPC, grpcTarget), 64, "test", Map.of()), load, TIMING);
    }

    /** Registers a broker at {@code grpcTarget} and keeps it heartbeating with {@code load}, as a real broker's process does. */
    static RegistryHeartbeat broker(Database db, String id, String grpcTarget, IntSupplier load) {
        return RegistryHeartbeat.start(new RegistryStore(db.dataSource()), new Registration(Role.BROKER, id, UUID.randomUUID(),
                Map.of(RegistryEntry.GRPC, grpcTarget), 256, "test", Map.of()), load, TIMING);
    }

    /** Registers a gateway and keeps it heartbeating with no sessions, as a real gateway's process does. */
    static RegistryHeartbeat gateway(Database db, String id, String wsUrl, String udp) {
        return RegistryHeartbeat.start(new RegistryStore(db.dataSource()), new Registration(Role.GATEWAY, id, UUID.randomUUID(),
                Map.of(RegistryEntry.WS, wsUrl, RegistryEntry.UDP, udp), 1000, "test", Map.of()), () -> 0, TIMING);
    }

    /** A loopback socket that accepts and closes every connection (a stand-in for a role's port). */
    static ServerSocket acceptingSocket() throws IOException {
        ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("fake-role-port").start(() -> {
            while (!s.isClosed()) {
                try {
                    s.accept().close();
                } catch (IOException e) {
                    // closed: the loop ends
                }
            }
        });
        return s;
    }

    HttpResponse<String> send(String method, String path, String body, String cookie) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(frontdoor.url().resolve(path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (!method.equals("GET")) b.header("Content-Type", "application/json");
        if (cookie != null) b.header("Cookie", cookie);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Logs in and returns the {@code name=value} of the login cookie. */
    String login(String user, String password) throws IOException, InterruptedException {
        HttpResponse<String> r = send("POST", "/api/login",
                "{\"username\":\"" + user + "\",\"password\":\"" + password + "\"}", null);
        if (r.statusCode() != 200) throw new AssertionError("login of " + user + " failed: " + r.statusCode() + " " + r.body());
        String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        return Json.MAPPER.readTree(r.body());
    }

    URI url() { return frontdoor.url(); }

    @Override
    public void close() throws Exception {
        frontdoor.close();
        engineHeartbeat.close();
        gatewayHeartbeat.close();
        control.close();
        db.close();
        gateway.close();
    }

    /** {@code GET /metrics} from the loopback metrics port. */
    String metrics() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(frontdoor.metricsUrl().orElseThrow()).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new AssertionError("metrics answered " + r.statusCode());
        return r.body();
    }

    /** The value of a counter or gauge line {@code name} in the metrics text; 0 when absent. */
    double metric(String name) throws IOException, InterruptedException {
        for (String line : metrics().split("\n")) {
            if (line.startsWith(name + " ")) return Double.parseDouble(line.substring(name.length() + 1).trim());
        }
        return 0;
    }
}
