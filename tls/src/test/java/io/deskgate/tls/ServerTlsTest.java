package io.deskgate.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The TLS material the frontdoor and the gateway serve: none on loopback, else the self-signed certificate or a PEM. */
class ServerTlsTest {
    @TempDir Path dir;

    @Test
    void selfSignedCertificateNamesLoopbackAddresses() throws Exception {
        X509Certificate cert = TlsCertificates.selfSigned(dir, "127.0.0.1", Instant.now()).chain().getFirst();
        List<Object> names = cert.getSubjectAlternativeNames().stream().map(l -> (Object) l.get(1)).toList();
        assertThat(names).contains("localhost", "127.0.0.1");
        assertThat(cert.getNotAfter().toInstant()).isAfter(Instant.now().plus(TlsCertificates.RENEW_BEFORE));
        assertThat(Files.readString(dir.resolve(ServerTls.SELF_SIGNED_PEM))).contains("-----BEGIN PRIVATE KEY-----");
    }

    @Test
    void loopbackBindNeedsNoTls() {
        assertThat(ServerTls.forBindHost("127.0.0.1", dir).enabled()).isFalse();
        assertThat(ServerTls.forBindHost("localhost", dir).enabled()).isFalse();
        assertThat(ServerTls.forBindHost("::1", dir).enabled()).isFalse();
        assertThat(dir.resolve("tls")).as("nothing generated for loopback").doesNotExist();
    }

    @Test
    void shouldServeTheSelfSignedPemItGenerated() throws Exception {
        Path pem = ServerTls.selfSignedPem("127.0.0.1", dir);
        assertThat(pem).isEqualTo(dir.resolve("tls").resolve(ServerTls.SELF_SIGNED_PEM)).isRegularFile();
        String first = Files.readString(pem);
        assertThat(ServerTls.fromPem(pem).sslContext()).isPresent();
        ServerTls.selfSignedPem("127.0.0.1", dir);
        assertThat(Files.readString(pem)).as("reused at the next start, not regenerated").isEqualTo(first);
    }
}
