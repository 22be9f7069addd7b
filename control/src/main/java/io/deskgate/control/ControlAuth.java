package io.deskgate.control;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.deskgate.common.RateLimitedLog;
import io.deskgate.tls.ClusterCa;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.net.SocketAddress;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authentication of the control plane: every call to an {@code Agent}, {@code Broker} or {@code Engine}
 * gRPC service (control/src/main/proto/control.proto) carries the metadata
 * {@code authorization: Bearer <token>}, where token is the unpadded base64url of
 * HMAC-SHA256(control secret, {@value #LABEL}). Every role of one deployment shares the control secret
 * (at least {@value #MIN_SECRET_BYTES} bytes). The token is derived rather than the secret itself so that
 * the secret never crosses the wire and a later scheme can derive a different token from the same
 * secret. A call without the header or with a wrong token ends with {@code UNAUTHENTICATED} before it
 * reaches the service.
 *
 * <p>Mutual TLS ({@link #mutualTls}, issue 9) replaces the bearer token where roles run on different
 * hosts: the servers ({@link #serverCredentials()}) and channels ({@link #channelCredentials()}) present
 * certificates of the cluster CA ({@link ControlTls}), the handshake refuses a caller without one (or with
 * a forged or expired one) before any call exists, and the server interceptor then admits a call only
 * from a role {@link ControlPeers} allows for its method ({@code PERMISSION_DENIED} otherwise). No token is
 * sent or checked in that mode. {@link ControlAddresses} says where the bearer scheme may remain.
 *
 * <p>Immutable and thread-safe: one instance serves any number of servers and channels. It keeps the
 * token only (never logged, never in {@link #toString()}), not the secret.
 */
public final class ControlAuth {
    private static final Logger LOG = LoggerFactory.getLogger(ControlAuth.class);
    public static final int MIN_SECRET_BYTES = 32;
    static final String LABEL = "deskgate-control-v1";
    static final String SCHEME = "Bearer ";
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    /** Peers already logged as refused; cleared when it reaches this size so that it cannot grow without bound. */
    static final int MAX_LOGGED_PEERS = 1024;

    private final String header;
    private final byte[] expected;
    private final Set<String> loggedPeers = ConcurrentHashMap.newKeySet();
    /** Present in the mutual-TLS mode, where {@link #header} and {@link #expected} are empty and unused. */
    private final Optional<ControlTls> tls;
    private final RateLimitedLog refusals = new RateLimitedLog(LOG);

    /**
     * @param controlSecret the deployment's control secret, at least {@value #MIN_SECRET_BYTES} bytes
     * @throws IllegalArgumentException when the secret is missing (empty) or too short: the control plane
     *                                  never serves or calls unauthenticated
     */
    public ControlAuth(byte[] controlSecret) {
        if (controlSecret == null || controlSecret.length == 0) {
            throw new IllegalArgumentException("no control secret configured: the control plane refuses to run"
                    + " unauthenticated (set a secret of at least " + MIN_SECRET_BYTES + " bytes)");
        }
        if (controlSecret.length < MIN_SECRET_BYTES) {
            throw new IllegalArgumentException("control secret must be at least " + MIN_SECRET_BYTES + " bytes, got "
                    + controlSecret.length);
        }
        this.header = SCHEME + token(controlSecret);
        this.expected = header.getBytes(US_ASCII);
        this.tls = Optional.empty();
    }

    private ControlAuth(ControlTls tls) {
        this.header = "";
        this.expected = new byte[0];
        this.tls = Optional.of(tls);
    }

    /** Mutual TLS with the cluster CA's certificates of {@code tls}, in place of the bearer token. */
    public static ControlAuth mutualTls(ControlTls tls) {
        return new ControlAuth(Objects.requireNonNull(tls, "tls"));
    }

    /** {@link #mutualTls} when {@code tls} is configured, else the bearer scheme of {@code controlSecret}. */
    public static ControlAuth of(byte[] controlSecret, Optional<ControlTls> tls) {
        return tls.map(ControlAuth::mutualTls).orElseGet(() -> new ControlAuth(controlSecret));
    }

    /** The mutual-TLS material, when this is the mutual-TLS mode. */
    public Optional<ControlTls> tls() { return tls; }

    /** For every control server: TLS requiring a client certificate in the mutual-TLS mode, else plaintext. */
    public ServerCredentials serverCredentials() {
        return tls.map(ControlTls::serverCredentials).orElseGet(InsecureServerCredentials::create);
    }

    /** For every channel to the control plane: TLS with this role's certificate in the mutual-TLS mode, else plaintext. */
    public ChannelCredentials channelCredentials() {
        return tls.map(ControlTls::channelCredentials).orElseGet(InsecureChannelCredentials::create);
    }

    /**
     * Checks a secret given to a config record: empty (not set yet, refused when the server starts) or at
     * least {@value #MIN_SECRET_BYTES} bytes. Returns a copy.
     *
     * @throws IllegalArgumentException when it is set but too short
     */
    public static byte[] checkedSecret(byte[] controlSecret) {
        if (controlSecret == null) throw new IllegalArgumentException("controlSecret is null (use an empty array for none)");
        if (controlSecret.length > 0 && controlSecret.length < MIN_SECRET_BYTES) {
            throw new IllegalArgumentException("control secret must be at least " + MIN_SECRET_BYTES + " bytes, got "
                    + controlSecret.length);
        }
        return controlSecret.clone();
    }

    /** The bearer token of {@code controlSecret}: unpadded base64url of HMAC-SHA256(secret, {@value #LABEL}). */
    static String token(byte[] controlSecret) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(controlSecret, "HmacSHA256"));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(LABEL.getBytes(US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is unavailable", e);
        }
    }

    /** For every server of the control plane: refuses a call without the right token with {@code UNAUTHENTICATED}. */
    public ServerInterceptor serverInterceptor() {
        if (tls.isPresent()) return peerRoleInterceptor();
        return new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                               ServerCallHandler<Q, A> next) {
                String presented = headers.get(AUTHORIZATION);
                // Constant time: isEqual compares every byte of equal-length arrays.
                if (presented != null && MessageDigest.isEqual(presented.getBytes(US_ASCII), expected)) {
                    return next.startCall(call, headers);
                }
                String reason = presented == null ? "missing" : "invalid";
                logRefusal(call, reason);
                call.close(Status.UNAUTHENTICATED.withDescription("control-plane credential " + reason), new Metadata());
                return new ServerCall.Listener<>() {};
            }
        };
    }

    /** For every channel to the control plane: adds the token to each call. */
    public ClientInterceptor clientInterceptor() {
        if (tls.isPresent()) {
            return new ClientInterceptor() { // the certificate is the credential: no token on the wire
                @Override
                public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
                    return next.newCall(method, options);
                }
            };
        }
        return new ClientInterceptor() {
            @Override
            public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                    @Override
                    public void start(Listener<A> listener, Metadata headers) {
                        headers.put(AUTHORIZATION, header);
                        super.start(listener, headers);
                    }
                };
            }
        };
    }

    /**
     * The mutual-TLS mode's check, after the handshake verified the peer's certificate under the cluster CA:
     * the role it names must be one {@link ControlPeers} admits for the method.
     */
    private ServerInterceptor peerRoleInterceptor() {
        return new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                               ServerCallHandler<Q, A> next) {
                String method = call.getMethodDescriptor().getFullMethodName();
                Optional<String> role = peerRole(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
                if (role.isPresent() && ControlPeers.allowed(role.get(), method)) return next.startCall(call, headers);
                SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
                String peer = remote == null ? "an unknown peer" : remote.toString();
                if (role.isEmpty()) {
                    refusals.warn("no peer role", "refused {} from {}: no verified cluster certificate naming a role", method, peer);
                    call.close(Status.UNAUTHENTICATED.withDescription("control-plane certificate names no role"), new Metadata());
                } else {
                    refusals.warn("role not allowed", "refused {} from {}: role {} may not call it", method, peer, role.get());
                    call.close(Status.PERMISSION_DENIED.withDescription("role " + role.get() + " may not call " + method),
                            new Metadata());
                }
                return new ServerCall.Listener<>() {};
            }
        };
    }

    private static Optional<String> peerRole(SSLSession session) {
        if (session == null) return Optional.empty();
        try {
            Certificate[] peer = session.getPeerCertificates();
            return peer.length > 0 && peer[0] instanceof X509Certificate leaf ? ClusterCa.role(leaf) : Optional.empty();
        } catch (SSLPeerUnverifiedException e) {
            return Optional.empty();
        }
    }

    /** Logs once per peer (remote address and port, that is once per connection), without what it presented. */
    private void logRefusal(ServerCall<?, ?> call, String reason) {
        SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        String peer = remote == null ? "an unknown peer" : remote.toString();
        if (loggedPeers.size() >= MAX_LOGGED_PEERS) loggedPeers.clear();
        if (!loggedPeers.add(peer)) return;
        LOG.warn("refused {} from {}: control-plane credential {} (further refusals of this peer are not logged)",
                call.getMethodDescriptor().getFullMethodName(), peer, reason);
    }

    @Override
    public String toString() {
        return tls.map(t -> "ControlAuth[mutual TLS, " + t.role() + "]").orElse("ControlAuth[" + LABEL + "]");
    }
}
