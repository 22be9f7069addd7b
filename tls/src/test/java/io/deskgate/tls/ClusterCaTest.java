package io.deskgate.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.DeskgateException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ClusterCa}: the control plane's certificate authority and the role certificates it issues. */
class ClusterCaTest {
    @TempDir Path dir;

    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");

    /** Validates {@code leaf} against {@code ca} as a TLS stack would, at {@code at}. */
    private static void validate(X509Certificate leaf, X509Certificate ca, Instant at) throws Exception {
        PKIXParameters p = new PKIXParameters(Set.of(new TrustAnchor(ca, null)));
        p.setRevocationEnabled(false);
        p.setDate(Date.from(at));
        CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(List.of(leaf)), p);
    }

    @Test
    void shouldCreateTheCaOwnerOnlyAtFirstStartAndReuseItAfter() throws Exception {
        Path caDir = dir.resolve("control-ca");
        ClusterCa first = ClusterCa.initOrLoad(caDir, NOW);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(caDir))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(caDir.resolve(ClusterCa.CA_KEY)))).isEqualTo("rw-------");
        assertThat(Files.readString(caDir.resolve(ClusterCa.CA_KEY))).startsWith("-----BEGIN PRIVATE KEY-----");
        X509Certificate ca = first.certificate();
        assertThat(ca.getBasicConstraints()).as("a CA, path length 0").isEqualTo(0);
        assertThat(ca.getPublicKey().getAlgorithm()).isEqualTo("EC");
        assertThat(ca.getNotAfter().toInstant()).isAfter(NOW.plus(ClusterCa.CA_VALIDITY).minusSeconds(1));
        try (var files = Files.list(caDir)) {
            assertThat(files.map(f -> f.getFileName().toString())).as("no temporary file left")
                    .containsExactlyInAnyOrder(ClusterCa.CA_CERT, ClusterCa.CA_KEY);
        }
        ClusterCa again = ClusterCa.initOrLoad(caDir, NOW.plus(Duration.ofDays(1)));
        assertThat(again.certificate()).isEqualTo(ca);
    }

    @Test
    void shouldIssueARoleCertificateThatChainsToTheCaAndNamesRoleIdAndHosts() throws Exception {
        ClusterCa ca = ClusterCa.initOrLoad(dir.resolve("ca"), NOW);
        TlsCertificates.KeyAndChain issued = ca.issue("broker", "broker-2", List.of("b2.example", "10.0.0.7"), NOW,
                ClusterCa.ROLE_VALIDITY);
        X509Certificate leaf = issued.chain().getFirst();
        assertThat(issued.chain().getLast()).isEqualTo(ca.certificate());
        validate(leaf, ca.certificate(), NOW.plus(Duration.ofDays(89)));
        assertThat(ClusterCa.role(leaf)).contains("broker");
        assertThat(leaf.getSubjectX500Principal().getName()).contains("CN=broker-2", "OU=broker", "O=Deskgate cluster");
        assertThat(leaf.getSubjectAlternativeNames().stream().map(l -> (Object) l.get(1))).containsExactly("b2.example", "10.0.0.7");
        assertThat(leaf.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
        assertThat(leaf.getBasicConstraints()).as("not a CA").isEqualTo(-1);
        assertThat(Duration.between(NOW, leaf.getNotAfter().toInstant())).isEqualTo(ClusterCa.ROLE_VALIDITY);
        assertThatThrownBy(() -> validate(leaf, ca.certificate(), NOW.plus(Duration.ofDays(91))))
                .as("expired after 90 days").isInstanceOf(CertPathValidatorException.class);
    }

    @Test
    void shouldNotChainACertificateOfAnotherCaWithTheSameName() throws Exception {
        ClusterCa ours = ClusterCa.initOrLoad(dir.resolve("ours"), NOW);
        ClusterCa forger = ClusterCa.initOrLoad(dir.resolve("forger"), NOW);
        assertThat(forger.certificate().getSubjectX500Principal()).isEqualTo(ours.certificate().getSubjectX500Principal());
        X509Certificate forged = forger.issue("broker", "broker", List.of("localhost"), NOW, ClusterCa.ROLE_VALIDITY).chain().getFirst();
        assertThatThrownBy(() -> validate(forged, ours.certificate(), NOW)).isInstanceOf(CertPathValidatorException.class);
    }

    @Test
    void shouldWriteTheThreeFilesOwnerOnlyAndReadThemBack() throws Exception {
        ClusterCa ca = ClusterCa.initOrLoad(dir.resolve("ca"), NOW);
        TlsCertificates.KeyAndChain issued = ca.issue("agent", "agent-1", List.of("localhost"), NOW, ClusterCa.ROLE_VALIDITY);
        ClusterCa.RoleFiles files = ClusterCa.write(issued, "agent", dir.resolve("out"));
        assertThat(files.cert()).isEqualTo(dir.resolve("out/agent.pem"));
        for (Path f : List.of(files.ca(), files.cert(), files.key())) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).as(f.toString()).isEqualTo("rw-------");
        }
        assertThat(ClusterCa.readCertificates(files.cert())).containsExactly(issued.chain().getFirst());
        assertThat(ClusterCa.readCertificates(files.ca())).containsExactly(ca.certificate());
        assertThat(ClusterCa.readPrivateKey(files.key())).isEqualTo(issued.key());
        assertThat(Files.readString(files.ca())).doesNotContain("PRIVATE KEY");
    }

    @Test
    void shouldRefuseBadRequestsWithAClearMessage() {
        ClusterCa ca = ClusterCa.initOrLoad(dir.resolve("ca"), NOW);
        assertThatThrownBy(() -> ca.issue("gateway", "g", List.of("localhost"), NOW, ClusterCa.ROLE_VALIDITY))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown role 'gateway'");
        assertThatThrownBy(() -> ca.issue("agent", "a b", List.of("localhost"), NOW, ClusterCa.ROLE_VALIDITY))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("id must be");
        assertThatThrownBy(() -> ca.issue("agent", "a", List.of(), NOW, ClusterCa.ROLE_VALIDITY))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one host");
        assertThatThrownBy(() -> ca.issue("agent", "a", List.of("bad_host!"), NOW, ClusterCa.ROLE_VALIDITY))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a DNS name: bad_host!");
        assertThatThrownBy(() -> ca.issue("agent", "a", List.of("localhost"), NOW, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("validity");
    }

    @Test
    void shouldRefuseAHalfCaOrAKeyThatIsNotTheCertificates() throws Exception {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        ClusterCa.initOrLoad(a, NOW);
        ClusterCa.initOrLoad(b, NOW);
        Files.copy(b.resolve(ClusterCa.CA_KEY), a.resolve(ClusterCa.CA_KEY), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> ClusterCa.load(a)).isInstanceOf(DeskgateException.class).hasMessageContaining("is not the key of");
        Files.delete(b.resolve(ClusterCa.CA_KEY));
        assertThatThrownBy(() -> ClusterCa.initOrLoad(b, NOW)).as("never replaced silently")
                .isInstanceOf(DeskgateException.class).hasMessageContaining("needs both");
        ClusterCa.initOrLoad(dir.resolve("c"), NOW);
        assertThatThrownBy(() -> ClusterCa.initOrLoad(dir.resolve("c"), NOW.plus(ClusterCa.CA_VALIDITY).plus(Duration.ofDays(1))))
                .isInstanceOf(DeskgateException.class).hasMessageContaining("expired");
    }
}
