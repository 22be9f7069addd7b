package io.deskgate.tls;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Secrets;
import io.deskgate.common.Status;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The cluster CA of the control plane (issue 9): a self-signed EC P-256 certificate authority whose
 * certificates the roles present to each other over mutual TLS when they run on different hosts. It
 * lives in one directory ({@value #CA_CERT} and {@value #CA_KEY}, the directory {@code 0700}, the key
 * {@code 0600}): {@code deskgate up} creates it under its data directory at first start, {@code deskgate
 * ca init --dir D} anywhere. A role certificate ({@link #issue}) names the role in the subject's OU and
 * the id in its CN, its hosts (DNS names and IP addresses) in the subject alternative names, is good for
 * {@link #ROLE_VALIDITY} by default, and serves as both a TLS server and a TLS client certificate.
 *
 * <p>EC P-256 with ECDSA-SHA256 rather than Ed25519: every TLS stack gRPC may run on here (the JDK's
 * and the BoringSSL shaded into grpc-netty-shaded) verifies P-256 certificates, while Ed25519
 * certificate support differs between them. Immutable; thread-safe.
 */
public final class ClusterCa {
    public static final String CA_CERT = "ca.pem";
    public static final String CA_KEY = "ca.key";
    /** The CA's validity: long, as replacing it means re-issuing every role's certificate. */
    public static final Duration CA_VALIDITY = Duration.ofDays(3650);
    /** A role certificate's validity unless {@code --days} says otherwise: short, so a lost one expires soon. */
    public static final Duration ROLE_VALIDITY = Duration.ofDays(90);
    /** The roles that speak the control plane, and so the roles a certificate can be issued for. */
    public static final Set<String> ROLES = Set.of("agent", "broker", "concentrator", "engine", "frontdoor");
    /** The organization of every name the CA writes. */
    public static final String ORGANIZATION = "Deskgate cluster";
    private static final Duration CLOCK_SKEW = Duration.ofMinutes(5);
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Pattern DNS_NAME = Pattern.compile("(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");

    /** The files of an issued role certificate: the CA to trust, the role's certificate and its key. */
    public record RoleFiles(Path ca, Path cert, Path key) {}

    private final X509Certificate certificate;
    private final PrivateKey key;

    private ClusterCa(X509Certificate certificate, PrivateKey key) {
        this.certificate = certificate;
        this.key = key;
    }

    /** The CA's certificate: what every role trusts. */
    public X509Certificate certificate() { return certificate; }

    /**
     * The CA kept in {@code dir}, created now (directory {@code 0700}, key {@code 0600}) if it holds none.
     *
     * @throws DeskgateException when only one of its two files is there, a file cannot be read or written,
     *                           or the stored CA has expired
     */
    public static ClusterCa initOrLoad(Path dir, Instant now) {
        Path cert = dir.resolve(CA_CERT);
        Path key = dir.resolve(CA_KEY);
        boolean hasCert = Files.exists(cert, LinkOption.NOFOLLOW_LINKS);
        boolean hasKey = Files.exists(key, LinkOption.NOFOLLOW_LINKS);
        if (hasCert || hasKey) {
            ClusterCa ca = load(dir);
            if (!ca.certificate.getNotAfter().toInstant().isAfter(now)) {
                throw new DeskgateException(Status.INTERNAL_ERROR, "the cluster CA in " + dir + " expired on "
                        + ca.certificate.getNotAfter().toInstant() + ": create a new one (deskgate ca init) and re-issue every role's certificate");
            }
            return ca;
        }
        ClusterCa ca = generate(now);
        try {
            ownerOnlyDirectory(dir);
            writeOwnerOnly(key, pkcs8(ca.key));
            writeOwnerOnly(cert, pem(List.of(ca.certificate)));
        } catch (IOException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "cannot write the cluster CA under " + dir + ": " + e.getMessage(), e);
        }
        return ca;
    }

    /**
     * The CA kept in {@code dir}.
     *
     * @throws DeskgateException when a file is missing or unreadable, or the key is not the certificate's
     */
    public static ClusterCa load(Path dir) {
        Path certFile = dir.resolve(CA_CERT);
        Path keyFile = dir.resolve(CA_KEY);
        if (!Files.isRegularFile(certFile) || !Files.isRegularFile(keyFile)) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "no cluster CA in " + dir + ": it needs both " + CA_CERT + " and "
                    + CA_KEY + " (create one with deskgate ca init --dir " + dir + ")");
        }
        X509Certificate cert = readCertificates(certFile).getFirst();
        PrivateKey key = readPrivateKey(keyFile);
        if (!keyMatches(key, cert.getPublicKey())) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "the cluster CA in " + dir + ": " + CA_KEY + " is not the key of " + CA_CERT);
        }
        return new ClusterCa(cert, key);
    }

    /**
     * A certificate for {@code role} signed by this CA, valid from {@code notBefore} (less five minutes of clock
     * skew) for {@code validity}: subject {@code CN=<id>, OU=<role>, O=}{@value #ORGANIZATION}, the hosts as
     * subject alternative names, for TLS servers and clients both. The chain is the certificate, then the CA's.
     *
     * @throws IllegalArgumentException for a role not in {@link #ROLES}, a malformed id or host, no host, or a
     *                                  validity that is not positive
     */
    public TlsCertificates.KeyAndChain issue(String role, String id, List<String> hosts, Instant notBefore, Duration validity) {
        if (!ROLES.contains(role)) {
            throw new IllegalArgumentException("unknown role '" + role + "' (known: " + String.join(", ", ROLES.stream().sorted().toList()) + ")");
        }
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("id must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit: " + id);
        }
        if (hosts.isEmpty()) throw new IllegalArgumentException("a role certificate needs at least one host name or address");
        if (validity.isNegative() || validity.isZero()) throw new IllegalArgumentException("validity must be positive: " + validity);
        List<GeneralName> names = new ArrayList<>();
        for (String h : hosts) names.add(altName(h));
        try {
            KeyPair pair = ecKeyPair();
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, ORGANIZATION)
                    .addRDN(BCStyle.OU, role).addRDN(BCStyle.CN, id).build();
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new JcaX509CertificateHolder(certificate).getSubject(),
                    serial(), Date.from(notBefore.minus(CLOCK_SKEW)), Date.from(notBefore.plus(validity)), subject, pair.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate));
            X509Certificate leaf = sign(b);
            return new TlsCertificates.KeyAndChain(pair.getPrivate(), List.of(leaf, certificate));
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "cannot issue a " + role + " certificate: " + e.getMessage(), e);
        }
    }

    /**
     * Writes an issued certificate into {@code outDir} ({@code 0700}, created if needed), each file {@code 0600}:
     * {@code <role>.pem} (the certificate), {@code <role>.key} (its PKCS#8 key) and {@value #CA_CERT} (the CA's
     * certificate, no key): the three files of {@code control.tls} in the role's config section.
     *
     * @throws DeskgateException when a file cannot be written
     */
    public static RoleFiles write(TlsCertificates.KeyAndChain issued, String role, Path outDir) {
        RoleFiles files = new RoleFiles(outDir.resolve(CA_CERT), outDir.resolve(role + ".pem"), outDir.resolve(role + ".key"));
        try {
            ownerOnlyDirectory(outDir);
            writeOwnerOnly(files.key(), pkcs8(issued.key()));
            writeOwnerOnly(files.cert(), pem(List.of(issued.chain().getFirst())));
            writeOwnerOnly(files.ca(), pem(List.of(issued.chain().getLast())));
        } catch (IOException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "cannot write the " + role + " certificate under " + outDir + ": "
                    + e.getMessage(), e);
        }
        return files;
    }

    /** The role a certificate this CA issued names (its subject's OU), if it names one of {@link #ROLES}. */
    public static Optional<String> role(X509Certificate cert) {
        try {
            RDN[] ous = new JcaX509CertificateHolder(cert).getSubject().getRDNs(BCStyle.OU);
            if (ous.length != 1) return Optional.empty();
            String ou = IETFUtils.valueToString(ous[0].getFirst().getValue());
            return ROLES.contains(ou) ? Optional.of(ou) : Optional.empty();
        } catch (CertificateEncodingException e) {
            return Optional.empty();
        }
    }

    /**
     * The certificates of a PEM file, in file order.
     *
     * @throws DeskgateException naming the file when it cannot be read or holds no certificate
     */
    public static List<X509Certificate> readCertificates(Path file) {
        List<X509Certificate> out = new ArrayList<>();
        JcaX509CertificateConverter certs = new JcaX509CertificateConverter();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser parser = new PEMParser(r)) {
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                if (o instanceof X509CertificateHolder holder) out.add(certs.getCertificate(holder));
            }
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "cannot read certificate file " + file + ": " + e.getMessage(), e);
        }
        if (out.isEmpty()) throw new DeskgateException(Status.INTERNAL_ERROR, "certificate file " + file + " holds no certificate");
        return List.copyOf(out);
    }

    /**
     * The private key of a PEM file (PKCS#8 or a traditional key pair).
     *
     * @throws DeskgateException naming the file when it cannot be read or holds no key
     */
    public static PrivateKey readPrivateKey(Path file) {
        JcaPEMKeyConverter keys = new JcaPEMKeyConverter();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser parser = new PEMParser(r)) {
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                if (o instanceof PrivateKeyInfo info) return keys.getPrivateKey(info);
                if (o instanceof PEMKeyPair pair) return keys.getKeyPair(pair).getPrivate();
            }
        } catch (IOException | RuntimeException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "cannot read key file " + file + ": " + e.getMessage(), e);
        }
        throw new DeskgateException(Status.INTERNAL_ERROR, "key file " + file + " holds no private key");
    }

    private static ClusterCa generate(Instant now) {
        try {
            KeyPair pair = ecKeyPair();
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, ORGANIZATION)
                    .addRDN(BCStyle.CN, "Deskgate cluster CA").build();
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(now.minus(CLOCK_SKEW)),
                    Date.from(now.plus(CA_VALIDITY)), subject, pair.getPublic());
            // Path length 0: it signs role certificates only, never another CA.
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
            X509CertificateHolder holder = b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()));
            return new ClusterCa(new JcaX509CertificateConverter().getCertificate(holder), pair.getPrivate());
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "cannot create the cluster CA: " + e.getMessage(), e);
        }
    }

    private X509Certificate sign(X509v3CertificateBuilder b) throws OperatorCreationException, GeneralSecurityException {
        X509CertificateHolder holder = b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key));
        return new JcaX509CertificateConverter().getCertificate(holder);
    }

    private static GeneralName altName(String host) {
        if (host.isBlank()) throw new IllegalArgumentException("a host name or address is blank");
        if (TlsCertificates.isIpLiteral(host)) {
            try {
                return new GeneralName(GeneralName.iPAddress, host);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("not an IP address: " + host);
            }
        }
        if (host.length() > 253 || !DNS_NAME.matcher(host).matches()) throw new IllegalArgumentException("not a DNS name: " + host);
        return new GeneralName(GeneralName.dNSName, host);
    }

    private static KeyPair ecKeyPair() throws GeneralSecurityException {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(new ECGenParameterSpec("secp256r1"));
        return gen.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(1, Secrets.randomBytes(16));
    }

    /** Whether {@code key} (EC) signs what {@code pub} verifies: one signature, checked. */
    public static boolean keyMatches(PrivateKey key, PublicKey pub) {
        try {
            byte[] probe = Secrets.randomBytes(16);
            java.security.Signature s = java.security.Signature.getInstance("SHA256withECDSA");
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            s.initVerify(pub);
            s.update(probe);
            return s.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static String pem(List<X509Certificate> certs) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            for (X509Certificate c : certs) w.writeObject(c);
        }
        return out.toString();
    }

    private static String pkcs8(PrivateKey key) throws IOException {
        StringWriter out = new StringWriter();
        TlsCertificates.writePkcs8(out, key);
        return out.toString();
    }

    private static void ownerOnlyDirectory(Path dir) throws IOException {
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    }

    /** Written to a {@code 0600} temporary file first and moved into place, so no reader sees a part or a looser mode. */
    private static void writeOwnerOnly(Path file, String text) throws IOException {
        Path tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(tmp, text, StandardCharsets.US_ASCII);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Override
    public String toString() {
        return "ClusterCa[" + certificate.getSubjectX500Principal().getName() + ", until " + certificate.getNotAfter().toInstant() + "]";
    }
}
