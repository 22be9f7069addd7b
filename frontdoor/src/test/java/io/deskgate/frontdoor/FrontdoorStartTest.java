package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Secrets;
import io.deskgate.store.Database;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.RegistryStore;
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
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
        return Frontdoor.start(c, db, Secrets.randomBytes(32), Secrets.randomBytes(32), Secrets.randomBytes(32),
                "127.0.0.1:1",
                List.of(new Frontdoor.EngineEndpoint("engine-x", "127.0.0.1:2")),
                List.of(new Frontdoor.GatewayEndpoint("gateway-x", "wss://127.0.0.1:3/stream", "127.0.0.1", 4)));
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
    void shouldRegisterOnlyGatewaysWithoutAFakeLoad() throws Exception {
        try (Frontdoor fd = start(FrontdoorConfig.builder().dataDir(dir).port(0).build())) {
            RegistryStore registry = new RegistryStore(db.dataSource());
            try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
                try (ResultSet rs = st.executeQuery("SELECT DISTINCT kind FROM registry")) {
                    List<String> kinds = new ArrayList<>();
                    while (rs.next()) kinds.add(rs.getString(1));
                    assertThat(kinds).as("engine rows were written and never read").containsExactly("gateway");
                }
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM information_schema.columns"
                        + " WHERE table_name = 'registry' AND column_name = 'load'")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).as("no load column: nothing measured it").isZero();
                }
            }
            RegistryEntry gw = registry.list(RegistryEntry.GATEWAY).stream().filter(e -> e.id().equals("gateway-x"))
                    .findFirst().orElseThrow();
            assertThat(gw.field(RegistryEntry.WS_URL)).contains("wss://127.0.0.1:3/stream");
            assertThat(gw.field(RegistryEntry.UDP_PORT)).contains("4");
        }
    }

    @Test
    void shouldServeHttpsWithHstsAndSecureCookieWhenGivenACertificate(@TempDir Path tlsDir) throws Exception {
        TlsCertificates.KeyAndChain generated = TlsCertificates.selfSigned(tlsDir, "127.0.0.1", Instant.now());
        Path pem = tlsDir.resolve("frontdoor.pem");
        assertThat(pem).exists();
        assertThat(TlsCertificates.selfSigned(tlsDir, "127.0.0.1", Instant.now()).chain().getFirst())
                .as("reused on the next start").isEqualTo(generated.chain().getFirst());

        try (Frontdoor fd = start(FrontdoorConfig.builder().dataDir(dir).port(0).tlsPem(pem).build())) {
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
