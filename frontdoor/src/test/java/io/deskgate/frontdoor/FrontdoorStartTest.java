package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Secrets;
import io.deskgate.store.Database;
import io.deskgate.store.RegistryHeartbeat;
import com.fasterxml.jackson.databind.JsonNode;
import io.deskgate.store.UserStore;
import io.deskgate.tls.TlsCertificates;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Predicate;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start-up: HTTPS, registry, port conflicts and the admin bootstrap, on one embedded PostgreSQL. */
class FrontdoorStartTest {
    @TempDir static Path dir;
    static Database db;

    @BeforeAll
    static void start() throws Exception {
        db = Database.embedded(dir);
        new UserStore(db.dataSource()).create(1, "carol", new PasswordHasher().hash("carol-pw"), false);
    }

    @AfterAll
    static void stop() {
        if (db != null) db.close();
    }

    private static Frontdoor start(FrontdoorConfig c) {
        return start(c, "127.0.0.1:1", Secrets.randomBytes(32));
    }

    private static Frontdoor start(FrontdoorConfig c, String broker, byte[] controlSecret) {
        return Frontdoor.start(c, db, Secrets.randomBytes(32), Secrets.randomBytes(32), controlSecret, broker,
                FrontdoorFixture.TIMING);
    }

    @Test
    void shouldNameHostAndPortWhenThePortIsTaken() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> start(FrontdoorConfig.builder().dataDir(dir).port(port).build()))
                    .isInstanceOf(DeskgateException.class)
                    .hasMessage("port " + port + " on 127.0.0.1 is already in use");
        }
    }

    @Test
    void shouldFollowTheEnginesAndGatewaysThatComeAndGoInTheRegistry() throws Exception {
        try (FakeControlPlane control = new FakeControlPlane(); ServerSocket gatewayPort = FrontdoorFixture.acceptingSocket();
             Frontdoor fd = start(FrontdoorConfig.builder().dataDir(dir).port(0).build(), control.brokerTarget(), FakeControlPlane.CONTROL_SECRET)) {
            HttpClient http = HttpClient.newHttpClient();
            JsonNode empty = awaitHealth(http, fd, h -> h.path("down").toString().contains("engines"));
            assertThat(empty.path("down").toString()).as("no engine, no gateway registered").contains("engines", "gateways");

            String ws = "ws://127.0.0.1:" + gatewayPort.getLocalPort() + "/stream";
            try (RegistryHeartbeat engine = FrontdoorFixture.engine(db, "engine-come", control.engineTarget(), () -> 0)) {
                RegistryHeartbeat gateway = FrontdoorFixture.gateway(db, "gateway-come", ws, "127.0.0.1:40000");
                JsonNode up = awaitHealth(http, fd, h -> h.path("status").asText().equals("ok"));
                assertThat(up.path("components").path("engine:engine-come").asText()).isEqualTo("up");
                assertThat(up.path("components").path("gateway:gateway-come").asText()).isEqualTo("up");
                HttpResponse<String> page = http.send(HttpRequest.newBuilder(fd.url()).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow())
                        .as("the live gateway's origin, also on a static file").contains("ws://127.0.0.1:" + gatewayPort.getLocalPort());

                gateway.close();
                JsonNode left = awaitHealth(http, fd, h -> !h.path("components").has("gateway:gateway-come"));
                assertThat(left.path("down").toString()).contains("gateways");
                assertThat(left.path("components").path("engine:engine-come").asText()).isEqualTo("up");
                page = http.send(HttpRequest.newBuilder(fd.url()).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow())
                        .doesNotContain("127.0.0.1:" + gatewayPort.getLocalPort());
            }
        }
    }

    private static JsonNode awaitHealth(HttpClient http, Frontdoor fd, Predicate<JsonNode> until) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(fd.url().resolve("/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            JsonNode body = Json.MAPPER.readTree(r.body());
            if (until.test(body)) return body;
            if (System.nanoTime() > deadline) throw new AssertionError("/healthz still answers " + r.body());
            Thread.sleep(100);
        }
    }

    @Test
    void shouldServeHttpsWithHstsAndSecureCookieWhenGivenACertificate(@TempDir Path tlsDir) throws Exception {
        TlsCertificates.KeyAndChain generated = TlsCertificates.selfSigned(tlsDir, "127.0.0.1", Instant.now());
        Path pem = tlsDir.resolve("frontdoor.pem");
        assertThat(pem).exists();
        assertThat(TlsCertificates.selfSigned(tlsDir, "127.0.0.1", Instant.now()).chain().getFirst())
                .as("reused on the next start").isEqualTo(generated.chain().getFirst());

        try (RegistryHeartbeat gateway = FrontdoorFixture.gateway(db, "gateway-x", "wss://127.0.0.1:3/stream", "127.0.0.1:4");
             Frontdoor fd = start(FrontdoorConfig.builder().dataDir(dir).port(0).tlsPem(pem).build())) {
            assertThat(fd.url().getScheme()).isEqualTo("https");
            HttpClient http = HttpClient.newBuilder().sslContext(trusting(pem)).build();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(fd.url().resolve("/api/login"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"username\":\"carol\",\"password\":\"carol-pw\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Set-Cookie").orElseThrow()).contains("; Secure");
            assertThat(r.headers().firstValue("Strict-Transport-Security")).contains("max-age=31536000");
            assertThat(r.headers().firstValue("Content-Security-Policy").orElseThrow()).contains("wss://127.0.0.1:3");
        }
    }

    @Test
    void adminBootstrapReturnsAGeneratedPasswordOnlyOnce() {
        UserStore users = new UserStore(db.dataSource());
        PasswordHasher hasher = new PasswordHasher();
        String generated = AdminBootstrap.ensureAdmin(users, Optional.empty());
        assertThat(generated).hasSize(AdminBootstrap.GENERATED_PASSWORD_CHARS);
        assertThat(hasher.verify(generated, users.find(1, "admin").orElseThrow().passwordHash())).isTrue();
        assertThat(users.find(1, "admin").orElseThrow().admin()).isTrue();

        assertThat(AdminBootstrap.ensureAdmin(users, Optional.empty())).isEmpty();
        assertThat(hasher.verify(generated, users.find(1, "admin").orElseThrow().passwordHash())).isTrue();

        assertThat(AdminBootstrap.ensureAdmin(users, Optional.of("chosen-pw"))).isEmpty();
        assertThat(hasher.verify("chosen-pw", users.find(1, "admin").orElseThrow().passwordHash())).isTrue();
    }

    private static SSLContext trusting(Path pem) throws Exception {
        String text = Files.readString(pem);
        String certPem = text.substring(text.indexOf("-----BEGIN CERTIFICATE-----"));
        X509Certificate cert;
        try (InputStream in = new java.io.ByteArrayInputStream(certPem.getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("deskgate", cert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}
