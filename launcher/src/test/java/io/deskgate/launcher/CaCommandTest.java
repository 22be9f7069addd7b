package io.deskgate.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.tls.ClusterCa;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code deskgate ca init} and {@code deskgate ca issue}: the files, their permissions, and a certificate that chains. */
class CaCommandTest {
    @TempDir Path dir;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void shouldInitACaAndIssueARoleCertificateThatChainsToIt() throws Exception {
        Path ca = dir.resolve("fleet-ca");
        assertThat(run("ca", "init", "--dir", ca.toString())).as(err.toString()).isZero();
        assertThat(mode(ca)).isEqualTo("rwx------");
        assertThat(mode(ca.resolve("ca.key"))).isEqualTo("rw-------");
        assertThat(out.toString()).contains("Cluster CA in " + ca);

        Path outDir = dir.resolve("broker-2");
        assertThat(run("ca", "issue", "broker", "--id", "broker-2", "--host", "b2.example", "--host", "10.1.2.3",
                "--ca-dir", ca.toString(), "--out", outDir.toString())).as(err.toString()).isZero();
        assertThat(mode(outDir)).isEqualTo("rwx------");
        for (String f : List.of("ca.pem", "broker.pem", "broker.key")) assertThat(mode(outDir.resolve(f))).as(f).isEqualTo("rw-------");
        assertThat(out.toString()).contains("control.tls.cert: " + outDir.resolve("broker.pem"));

        X509Certificate caCert = ClusterCa.readCertificates(ca.resolve("ca.pem")).getFirst();
        assertThat(ClusterCa.readCertificates(outDir.resolve("ca.pem"))).containsExactly(caCert);
        X509Certificate leaf = ClusterCa.readCertificates(outDir.resolve("broker.pem")).getFirst();
        PKIXParameters p = new PKIXParameters(Set.of(new TrustAnchor(caCert, null)));
        p.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(List.of(leaf)), p);
        assertThat(ClusterCa.role(leaf)).contains("broker");
        assertThat(leaf.getSubjectX500Principal().getName()).contains("CN=broker-2");
        assertThat(leaf.getSubjectAlternativeNames().stream().map(l -> (Object) l.get(1))).containsExactly("b2.example", "10.1.2.3");
        Duration validity = Duration.between(Instant.now(), leaf.getNotAfter().toInstant());
        assertThat(validity).isBetween(Duration.ofDays(89), Duration.ofDays(90));
        assertThat(ClusterCa.readPrivateKey(outDir.resolve("broker.key")).getAlgorithm()).isEqualTo("EC");
    }

    @Test
    void shouldUseTheDataDirectorysCaByDefaultAndRefuseBadRequestsInOneLine() throws Exception {
        Path data = dir.resolve("data");
        assertThat(run("ca", "issue", "agent", "--data", data.toString(), "--out", dir.resolve("a").toString())).isEqualTo(1);
        assertThat(err.toString()).startsWith("deskgate: no cluster CA in " + data.resolve("control-ca")).hasLineCount(1);
        err.getBuffer().setLength(0);

        assertThat(run("ca", "init", "--data", data.toString())).isZero();
        assertThat(data.resolve("control-ca/ca.pem")).isRegularFile();
        assertThat(run("ca", "issue", "agent", "--data", data.toString(), "--out", dir.resolve("a").toString())).isZero();
        X509Certificate leaf = ClusterCa.readCertificates(dir.resolve("a/agent.pem")).getFirst();
        assertThat(leaf.getSubjectAlternativeNames().stream().map(l -> (Object) l.get(1))).contains("localhost", "127.0.0.1");

        assertThat(run("ca", "issue", "gateway", "--data", data.toString(), "--out", dir.resolve("g").toString())).isEqualTo(1);
        assertThat(err.toString()).contains("unknown role 'gateway'").hasLineCount(1);
        assertThat(dir.resolve("g")).doesNotExist();
    }
}
