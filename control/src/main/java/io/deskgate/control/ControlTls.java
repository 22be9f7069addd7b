package io.deskgate.control;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.RateLimitedLog;
import io.deskgate.common.Secrets;
import io.deskgate.common.Status;
import io.deskgate.tls.ClusterCa;
import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.LoggerFactory;

/**
 * One role's mutual-TLS material for the control plane (issue 9): the cluster CA's certificate, the role's
 * certificate and its key, as the three files of {@code control.tls} ({@code ca}, {@code cert}, {@code key})
 * that {@code deskgate ca issue} writes. Servers built with {@link #serverCredentials()} require a client
 * certificate ({@code ClientAuth.REQUIRE}) that chains to the CA and is within its validity, so a caller
 * without one, with one of another CA or with an expired one fails in the TLS handshake, before any
 * interceptor or service sees a call. Channels built with {@link #channelCredentials()} trust only the CA
 * and check that the server's certificate names the host they dialled (its subject alternative names).
 * The role a certificate names (its subject's OU, {@link ClusterCa#role}) is {@link #role()}; the server
 * side's check of the caller's role is {@link ControlPeers}.
 *
 * <p>Immutable and thread-safe; loaded once at start. Never logs the key, and {@link #toString()} names the
 * files only.
 */
public final class ControlTls {
    /** A refused client certificate is one rate-limited line: the handshake ends before gRPC logs anything. */
    private static final RateLimitedLog REFUSALS = new RateLimitedLog(LoggerFactory.getLogger(ControlTls.class));

    /** The three files of {@code control.tls}. */
    public record Files(Path ca, Path cert, Path key) {
        public Files {
            Objects.requireNonNull(ca, "ca");
            Objects.requireNonNull(cert, "cert");
            Objects.requireNonNull(key, "key");
        }
    }

    private final Files files;
    private final X509Certificate ca;
    private final List<X509Certificate> chain;
    private final PrivateKey key;
    private final String role;

    private ControlTls(Files files, X509Certificate ca, List<X509Certificate> chain, PrivateKey key, String role) {
        this.files = files;
        this.ca = ca;
        this.chain = chain;
        this.key = key;
        this.role = role;
    }

    /**
     * Reads and checks the three files at {@code now}: the certificate must chain to the CA, be within its
     * validity, name one of {@link ClusterCa#ROLES}, and match the key.
     *
     * @throws DeskgateException with one line naming the file and what is wrong
     */
    public static ControlTls load(Files files, Instant now) {
        List<X509Certificate> cas = ClusterCa.readCertificates(files.ca());
        X509Certificate ca = cas.getFirst();
        List<X509Certificate> certs = ClusterCa.readCertificates(files.cert());
        X509Certificate leaf = certs.getFirst();
        PrivateKey key = ClusterCa.readPrivateKey(files.key());
        try {
            PKIXParameters p = new PKIXParameters(Set.of(new TrustAnchor(ca, null)));
            p.setRevocationEnabled(false);
            p.setDate(Date.from(now));
            CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(List.of(leaf)), p);
        } catch (GeneralSecurityException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "control.tls: certificate " + files.cert()
                    + " is not valid now under the cluster CA " + files.ca() + ": " + e.getMessage());
        }
        String role = ClusterCa.role(leaf).orElseThrow(() -> new DeskgateException(Status.INTERNAL_ERROR,
                "control.tls: certificate " + files.cert() + " names no Deskgate role (issue one with deskgate ca issue <role>)"));
        if (!ClusterCa.keyMatches(key, leaf.getPublicKey())) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "control.tls: key " + files.key() + " is not the key of certificate "
                    + files.cert());
        }
        return new ControlTls(files, ca, List.of(leaf, ca), key, role);
    }

    /** The role the certificate names: agent, broker, concentrator, engine or frontdoor. */
    public String role() { return role; }

    public Files files() { return files; }

    /** For a control server: TLS with this certificate, a client certificate under the cluster CA required. */
    public ServerCredentials serverCredentials() {
        return TlsServerCredentials.newBuilder().keyManager(keyManagers()).trustManager(loggingClientRefusals(trustManagers()))
                .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE).build();
    }

    /** For a channel to a control server: TLS presenting this certificate, the server's verified under the cluster CA. */
    public ChannelCredentials channelCredentials() {
        return TlsChannelCredentials.newBuilder().keyManager(keyManagers()).trustManager(trustManagers()).build();
    }

    private KeyManager[] keyManagers() {
        try {
            char[] password = Secrets.randomPassword(24).toCharArray();
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("control", key, password, chain.toArray(X509Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, password);
            return kmf.getKeyManagers();
        } catch (GeneralSecurityException | IOException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "control.tls: key " + files.key() + " does not fit certificate "
                    + files.cert() + ": " + e.getMessage());
        }
    }

    private TrustManager[] trustManagers() {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setCertificateEntry("cluster-ca", ca);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(ks);
            return tmf.getTrustManagers();
        } catch (GeneralSecurityException | IOException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "control.tls: cannot trust the cluster CA " + files.ca() + ": "
                    + e.getMessage());
        }
    }

    /** The trust manager, logging each client certificate it refuses (without the certificate) as one line. */
    private static TrustManager[] loggingClientRefusals(TrustManager[] managers) {
        TrustManager[] out = managers.clone();
        for (int i = 0; i < out.length; i++) {
            if (out[i] instanceof X509ExtendedTrustManager tm) out[i] = new X509ExtendedTrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
                    try {
                        tm.checkClientTrusted(chain, authType, engine);
                    } catch (CertificateException e) {
                        // The server's engine knows no peer address; the reason is the validator's fixed text.
                        REFUSALS.warn("client certificate", "refused a control-plane client certificate in the TLS handshake: {}",
                                e.getMessage());
                        throw e;
                    }
                }

                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
                    tm.checkClientTrusted(chain, authType, socket);
                }

                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                    tm.checkClientTrusted(chain, authType);
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
                    tm.checkServerTrusted(chain, authType, engine);
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
                    tm.checkServerTrusted(chain, authType, socket);
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                    tm.checkServerTrusted(chain, authType);
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return tm.getAcceptedIssuers();
                }
            };
        }
        return out;
    }

    @Override
    public String toString() {
        return "ControlTls[" + role + ", ca=" + files.ca() + ", cert=" + files.cert() + ", key=" + files.key() + "]";
    }
}
