package io.deskgate.agent;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Secrets;
import io.deskgate.common.Status;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts and stops the processes of one desktop: a TigerVNC {@code Xvnc} that speaks RFB on a free
 * localhost port and listens for X clients only on its Unix socket, guarded by an X authority cookie
 * and by the desktop's VNC password file, then the session programs on its display.
 *
 * <p>Thread-safe; every method blocks (process start, readiness polling, termination), so the agent
 * calls them on virtual threads, never on its loop.
 */
final class DesktopLauncher {
    private static final Logger LOG = LoggerFactory.getLogger(DesktopLauncher.class);

    static final int FIRST_DISPLAY = 20;
    static final int DISPLAY_RANGE = 400;
    static final int LAUNCH_ATTEMPTS = 5;
    static final Duration READY_TIMEOUT = Duration.ofSeconds(10);
    static final Duration STOP_GRACE = Duration.ofSeconds(3);
    static final Duration ORPHAN_GRACE = Duration.ofMillis(500);
    static final Duration POLL_INTERVAL = Duration.ofMillis(20);
    /** Longest one X readiness probe waits for the setup reply (less when the launch deadline is nearer). */
    static final Duration X11_PROBE_TIMEOUT = Duration.ofSeconds(1);
    /** Variables copied from the agent's environment into the desktop's processes when set; nothing else is. */
    static final List<String> INHERITED_VARIABLES = List.of("PATH", "LANG", "LC_ALL", "USER", "LOGNAME", "SHELL");
    static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";
    /** What the session's programs are told about their terminal. */
    static final String SESSION_TERM = "xterm";
    static final String RFB_VERSION_PREFIX = "RFB 003.";
    /** Length of the RFB ProtocolVersion message, RFC 6143 §7.1.1. */
    static final int RFB_VERSION_BYTES = 12;
    /** X11 connection setup reply: first byte 1 means Success (X11 protocol, chapter 8). */
    static final int X11_SETUP_SUCCESS = 1;

    /** Commands the agent needs and the Debian packages that provide them. */
    static final Map<String, String> PACKAGES = Map.of(
            "Xvnc", "tigervnc-standalone-server", "twm", "twm", "xterm", "xterm");

    /** One launched desktop: its display, RFB port and processes. */
    record RunningDesktop(int index, int display, int rfbPort, Process xvnc, List<Process> session) {}

    private final AgentConfig config;
    private final Path xvnc;
    private final List<List<String>> sessionCommands;
    private final Set<Integer> reservedDisplays = new HashSet<>();

    private DesktopLauncher(AgentConfig config, Path xvnc, List<List<String>> sessionCommands) {
        this.config = config;
        this.xvnc = xvnc;
        this.sessionCommands = sessionCommands;
    }

    /**
     * Resolves Xvnc and the session programs on PATH.
     *
     * @throws DeskgateException naming the Debian package to install when one is missing
     */
    static DesktopLauncher create(AgentConfig config) {
        return create(config, DesktopLauncher::which);
    }

    /** As {@link #create(AgentConfig)}, with the PATH look-up given (tests simulate a missing program). */
    static DesktopLauncher create(AgentConfig config, Function<String, Optional<Path>> which) {
        Path xvnc = which.apply("Xvnc").orElseThrow(() -> new DeskgateException(Status.INTERNAL_ERROR,
                "TigerVNC Xvnc not found: install the Debian package tigervnc-standalone-server"));
        List<List<String>> commands = new ArrayList<>();
        for (String line : config.session()) {
            List<String> argv = new ArrayList<>(Arrays.asList(line.trim().split("\\s+")));
            String program = argv.getFirst();
            Path resolved = program.contains("/") ? Path.of(program) : which.apply(program).orElse(null);
            if (resolved == null || !Files.isExecutable(resolved)) {
                String pkg = PACKAGES.get(program);
                throw new DeskgateException(Status.INTERNAL_ERROR, program + " not found: "
                        + (pkg == null ? "install it or change the agent's session" : "install the Debian package " + pkg));
            }
            argv.set(0, resolved.toString());
            commands.add(List.copyOf(argv));
        }
        return new DesktopLauncher(config, xvnc, List.copyOf(commands));
    }

