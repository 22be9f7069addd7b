package io.deskgate.engine;

import io.deskgate.testkit.Prerequisites;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A real TigerVNC desktop for tests: Xvnc on a free display with VncAuth and a password file written by
 * {@code vncpasswd -f}, plus an xterm at the top left. Kills what it started on {@link #close()}.
 */
final class XvncDesktop implements AutoCloseable {
    static final int WIDTH = 640;
    static final int HEIGHT = 480;
    /** Where the xterm lies: 80x24 characters from the top-left corner (its exact pixel size depends on the font). */
    static final int XTERM_WIDTH = 400;
    static final int XTERM_HEIGHT = 250;

    final String password;
    final int display;
    final int port;
    final Path dir;
    private final Process xvnc;
    private Process xterm;

    private XvncDesktop(String password, int display, int port, Path dir, Process xvnc) {
        this.password = password;
        this.display = display;
        this.port = port;
        this.dir = dir;
        this.xvnc = xvnc;
    }

    static XvncDesktop start(String password) throws IOException, InterruptedException {
        Path xvncPath = Prerequisites.require("Xvnc", "tigervnc-standalone-server");
        Path vncpasswd = Prerequisites.require("vncpasswd", "tigervnc-tools");
        Prerequisites.require("xterm", "xterm");
        Path dir = Files.createTempDirectory("deskgate-xvnc");
        Path passwordFile = dir.resolve("passwd");
        Process p = new ProcessBuilder(vncpasswd.toString(), "-f").redirectError(dir.resolve("vncpasswd.log").toFile()).start();
        p.getOutputStream().write((password + "\n").getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        byte[] obfuscated = p.getInputStream().readAllBytes();
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0 || obfuscated.length == 0) throw new IOException("vncpasswd -f failed");
        Files.write(passwordFile, obfuscated);

        int display = freeDisplay();
        int port = freePort();
        Process xvnc = new ProcessBuilder(xvncPath.toString(), ":" + display, "-rfbport", Integer.toString(port), "-localhost",
                "-nolisten", "tcp", "-SecurityTypes", "VncAuth", "-PasswordFile", passwordFile.toString(),
                "-geometry", WIDTH + "x" + HEIGHT, "-depth", "24", "-BlacklistThreshold", "1000")
                .redirectErrorStream(true).redirectOutput(dir.resolve("xvnc.log").toFile()).start();
        XvncDesktop desktop = new XvncDesktop(password, display, port, dir, xvnc);
        try {
            desktop.awaitPort(Duration.ofSeconds(15));
            desktop.xterm = new ProcessBuilder("xterm", "-display", ":" + display, "-geometry", "80x24+0+0", "-bg", "white", "-fg", "black")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("xterm.log").toFile()).start();
        } catch (IOException | RuntimeException e) {
            desktop.close();
            throw e;
        }
        return desktop;
    }

    private void awaitPort(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!xvnc.isAlive()) throw new IOException("Xvnc exited: " + Files.readString(dir.resolve("xvnc.log")));
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException e) {
                if (System.nanoTime() - deadline > 0) throw new IOException("Xvnc did not listen on " + port + " within " + timeout, e);
                xvnc.waitFor(20, TimeUnit.MILLISECONDS); // returns at once if Xvnc dies
            }
        }
    }

    private static int freeDisplay() {
        int start = 40 + ThreadLocalRandom.current().nextInt(400);
        for (int i = 0; i < 400; i++) {
            int d = 40 + (start - 40 + i) % 400;
            if (!Files.exists(Path.of("/tmp/.X" + d + "-lock")) && !Files.exists(Path.of("/tmp/.X11-unix/X" + d))) return d;
        }
        throw new IllegalStateException("no free X display between :40 and :439");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override public void close() throws InterruptedException {
        for (Process p : List.of(xterm == null ? xvnc : xterm, xvnc)) {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
