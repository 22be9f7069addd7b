package io.deskgate.tls;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/**
 * A server's TLS material, as one JDK {@link SSLContext} (no Netty or Jetty type, so every server can
 * take it): none on a loopback address, else a configured PEM or the self-signed certificate generated
 * at first start. The frontdoor (HTTPS) and the gateway (WSS) serve the same one; the control plane's
 * channels will take theirs from here too. Immutable.
 */
public final class ServerTls {
    /** The file name of the generated self-signed certificate under {@code <dataDir>/tls}. */
    public static final String SELF_SIGNED_PEM = "frontdoor.pem";

    private final Optional<SSLContext> sslContext;

    private ServerTls(Optional<SSLContext> sslContext) {
        this.sslContext = sslContext;
    }

    /** No TLS on a loopback address; otherwise the self-signed certificate kept under {@code dataDir/tls}. */
    public static ServerTls forBindHost(String bindHost, Path dataDir) {
        if (isLoopback(bindHost)) return new ServerTls(Optional.empty());
        return new ServerTls(Optional.of(TlsCertificates.sslContext(
                TlsCertificates.selfSigned(dataDir.resolve("tls"), bindHost, Instant.now()))));
    }

    /**
     * The PEM file of the self-signed certificate kept under {@code dataDir/tls}, generated (or renewed
     * near expiry) now if needed: for serving TLS on any address, loopback included.
     */
    public static Path selfSignedPem(String bindHost, Path dataDir) {
        Path dir = dataDir.resolve("tls");
        TlsCertificates.selfSigned(dir, bindHost, Instant.now());
        return dir.resolve(SELF_SIGNED_PEM);
    }

    /** TLS with the key and certificate chain of a PEM file. */
    public static ServerTls fromPem(Path pem) {
        return new ServerTls(Optional.of(TlsCertificates.sslContext(TlsCertificates.loadPem(pem))));
    }

    /** True for a loopback address or a name that resolves to one: where plain HTTP/WS is served. */
    public static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) return true;
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    public Optional<SSLContext> sslContext() { return sslContext; }

    public boolean enabled() { return sslContext.isPresent(); }
}