    static Optional<Path> which(String command) {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/bin:/bin";
        for (String dir : path.split(":")) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, command);
            if (Files.isExecutable(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    Path passwordFile(int index) {
        return config.runtimeDir().resolve("desktop-" + (index + 1) + ".passwd");
    }

    private Path authorityFile(int index) {
        return config.runtimeDir().resolve("desktop-" + (index + 1) + ".xauth");
    }

    private Path logFile(int index) {
        return config.runtimeDir().resolve("desktop-" + (index + 1) + ".log");
    }

    /**
     * Launches desktop {@code index}: scrambles its password file, starts Xvnc on a free display and
     * port (retrying on a race with another X server), waits until it serves RFB and accepts X clients,
     * then starts the session programs.
     *
     * @throws IOException when no attempt got a desktop ready
     */
    RunningDesktop launch(int index) throws IOException {
        VncPasswordFile.scramble(passwordFile(index));
        IOException last = null;
        for (int attempt = 1; attempt <= LAUNCH_ATTEMPTS; attempt++) {
            int display = reserveDisplay();
            Process server = null;
            try {
                byte[] cookie = Secrets.randomBytes(XAuthority.COOKIE_BYTES);
                XAuthority.write(authorityFile(index), display, cookie);
                int port = freeLoopbackPort();
                server = startXvnc(index, display, port);
                awaitReady(index, server, display, port, cookie);
                List<Process> session = startSession(index, display);
                LOG.info("desktop {}/{} ready on display :{} with RFB on 127.0.0.1:{} (Xvnc pid {})",
                        config.agentId(), index + 1, display, port, server.pid());
                return new RunningDesktop(index, display, port, server, session);
            } catch (IOException e) {
                last = e;
                LOG.warn("desktop {}/{} launch attempt {} on display :{} failed: {}",
                        config.agentId(), index + 1, attempt, display, e.getMessage());
                if (server != null) terminate(List.of(server));
                cleanUpDisplay(display, server);
                releaseDisplay(display);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (server != null) terminate(List.of(server));
                cleanUpDisplay(display, server);
                releaseDisplay(display);
                throw new IOException("interrupted while launching desktop " + (index + 1), e);
            }
        }
        throw last;
    }

    private Process startXvnc(int index, int display, int port) throws IOException {
        List<String> argv = List.of(xvnc.toString(), ":" + display,
                "-geometry", config.width() + "x" + config.height(), "-depth", "24",
                "-rfbport", Integer.toString(port), "-localhost",
                "-SecurityTypes", "VncAuth", "-PasswordFile", passwordFile(index).toString(),
                "-auth", authorityFile(index).toString(),
                "-desktop", config.agentId() + "/" + (index + 1),
                "-AlwaysShared=0", "-NeverShared=0", "-DisconnectClients=1",
                "-nolisten", "tcp");
        // Created owner-only before the redirect opens it (which would create it with the umask's mode).
        if (!Files.exists(logFile(index))) {
            Files.createFile(logFile(index), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(logFile(index).toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        replaceEnvironment(pb, childEnvironment(System.getenv(), homeDirectory(), OptionalInt.empty(),
                authorityFile(index)));
        return pb.start();
    }

    /** The session starts where a user expects a new terminal to: the home directory (else the runtime directory). */
    private Path homeDirectory() {
        Path home = Path.of(System.getProperty("user.home", ""));
        return Files.isDirectory(home) ? home : config.runtimeDir();
    }

    private List<Process> startSession(int index, int display) throws IOException {
        List<Process> started = new ArrayList<>();
        try {
            for (List<String> argv : sessionCommands) {
                ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile(index).toFile()))
                        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                        .directory(homeDirectory().toFile());
                replaceEnvironment(pb, childEnvironment(System.getenv(), homeDirectory(), OptionalInt.of(display),
                        authorityFile(index)));
                started.add(pb.start());
            }
        } catch (IOException e) {
            terminate(started);
            throw e;
        }
        return List.copyOf(started);
    }

    /**
     * The whole environment of a desktop's process: the agent's own environment (which may hold secrets
     * such as the admin password) is not passed on, only {@link #INHERITED_VARIABLES} that are set, plus
     * {@code HOME}, {@code XAUTHORITY} and, for the session's programs ({@code display} present),
     * {@code DISPLAY} and {@code TERM}.
     */
    static Map<String, String> childEnvironment(Map<String, String> inherited, Path home, OptionalInt display,
                                                Path xauthority) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String name : INHERITED_VARIABLES) {
            String value = inherited.get(name);
            if (value != null && !value.isEmpty()) env.put(name, value);
        }
        env.putIfAbsent("PATH", DEFAULT_PATH);
        String user = System.getProperty("user.name", "");
        if (!user.isEmpty()) {
            env.putIfAbsent("USER", user);
            env.putIfAbsent("LOGNAME", user);
        }
        env.put("HOME", home.toString());
        env.put("XAUTHORITY", xauthority.toString());
        display.ifPresent(d -> {
            env.put("DISPLAY", ":" + d);
            env.put("TERM", SESSION_TERM);
        });
        return env;
    }

    private static void replaceEnvironment(ProcessBuilder pb, Map<String, String> env) {
        pb.environment().clear();
        pb.environment().putAll(env);
    }

    /** Polls until Xvnc sends its RFB version and accepts an X client, or fails at the deadline. */
    private void awaitReady(int index, Process server, int display, int port, byte[] cookie)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        boolean rfbReady = false;
        while (true) {
            if (!server.isAlive()) {
                throw new IOException("Xvnc exited with status " + server.exitValue() + ": " + logTail(index));
            }
            if (!rfbReady) rfbReady = rfbBanner(port);
            long remaining = deadline - System.nanoTime();
            Duration probe = Duration.ofNanos(Math.max(0, Math.min(remaining, X11_PROBE_TIMEOUT.toNanos())));
            if (rfbReady && x11Accepts(Path.of("/tmp/.X11-unix/X" + display), cookie, probe)) return;
            if (System.nanoTime() - deadline >= 0) {
                throw new IOException("Xvnc not ready after " + READY_TIMEOUT.toMillis() + " ms");
            }
            Thread.sleep(POLL_INTERVAL);
        }
    }

