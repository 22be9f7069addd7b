package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Secrets;
import io.deskgate.metrics.MetricsEndpoint;
import io.deskgate.metrics.RoleMetrics;
import io.deskgate.stream.StreamKeys;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A real engine counting into a registry served by the real metrics endpoint: a launch onto a minimal RFB server
 * (security None, a black 64x48 framebuffer; no Xvnc) streaming to a {@link TestGateway} that acknowledges its frames,
 * and a launch onto a port nobody listens on.
 */
class EngineMetricsTest {
    private static final byte[] CONTROL_SECRET = Secrets.randomBytes(32);
    private static final StreamKeys KEYS = new StreamKeys(Secrets.randomBytes(32));
    private static final Duration WAIT = Duration.ofSeconds(30);
    private final HttpClient http = HttpClient.newHttpClient();
    private final PrometheusMeterRegistry registry = RoleMetrics.newRegistry();
    private Engine engine;
    private MetricsEndpoint endpoint;

    @AfterEach
    void stop() {
        if (engine != null) engine.close();
        if (endpoint != null) endpoint.close();
    }

    @Test
    void aLaunchThatStreamsAndOneThatCannotReachItsDesktopAreCounted() throws Exception {
        engine = Engine.start(EngineConfig.builder().controlSecret(CONTROL_SECRET).build(), NanoClock.system(),
                new EngineMetrics(new RoleMetrics(registry, "engine")));
        endpoint = MetricsEndpoint.start(0, registry);

        int refused;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            refused = s.getLocalPort();
        }
        UUID lost = UUID.randomUUID();
        assertThatThrownBy(() -> engine.launch(spec(lost, refused, 9), Duration.ofSeconds(10))).isInstanceOf(DeskgateException.class);
        assertThat(metric("deskgate_engine_launches_total{outcome=\"unreachable\"}")).isEqualTo(1);

        UUID sessionId = UUID.randomUUID();
        try (ServerSocket desktop = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             TestGateway gateway = new TestGateway(3, sessionId, KEYS.derive(3, sessionId.toString()))) {
            Thread server = Thread.ofVirtual().name("fake-rfb").start(() -> serveOneViewer(desktop));
            engine.launch(spec(sessionId, desktop.getLocalPort(), gateway.port()), WAIT);
            assertThat(metric("deskgate_engine_launches_total{outcome=\"ok\"}")).isEqualTo(1);
            assertThat(metric("deskgate_engine_instances")).isEqualTo(1);
            assertThat(gateway.pumpUntil(() -> gateway.frames > 0, WAIT)).as("a frame reached the gateway").isTrue();
            // The frame's acknowledgement travels back and is measured; pump until the engine has seen it.
            assertThat(gateway.pumpUntil(() -> lagCount() >= 1, WAIT)).as("a lag measured").isTrue();
            assertThat(metric("deskgate_engine_frames_sent_total")).isGreaterThanOrEqualTo(1);
            assertThat(metric("deskgate_engine_datagrams_sent_total")).isGreaterThanOrEqualTo(2);
            assertThat(metric("deskgate_engine_bytes_sent_total")).isGreaterThan(0);
            engine.stop(sessionId);
            assertThat(metric("deskgate_engine_instances")).isZero();
            server.interrupt();
        }
    }

    private double lagCount() {
        try {
            return metric("deskgate_engine_lag_seconds_count");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static LaunchSpec spec(UUID sessionId, int desktopPort, int gatewayPort) {
        return new LaunchSpec(sessionId, 3, "127.0.0.1", desktopPort, "", new InetSocketAddress("127.0.0.1", gatewayPort),
                KEYS.derive(3, sessionId.toString()));
    }

    /** RFB 3.8 with security None and a 64x48 ServerInit, then reads (and ignores) whatever the viewer sends. */
    private static void serveOneViewer(ServerSocket desktop) {
        try (Socket s = desktop.accept()) {
            DataInputStream in = new DataInputStream(s.getInputStream());
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.write("RFB 003.008\n".getBytes(StandardCharsets.ISO_8859_1));
            in.readFully(new byte[12]);
            out.writeByte(1);
            out.writeByte(1); // None
            in.readUnsignedByte();
            out.writeInt(0); // SecurityResult OK
            in.readUnsignedByte(); // ClientInit
            out.writeShort(64);
            out.writeShort(48);
            out.write(new byte[] {32, 24, 0, 1, 0, (byte) 255, 0, (byte) 255, 0, (byte) 255, 16, 8, 0, 0, 0, 0});
            byte[] name = "fake".getBytes(StandardCharsets.ISO_8859_1);
            out.writeInt(name.length);
            out.write(name);
            out.flush();
            byte[] sink = new byte[4096];
            while (in.read(sink) >= 0) {
                // the viewer's SetPixelFormat, SetEncodings and update requests: nothing changes on this desktop
            }
        } catch (IOException e) {
            // the engine closed the connection: done
        }
    }

    /** The value of the sample {@code line} scraped from the endpoint now; 0 when absent. */
    private double metric(String line) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(endpoint.url()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        for (String l : r.body().split("\n")) {
            if (l.startsWith(line + " ")) return Double.parseDouble(l.substring(line.length() + 1).trim());
        }
        return 0;
    }
}
