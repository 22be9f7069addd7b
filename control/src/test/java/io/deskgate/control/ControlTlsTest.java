package io.deskgate.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.deskgate.common.DeskgateException;
import io.deskgate.tls.ClusterCa;
import io.deskgate.tls.TlsCertificates;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Mutual TLS on the control plane (issue 9) over real gRPC on loopback port 0: the cluster CA's certificates
 * on both sides; a caller without one, with a forged one or an expired one is refused in the handshake, so
 * that neither an interceptor nor the service ever sees the call; the client refuses a server whose
 * certificate does not name the host it dialled; the server admits only the roles {@link ControlPeers} lists.
 */
class ControlTlsTest {
    @TempDir Path dir;

    private final AtomicInteger served = new AtomicInteger();
    /** Every call that got past the transport, counted before any other interceptor runs. */
    private final AtomicInteger reachedInterceptors = new AtomicInteger();
    private Server server;
    private ClusterCa ca;

    private final ListAppender<ILoggingEvent> log = new ListAppender<>();

    @BeforeEach
    void watchLog() {
        log.start();
        ((Logger) LoggerFactory.getLogger(ControlTls.class)).addAppender(log);
    }

    @AfterEach
    void stop() throws InterruptedException {
        ((Logger) LoggerFactory.getLogger(ControlTls.class)).detachAppender(log);
        if (server != null) server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }

    private ClusterCa.RoleFiles issue(ClusterCa by, String role, String name, List<String> hosts, Instant from, Duration validity) {
        TlsCertificates.KeyAndChain c = by.issue(role, role, hosts, from, validity);
        return ClusterCa.write(c, role, dir.resolve(name));
    }

    private static ControlTls load(ClusterCa.RoleFiles f) {
        return ControlTls.load(new ControlTls.Files(f.ca(), f.cert(), f.key()), Instant.now());
    }

