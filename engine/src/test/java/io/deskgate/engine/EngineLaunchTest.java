package io.deskgate.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Secrets;
import io.deskgate.common.Status;
import io.deskgate.control.TallyReply;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Launches that fail before any desktop speaks: each must give its capacity slot back (no Xvnc needed). */
class EngineLaunchTest {
    private static final byte[] CONTROL_SECRET = Secrets.randomBytes(32);
    private Engine engine;

    @AfterEach
    void stop() {
        if (engine != null) engine.close();
    }

    private static LaunchSpec spec(int desktopPort) {
        return new LaunchSpec(UUID.randomUUID(), 3, "127.0.0.1", desktopPort, "pw", new InetSocketAddress("127.0.0.1", 9),
                Secrets.randomBytes(32));
    }

    private static int refusedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void shouldTakeAnyLaunchTimeoutAndFreeTheSlotOfAnUnreachableDesktop() throws Exception {
        engine = Engine.start(EngineConfig.builder().controlSecret(CONTROL_SECRET).maxInstances(1).build(), new FakeClock());
        int port = refusedPort();
        for (int attempt = 0; attempt < 2; attempt++) { // a leaked slot would make the second NO_DESKTOP_AVAILABLE
            assertThatThrownBy(() -> engine.launch(spec(port), Duration.ofDays(30)))
                    .isInstanceOfSatisfying(DeskgateException.class, e -> assertThat(e.status()).isEqualTo(Status.UPSTREAM_UNAVAILABLE));
            assertThat(engine.slotsHeld()).isZero();
        }
    }

    @Test
    void shouldFreeTheSlotWhenTheInstanceCannotBeStarted() throws Exception {
        engine = Engine.start(EngineConfig.builder().controlSecret(CONTROL_SECRET).maxInstances(1).build(), new FakeClock());
        try (ServerSocket desktop = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            engine.close(); // a launch racing the engine's close: its scheduler refuses the instance's timers
            assertThatThrownBy(() -> engine.launch(spec(desktop.getLocalPort()), Duration.ofSeconds(5)))
                    .isInstanceOfSatisfying(DeskgateException.class, e -> assertThat(e.status()).isEqualTo(Status.INTERNAL_ERROR));
            assertThat(engine.slotsHeld()).isZero();
            assertThat(engine.connections()).isZero();
        }
    }

    @Test
    void shouldTallyConnectionsInTotalAndPerUniqueSocket() {
        assertThat(TallyReply.getDescriptor().getFields()).extracting(f -> f.getName()).containsExactly("connections", "sockets");
    }
}
