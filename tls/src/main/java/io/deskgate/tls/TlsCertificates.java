package io.deskgate.tls;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Secrets;
import io.deskgate.common.Status;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * TLS key material in PEM files: loads a private key with its certificate chain, and creates the
 * self-signed certificate (EC P-256, SAN = this host's names and addresses) that a fresh installation
 * serves until an operator configures a real one. Stateless; thread-safe.
 */
public final class TlsCertificates {
    public static final Duration SELF_SIGNED_VALIDITY = Duration.ofDays(825);
    /** A stored self-signed certificate closer than this to expiry is replaced at start. */
    public static final Duration RENEW_BEFORE = Duration.ofDays(30);

    /** A private key and its certificate chain, leaf first. */
    public record KeyAndChain(PrivateKey key, List<X509Certificate> chain) {}

    private TlsCertificates() {}

    /** Reads a PEM file holding one private key and at least one certificate. */
    public static KeyAndChain loadPem(Path pem) {
        PrivateKey key = null;
        List<X509Certificate> chain = new ArrayList<>();
        JcaPEMKeyConverter keys = new JcaPEMKeyConverter();
        JcaX509CertificateConverter certs = new JcaX509CertificateConverter();
        try (Reader r = Files.newBufferedReader(pem, StandardCharsets.US_ASCII); PEMParser parser = new PEMParser(r)) {
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                switch (o) {
                    case PrivateKeyInfo info -> key = keys.getPrivateKey(info);
                    case PEMKeyPair pair -> key = keys.getKeyPair(pair).getPrivate();
                    case X509CertificateHolder holder -> chain.add(certs.getCertificate(holder));
                    default -> { /* parameters and other blocks are not needed */ }
                }
            }
        } catch (IOException | GeneralSecurityException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "cannot read TLS PEM file " + pem + ": " + e.getMessage(), e);
        }
        if (key == null || chain.isEmpty()) {
            throw new DeskgateException(Status.INTERNAL_ERROR,
                    "TLS PEM file " + pem + " must hold a private key and a certificate");
        }
        return new KeyAndChain(key, List.copyOf(chain));
    }

    /**
     * The self-signed certificate under {@code dir}, created if missing or near expiry. The file is
     * readable by its owner only.
     */
    public static KeyAndChain selfSigned(Path dir, String bindHost, Instant now) {
        Path pem = dir.resolve(ServerTls.SELF_SIGNED_PEM);
        if (Files.exists(pem)) {
            KeyAndChain existing = loadPem(pem);
            if (existing.chain().getFirst().getNotAfter().toInstant().isAfter(now.plus(RENEW_BEFORE))) return existing;
        }
        try {
            // Owner-only: the directory holds the private key.
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            KeyAndChain created = generate(bindHost, now);
            Path tmp = Files.createTempFile(dir, "frontdoor", ".pem.tmp");
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: rely on the directory's protection
            }
            Files.writeString(tmp, toPem(created), StandardCharsets.US_ASCII);
            Files.move(tmp, pem, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return created;
        } catch (IOException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "cannot write the TLS certificate under " + dir + ": " + e.getMessage(), e);
        }
    }

    public static SSLContext sslContext(KeyAndChain material) {
        try {
            char[] password = Secrets.randomPassword(24).toCharArray();
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("deskgate", material.key(), password, material.chain().toArray(X509Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, password);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "cannot build the TLS context: " + e.getMessage(), e);
        }
    }

    /** This host's names and addresses for the certificate's subject alternative names. */
    static List<GeneralName> subjectAltNames(String bindHost) {
        Set<String> dns = new LinkedHashSet<>(List.of("localhost"));
        Set<String> ips = new LinkedHashSet<>(List.of("127.0.0.1", "::1"));
        try {
            InetAddress local = InetAddress.getLocalHost();
            dns.add(local.getHostName());
            dns.add(local.getCanonicalHostName());
        } catch (IOException e) {
            // no resolvable host name: localhost and the addresses remain
        }
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                    String ip = a.getHostAddress();
                    int zone = ip.indexOf('%');
                    ips.add(zone < 0 ? ip : ip.substring(0, zone));
                }
            }
        } catch (SocketException e) {
            // interfaces unreadable: keep what we have
        }
        if (isIpLiteral(bindHost)) ips.add(bindHost); else if (!bindHost.isBlank()) dns.add(bindHost);
        List<GeneralName> names = new ArrayList<>();
        dns.stream().filter(d -> !isIpLiteral(d)).forEach(d -> names.add(new GeneralName(GeneralName.dNSName, d)));
        ips.forEach(ip -> names.add(new GeneralName(GeneralName.iPAddress, ip)));
        return names;
    }

    static boolean isIpLiteral(String host) {
        return host.matches("[0-9.]+") || host.contains(":");
    }

    private static KeyAndChain generate(String bindHost, Instant now) {
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
            gen.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair pair = gen.generateKeyPair();
            X500Name subject = new X500Name("CN=Deskgate self-signed");
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject,
                    new BigInteger(1, Secrets.randomBytes(16)), Date.from(now.minus(Duration.ofMinutes(5))),
                    Date.from(now.plus(SELF_SIGNED_VALIDITY)), subject, pair.getPublic());
            b.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(subjectAltNames(bindHost).toArray(GeneralName[]::new)));
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            X509CertificateHolder holder = b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()));
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(holder);
            return new KeyAndChain(pair.getPrivate(), List.of(cert));
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "cannot create a self-signed certificate: " + e.getMessage(), e);
        }
    }

    private static String toPem(KeyAndChain material) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            writePkcs8(w, material.key());
            for (X509Certificate c : material.chain()) w.writeObject(c);
        }
        return out.toString();
    }

    /** Writes {@code key} as an unencrypted PKCS#8 PEM block (what gRPC's and Netty's key managers read). */
    static void writePkcs8(Writer w, PrivateKey key) throws IOException {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded());
        w.write("-----BEGIN PRIVATE KEY-----\n" + b64 + "\n-----END PRIVATE KEY-----\n");
    }
}
