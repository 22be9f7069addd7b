package io.deskgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.Secrets;
import io.deskgate.common.Status;
import io.deskgate.tls.ServerTls;
import io.deskgate.tls.TlsCertificates;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway serves WSS with the {@link ServerTls} the frontdoor serves HTTPS with (the launcher's wiring). */
class GatewayTlsTest {
    @TempDir Path data;

    private static HttpClient trusting(Path pem) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("deskgate", TlsCertificates.loadPem(pem).chain().getFirst());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ctx).build();
    }

    @Test
    void shouldServeWssWithTheSelfSignedCertificateAndCheckTokensOverIt() throws Exception {
        Path pem = ServerTls.selfSignedPem("127.0.0.1", data);
        SSLContext server = ServerTls.fromPem(pem).sslContext().orElseThrow();
        try (Gateway g = Gateway.start(GatewayConfig.builder().tokenKey(Secrets.randomBytes(32))
                .streamMasterSecret(Secrets.randomBytes(32)).tls(server).build())) {
            assertThat(g.wsUrl("127.0.0.1")).startsWith("wss://127.0.0.1:");
            TestBrowser b = TestBrowser.open(trusting(pem), g, "v1.bogus.token");
            try {
                assertThat(b.awaitClose()).as("upgraded over TLS, then refused for its token")
                        .isEqualTo(Status.UNAUTHORIZED.wsCloseCode());
            } finally {
                b.ws.abort();
            }
            assertThatThrownBy(() -> TestBrowser.open(HttpClient.newHttpClient(), g, "v1.bogus." + UUID.randomUUID()))
                    .as("a client that does not trust the certificate gets no connection").isInstanceOf(RuntimeException.class);
        }
    }
}
