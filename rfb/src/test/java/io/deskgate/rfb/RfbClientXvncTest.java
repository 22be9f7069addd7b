package io.deskgate.rfb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.testkit.Prerequisites;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client against a real TigerVNC Xvnc on loopback, with VNC Authentication. */
class RfbClientXvncTest {
    private static final String PASSWORD = "sekrit12";
    private static final long DEADLINE_NS = TimeUnit.SECONDS.toNanos(15);
    private static Process xvnc;
    private static int port;

    @BeforeAll
    static void startXvnc(@TempDir Path dir) throws Exception {
        Path xvncBinary = Prerequisites.require("Xvnc", "tigervnc-standalone-server");
        Path vncpasswd = Prerequisites.require("vncpasswd", "tigervnc-tools");
        Path passwordFile = dir.resolve("passwd");
        Process p = new ProcessBuilder(vncpasswd.toString(), "-f").redirectOutput(passwordFile.toFile()).start();
        p.getOutputStream().write((PASSWORD + "\n").getBytes(StandardCharsets.US_ASCII));
        p.getOutputStream().close();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.size(passwordFile)).isEqualTo(8);
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        int display = freeDisplay();
        xvnc = new ProcessBuilder(xvncBinary.toString(), ":" + display, "-geometry", "320x240", "-depth", "24",
                "-rfbport", Integer.toString(port), "-localhost", "-SecurityTypes", "VncAuth",
                "-PasswordFile", passwordFile.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("xvnc.log").toFile()).start();
        long deadline = System.nanoTime() + DEADLINE_NS;
        while (!accepts(port)) {
            assertThat(xvnc.isAlive()).as("Xvnc exited: " + Files.readString(dir.resolve("xvnc.log"))).isTrue();
            assertThat(System.nanoTime()).as("Xvnc listening on " + port).isLessThan(deadline);
            Thread.onSpinWait();
        }
    }

    @AfterAll
    static void stopXvnc() throws InterruptedException {
        if (xvnc != null) {
            xvnc.destroy();
            if (!xvnc.waitFor(5, TimeUnit.SECONDS)) xvnc.destroyForcibly();
        }
    }

    private static int freeDisplay() {
        for (int i = 0; i < 100; i++) {
            int d = 200 + ThreadLocalRandom.current().nextInt(300);
            if (!Files.exists(Path.of("/tmp/.X11-unix/X" + d)) && !Files.exists(Path.of("/tmp/.X" + d + "-lock"))) return d;
        }
        throw new IllegalStateException("no free X display number");
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Pumps bytes between the socket and the client until {@code done} holds or the deadline passes. */
    private static void pump(Socket socket, RfbClient client, BooleanSupplier done) throws IOException {
        socket.setSoTimeout(100);
        InputStream in = socket.getInputStream();
        byte[] buf = new byte[65536];
        long deadline = System.nanoTime() + DEADLINE_NS;
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as("deadline").isLessThan(deadline);
            socket.getOutputStream().write(client.drainOutgoing());
            int n;
            try {
                n = in.read(buf);
            } catch (SocketTimeoutException e) {
                continue;
            }
            assertThat(n).as("server closed the connection").isPositive();
            client.receive(buf, 0, n);
        }
        socket.getOutputStream().write(client.drainOutgoing());
    }

    @Test
    void shouldAuthenticateWithVncAuthAndReceiveTheWholeScreen_rfc6143_7_2_2() throws IOException {
        EventLog log = new EventLog();
        RfbClient client = new RfbClient(PASSWORD, true, log);
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            pump(socket, client, client::isReady);
            assertThat(client.framebuffer().width()).isEqualTo(320);
            assertThat(client.framebuffer().height()).isEqualTo(240);
            client.requestUpdate(false);
            pump(socket, client, () -> log.updates >= 1);
            assertThat(log.rectPixels).as("a full update covers the screen").isGreaterThanOrEqualTo(320 * 240);
        } finally {
            client.close();
        }
    }

    @Test
    void shouldFailUnauthorizedWithTheServersReasonForAWrongPassword_rfc6143_7_1_3() throws IOException {
        RfbClient client = new RfbClient("not-it", true, new EventLog());
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            assertThatThrownBy(() -> pump(socket, client, client::isReady))
                    .isInstanceOfSatisfying(DeskgateException.class, e -> assertThat(e.status()).isEqualTo(Status.UNAUTHORIZED))
                    .hasMessageStartingWith("RFB authentication failed: ")
                    .hasMessageNotContaining("not-it");
        }
    }
}