    /** Starts an engine-role Engine service on 127.0.0.1 with mutual TLS, its certificate naming {@code hosts}. */
    private void startEngine(List<String> hosts) throws IOException {
        ca = ClusterCa.initOrLoad(dir.resolve("ca"), Instant.now());
        ControlAuth auth = ControlAuth.mutualTls(load(issue(ca, "engine", "engine", hosts, Instant.now(), ClusterCa.ROLE_VALIDITY)));
        ServerInterceptor counting = new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
                reachedInterceptors.incrementAndGet();
                return next.startCall(call, headers);
            }
        };
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), auth.serverCredentials())
                .addService(new EngineGrpc.EngineImplBase() {
                    @Override
                    public void tally(TallyRequest request, StreamObserver<TallyReply> reply) {
                        served.incrementAndGet();
                        reply.onNext(TallyReply.newBuilder().setConnections(5).build());
                        reply.onCompleted();
                    }
                })
                .intercept(auth.serverInterceptor())
                .intercept(counting) // the last one added runs first
                .build().start();
    }

    private String target() {
        return "127.0.0.1:" + server.getPort();
    }

    private static TallyReply tally(ManagedChannel channel) throws InterruptedException {
        try {
            return EngineGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS).tally(TallyRequest.getDefaultInstance());
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    /** A raw TLS channel trusting our CA and presenting {@code client}'s certificate, or none. */
    private ManagedChannel raw(ClusterCa.RoleFiles client, boolean presentCertificate) throws IOException {
        TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder().trustManager(dir.resolve("ca").resolve(ClusterCa.CA_CERT).toFile());
        if (presentCertificate) b.keyManager(client.cert().toFile(), client.key().toFile());
        ChannelCredentials creds = b.build();
        return Grpc.newChannelBuilderForAddress("127.0.0.1", server.getPort(), creds).build();
    }

    private void assertRefusedBeforeAnyServiceCode(ManagedChannel channel) {
        assertThatThrownBy(() -> tally(channel)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        assertThat(reachedInterceptors).as("no call got past the handshake").hasValue(0);
        assertThat(served).hasValue(0);
    }

    @Test
    void shouldServeACallerWithAValidCertificateOfAnAllowedRole() throws Exception {
        startEngine(List.of("localhost", "127.0.0.1"));
        ControlAuth frontdoor = ControlAuth.mutualTls(load(issue(ca, "frontdoor", "fd", List.of("localhost"), Instant.now(),
                ClusterCa.ROLE_VALIDITY)));
        assertThat(tally(ControlChannels.open(target(), frontdoor)).getConnections()).isEqualTo(5);
        assertThat(served).hasValue(1);
    }

    @Test
    void shouldRefuseACallerWithoutACertificateInTheHandshake() throws Exception {
        startEngine(List.of("127.0.0.1"));
        ClusterCa.RoleFiles fd = issue(ca, "frontdoor", "fd", List.of("localhost"), Instant.now(), ClusterCa.ROLE_VALIDITY);
        assertRefusedBeforeAnyServiceCode(raw(fd, false));
    }

    @Test
    void shouldRefuseACallerWithAForgedCertificateInTheHandshake() throws Exception {
        startEngine(List.of("127.0.0.1"));
        ClusterCa forger = ClusterCa.initOrLoad(dir.resolve("forger-ca"), Instant.now());
        ClusterCa.RoleFiles forged = issue(forger, "frontdoor", "forged", List.of("localhost"), Instant.now(), ClusterCa.ROLE_VALIDITY);
        assertRefusedBeforeAnyServiceCode(raw(forged, true));
        assertThat(log.list).singleElement().satisfies(line -> assertThat(line.getFormattedMessage())
                .startsWith("refused a control-plane client certificate in the TLS handshake").doesNotContain("BEGIN"));
        assertThat(log.list.getFirst().getThrowableProxy()).as("no stack trace").isNull();
    }

    @Test
    void shouldRefuseACallerWithAnExpiredCertificateInTheHandshake() throws Exception {
        startEngine(List.of("127.0.0.1"));
        ClusterCa.RoleFiles expired = issue(ca, "frontdoor", "expired", List.of("localhost"),
                Instant.now().minus(Duration.ofDays(100)), ClusterCa.ROLE_VALIDITY);
        assertRefusedBeforeAnyServiceCode(raw(expired, true));
        assertThatThrownBy(() -> load(expired)).as("and a role refuses to start with it").isInstanceOf(DeskgateException.class)
                .hasMessageContaining("is not valid now");
    }

    @Test
    void shouldRefuseAServerWhoseCertificateDoesNotNameTheDialledHost() throws Exception {
        startEngine(List.of("engine.elsewhere.example"));
        ControlAuth frontdoor = ControlAuth.mutualTls(load(issue(ca, "frontdoor", "fd", List.of("localhost"), Instant.now(),
                ClusterCa.ROLE_VALIDITY)));
        assertThatThrownBy(() -> tally(ControlChannels.open(target(), frontdoor))).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e).rootCause().hasMessageContaining("No subject alternative names matching IP address 127.0.0.1");
                });
        assertThat(reachedInterceptors).hasValue(0);
        assertThat(served).hasValue(0);
    }

    @Test
    void shouldDenyARoleThatMayNotCallTheService() throws Exception {
        startEngine(List.of("127.0.0.1"));
        ControlAuth agent = ControlAuth.mutualTls(load(issue(ca, "agent", "agent", List.of("localhost"), Instant.now(),
                ClusterCa.ROLE_VALIDITY)));
        assertThatThrownBy(() -> tally(ControlChannels.open(target(), agent))).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(e.getStatus().getDescription()).isEqualTo("role agent may not call deskgate.v1.Engine/Tally");
        });
        assertThat(reachedInterceptors).as("it got past the handshake").hasValue(1);
        assertThat(served).hasValue(0);
    }

    @Test
    void shouldRefuseToLoadAKeyThatIsNotTheCertificatesOrACertificateOfAnotherCa() {
        ClusterCa ours = ClusterCa.initOrLoad(dir.resolve("ca"), Instant.now());
        ClusterCa.RoleFiles a = issue(ours, "agent", "a", List.of("localhost"), Instant.now(), ClusterCa.ROLE_VALIDITY);
        ClusterCa.RoleFiles b = issue(ours, "broker", "b", List.of("localhost"), Instant.now(), ClusterCa.ROLE_VALIDITY);
        assertThatThrownBy(() -> ControlTls.load(new ControlTls.Files(a.ca(), a.cert(), b.key()), Instant.now()))
                .isInstanceOf(DeskgateException.class).hasMessageContaining("is not the key of certificate");
        ClusterCa other = ClusterCa.initOrLoad(dir.resolve("other"), Instant.now());
        ClusterCa.RoleFiles foreign = issue(other, "agent", "foreign", List.of("localhost"), Instant.now(), ClusterCa.ROLE_VALIDITY);
        assertThatThrownBy(() -> ControlTls.load(new ControlTls.Files(a.ca(), foreign.cert(), foreign.key()), Instant.now()))
                .isInstanceOf(DeskgateException.class).hasMessageContaining("is not valid now under the cluster CA");
        assertThat(load(a).role()).isEqualTo("agent");
        assertThat(load(a).toString()).doesNotContain("PRIVATE");
    }
}