    /** The last lines of the desktop's log: Xvnc's reason for exiting (it never prints secrets). */
    private String logTail(int index) {
        try {
            List<String> lines = Files.readAllLines(logFile(index));
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size())).strip();
        } catch (IOException | RuntimeException e) {
            return "(no log)";
        }
    }

    /** Whether a TCP connect to the RFB port succeeds and the server sends "RFB 003.00x". */
    static boolean rfbBanner(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            s.setSoTimeout(1000);
            InputStream in = s.getInputStream();
            byte[] version = in.readNBytes(RFB_VERSION_BYTES);
            return new String(version, StandardCharsets.US_ASCII).startsWith(RFB_VERSION_PREFIX);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Whether the X server on the Unix socket {@code socket} completes a connection setup with
     * {@code cookie} within {@code timeout}; false when it refuses, closes, or stays silent that long.
     */
    static boolean x11Accepts(Path socket, byte[] cookie, Duration timeout) {
        if (!Files.exists(socket)) return false;
        long deadline = System.nanoTime() + timeout.toNanos();
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
             Selector selector = Selector.open()) {
            ch.configureBlocking(false);
            byte[] name = XAuthority.COOKIE_NAME.getBytes(StandardCharsets.US_ASCII);
            ByteBuffer setup = ByteBuffer.allocate(12 + pad4(name.length) + pad4(cookie.length))
                    .order(ByteOrder.LITTLE_ENDIAN);
            setup.put((byte) 'l').put((byte) 0).putShort((short) 11).putShort((short) 0)
                    .putShort((short) name.length).putShort((short) cookie.length).putShort((short) 0);
            setup.put(name).position(12 + pad4(name.length)).put(cookie).position(setup.capacity()).flip();
            ByteBuffer reply = ByteBuffer.allocate(1);
            SelectionKey key = ch.register(selector, 0);
            boolean connected = ch.connect(UnixDomainSocketAddress.of(socket));
            while (true) {
                if (!connected) {
                    key.interestOps(SelectionKey.OP_CONNECT);
                } else if (setup.hasRemaining()) {
                    ch.write(setup);
                    key.interestOps(SelectionKey.OP_WRITE);
                } else {
                    int n = ch.read(reply);
                    if (n < 0) return false;
                    if (n == 1) return reply.get(0) == X11_SETUP_SUCCESS;
                    key.interestOps(SelectionKey.OP_READ);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                selector.selectedKeys().clear();
                if (selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))) > 0 && key.isConnectable()) {
                    connected = ch.finishConnect();
                }
            }
        } catch (IOException e) {
            return false;
        }
    }

    private static int pad4(int n) {
        return (n + 3) & ~3;
    }

    /**
     * Stops a desktop: its session programs and Xvnc together, with all their descendants (SIGTERM,
     * then SIGKILL after {@link #STOP_GRACE}), and removes the X lock and socket Xvnc left behind.
     * Together, because twm only notices SIGTERM at its next X event; it exits at once when its X
     * server goes away.
     */
    void stop(RunningDesktop desktop) {
        List<Process> all = new ArrayList<>(desktop.session());
        all.add(desktop.xvnc());
        terminate(all);
        cleanUpDisplay(desktop.display(), desktop.xvnc());
        releaseDisplay(desktop.display());
    }

    /**
     * Terminates processes and all their descendants; returns when all are gone or were killed.
     * Only the given processes get SIGTERM, and up to {@link #STOP_GRACE} to exit: their descendants
     * usually follow by themselves (an interactive shell ignores SIGTERM but exits on the hang-up when
     * its xterm closes the terminal). Descendants still there {@link #ORPHAN_GRACE} later, and roots
     * past their grace, get SIGKILL: the session they belonged to is over.
     */
    static void terminate(List<Process> processes) {
        List<ProcessHandle> roots = processes.stream().map(Process::toHandle).toList();
        List<ProcessHandle> tree = new ArrayList<>(roots);
        for (Process p : processes) p.toHandle().descendants().forEach(tree::add);
        processes.forEach(Process::destroy);
        boolean rootsGone = awaitGone(roots, STOP_GRACE);
        if (!rootsGone || !awaitGone(tree, ORPHAN_GRACE)) {
            tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
            if (!awaitGone(tree, STOP_GRACE)) {
                LOG.warn("processes survived SIGKILL: {}", tree.stream().filter(ProcessHandle::isAlive)
                        .map(ProcessHandle::pid).toList());
            }
        }
    }

    private static boolean awaitGone(List<ProcessHandle> tree, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (tree.stream().anyMatch(ProcessHandle::isAlive)) {
            if (System.nanoTime() - deadline >= 0) return false;
            try {
                Thread.sleep(POLL_INTERVAL);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** Removes {@code /tmp/.X<n>-lock} and the X socket if our (now dead) Xvnc left them behind. */
    private static void cleanUpDisplay(int display, Process server) {
        if (server == null || server.isAlive()) return;
        Path lock = Path.of("/tmp/.X" + display + "-lock");
        try {
            if (Files.exists(lock)) {
                String owner = Files.readString(lock).strip();
                if (!owner.equals(Long.toString(server.pid()))) return;
                Files.deleteIfExists(lock);
            }
            Files.deleteIfExists(Path.of("/tmp/.X11-unix/X" + display));
        } catch (IOException e) {
            LOG.warn("could not remove the X lock or socket of display :{}: {}", display, e.getMessage());
        }
    }

    private synchronized int reserveDisplay() throws IOException {
        for (int d = FIRST_DISPLAY; d < FIRST_DISPLAY + DISPLAY_RANGE; d++) {
            if (reservedDisplays.contains(d)) continue;
            if (Files.exists(Path.of("/tmp/.X" + d + "-lock")) || Files.exists(Path.of("/tmp/.X11-unix/X" + d))) continue;
            reservedDisplays.add(d);
            return d;
        }
        throw new IOException("no free X display in :" + FIRST_DISPLAY + "..:" + (FIRST_DISPLAY + DISPLAY_RANGE - 1));
    }

    private synchronized void releaseDisplay(int display) {
        reservedDisplays.remove(display);
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
