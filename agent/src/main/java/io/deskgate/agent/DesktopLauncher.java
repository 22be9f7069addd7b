package io.deskgate.agent;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Secrets;
import io.deskgate.common.Status;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
    static final Duration POLL_INTERVAL = Duration.ofMillis(20);
    /** How long each session program must stay up after its start for the desktop to count as healthy. */
    static final Duration SESSION_SETTLE = Duration.ofSeconds(1);
    /**
     * The window manager's config (resource {@code twmrc}): place every new window by itself
     * ({@code RandomPlacement}, or where the program asks) instead of waiting for a click while holding
     * an X server grab, which would hang every other X client of the desktop until someone clicked.
     */
    static final byte[] TWMRC = twmrc();
    /** Longest one X readiness probe waits for the setup reply (less when the launch deadline is nearer). */
    static final Duration X11_PROBE_TIMEOUT = Duration.ofSeconds(1);
    /** Variables copied from the agent's environment into the desktop's processes when set; nothing else is. */
    static final List<String> INHERITED_VARIABLES = List.of("PATH", "LANG", "LC_ALL", "USER", "LOGNAME", "SHELL");
    static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";
    /** What the session's programs are told about their terminal. */
    static final String SESSION_TERM = "xterm";

    /** Commands the agent needs and the Debian packages that provide them. */
    static final Map<String, String> PACKAGES = Map.of(
            "Xvnc", "tigervnc-standalone-server", "twm", "twm", "xterm", "xterm");

    /** One launched desktop: its display, RFB port and processes. */
    record RunningDesktop(int index, int display, int rfbPort, Process xvnc, List<Process> session) {}

    /** A session program exited right after its start: the desktop is unhealthy, retrying at once is pointless. */
    static final class SessionProgramExited extends IOException {
        SessionProgramExited(String message) {
            super(message);
        }
    }

    private final AgentConfig config;
    private final Path xvnc;
    private final List<List<String>> sessionCommands;
    private final Set<Integer> reservedDisplays = new HashSet<>();
    /** Who each desktop runs as; set by {@link #prepare}. */
    private final Map<Integer, DesktopAccount> accounts = new ConcurrentHashMap<>();
    /** Each desktop's current (per-launch) VNC password file. */
    private final Map<Integer, Path> passwordFiles = new ConcurrentHashMap<>();
    /** The launch of each desktop that is current: only it may stop every process of the desktop's user. */
    private final Map<Integer, RunningDesktop> current = new ConcurrentHashMap<>();
    /** One lock per desktop: its launch and stop never overlap. */
    private final Object[] desktopLocks;
    /** Held while this launcher's desktop users are ours (root only); see {@link DesktopUsersLock}. */
    private volatile Optional<DesktopUsersLock> usersLock = Optional.empty();

    private DesktopLauncher(AgentConfig config, Path xvnc, List<List<String>> sessionCommands) {
        this.config = config;
        this.xvnc = xvnc;
        this.sessionCommands = sessionCommands;
        this.desktopLocks = new Object[config.desktops()];
        for (int i = 0; i < desktopLocks.length; i++) desktopLocks[i] = new Object();
    }

    private static byte[] twmrc() {
        try (InputStream in = DesktopLauncher.class.getResourceAsStream("twmrc")) {
            if (in == null) throw new IllegalStateException("resource twmrc missing");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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

    /**
     * Before the first launch: creates the runtime directory (0700), stops what an earlier run of this
     * runtime directory left behind, decides who each desktop runs as (when root: its own system user, created if missing, every process of it
     * stopped) and removes password files of earlier runs. Returns whether desktops have users of their own.
     */
    boolean prepare() throws IOException {
        boolean root = DesktopUsers.platformIsRoot();
        if (root) {
            // Claimed before anything is stopped: a live agent's desktops are never taken for leftovers.
            DesktopUsers.prepareBases(config.isolation());
            usersLock = Optional.of(DesktopUsersLock.claim(config.isolation()));
        }
        Files.createDirectories(config.runtimeDir());
        Files.setPosixFilePermissions(config.runtimeDir(), PosixFilePermissions.fromString("rwx------"));
        int leftovers = LeftoverProcesses.stopAll(config.runtimeDir());
        if (leftovers > 0) {
            LOG.warn("agent {}: stopped {} desktop process(es) left by an earlier run", config.agentId(), leftovers);
        }
        for (int i = 0; i < config.desktops(); i++) {
            DesktopAccount account = root ? DesktopUsers.ensure(config.isolation(), i)
                    : DesktopUsers.platformUser(config.runtimeDir());
            if (root) {
                int stopped = ProcessTrees.killUser(account.uid());
                if (stopped > 0) LOG.warn("agent {}: stopped {} process(es) of desktop user {} left by an earlier run",
                        config.agentId(), stopped, account.name());
            }
            removePasswordFiles(account.filesDir(), i, null);
            accounts.put(i, account);
        }
        if (!root) {
            LOG.warn("deskgate: desktops run as the platform's user (not root): a desktop user can read the platform's"
                    + " data; run as root for one system user per desktop");
        }
        return root;
    }

    /** Gives up the claim on the desktop users, once every desktop is stopped. */
    void releaseUsers() {
        usersLock.ifPresent(DesktopUsersLock::close);
        usersLock = Optional.empty();
    }

    DesktopAccount account(int index) {
        DesktopAccount a = accounts.get(index);
        if (a == null) throw new IllegalStateException("desktop " + (index + 1) + " not prepared");
        return a;
    }

    /** Writes and returns a fresh one-time password into the desktop's current password file. */
    String issuePassword(int index) throws IOException {
        return VncPasswordFile.issue(currentPasswordFile(index), account(index)::shareWithDesktop);
    }

    /** Writes a random secret nobody knows into the desktop's current password file. */
    void scramblePassword(int index) throws IOException {
        VncPasswordFile.scramble(currentPasswordFile(index), account(index)::shareWithDesktop);
    }

    Path currentPasswordFile(int index) {
        Path p = passwordFiles.get(index);
        if (p == null) throw new IllegalStateException("desktop " + (index + 1) + " has no password file yet");
        return p;
    }

    /** A new password file name for each launch, so an Xvnc that outlived its agent never reads a new password. */
    private Path newPasswordFile(int index) throws IOException {
        Path dir = account(index).filesDir();
        Path file = dir.resolve("desktop-" + (index + 1) + "." + HexFormat.of().formatHex(Secrets.randomBytes(8)) + ".passwd");
        removePasswordFiles(dir, index, null);
        VncPasswordFile.scramble(file, account(index)::shareWithDesktop);
        passwordFiles.put(index, file);
        return file;
    }

    private static void removePasswordFiles(Path dir, int index, Path keep) throws IOException {
        if (!Files.isDirectory(dir)) return;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "desktop-" + (index + 1) + ".*passwd*")) {
            for (Path f : files) if (!f.equals(keep)) Files.deleteIfExists(f);
        }
    }

    private Path authorityFile(int index) {
        return account(index).filesDir().resolve("desktop-" + (index + 1) + ".xauth");
    }

    private Path twmrcFile(int index) {
        return account(index).filesDir().resolve("desktop-" + (index + 1) + ".twmrc");
    }

    private Path logFile(int index) {
        return config.runtimeDir().resolve("desktop-" + (index + 1) + ".log");
    }

    private Path sessionLogFile(int index, int program) {
        return config.runtimeDir().resolve("desktop-" + (index + 1) + ".session-" + (program + 1) + ".log");
    }

    /**
     * Launches desktop {@code index}: stops whatever its user still runs and resets its home, writes a
     * new password file (scrambled), starts Xvnc on a free display and port (retrying on a race with
     * another X server), waits until it serves RFB and accepts X clients, then starts the session
     * programs and checks that each stays up for {@link #SESSION_SETTLE}.
     *
     * @throws SessionProgramExited when a session program exited at start (not retried)
     * @throws IOException when no attempt got a desktop ready
     */
    RunningDesktop launch(int index) throws IOException {
        synchronized (desktopLocks[index]) {
            current.remove(index);
            DesktopAccount account = account(index);
            if (account.ownUser()) {
                ProcessTrees.killUser(account.uid());
                DesktopUsers.resetHome(account);
            }
            newPasswordFile(index);
            writeShared(twmrcFile(index), TWMRC, account);
            RunningDesktop desktop = launchXvnc(index);
            current.put(index, desktop);
            return desktop;
        }
    }

    /**
     * Creates {@code file} afresh, owner-only (0600), before anything writes to it: a redirect or a plain
     * write would create it with the umask's mode.
     */
    static void createOwnerOnly(Path file) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }

    private static void writeShared(Path file, byte[] content, DesktopAccount account) throws IOException {
        createOwnerOnly(file);
        Files.write(file, content);
        account.shareWithDesktop(file);
    }

    private RunningDesktop launchXvnc(int index) throws IOException {
        IOException last = null;
        for (int attempt = 1; attempt <= LAUNCH_ATTEMPTS; attempt++) {
            int display = reserveDisplay();
            Process server = null;
            try {
                byte[] cookie = Secrets.randomBytes(XAuthority.COOKIE_BYTES);
                XAuthority.write(authorityFile(index), display, cookie);
                account(index).shareWithDesktop(authorityFile(index));
                int port = freeLoopbackPort();
                server = startXvnc(index, display, port);
                awaitReady(index, server, display, port, cookie);
                List<Process> session = startSession(index, display);
                List<ProcessHandle> recorded = new ArrayList<>(List.of(server.toHandle()));
                session.forEach(p -> recorded.add(p.toHandle()));
                LeftoverProcesses.record(LeftoverProcesses.file(config.runtimeDir(), index), display, recorded);
                LOG.info("desktop {}/{} ready on display :{} with RFB on 127.0.0.1:{} (Xvnc pid {})",
                        config.agentId(), index + 1, display, port, server.pid());
                return new RunningDesktop(index, display, port, server, session);
            } catch (SessionProgramExited e) {
                terminate(List.of(server));
                cleanUpDisplay(display, server);
                releaseDisplay(display);
                throw e;
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
                "-SecurityTypes", "VncAuth", "-PasswordFile", currentPasswordFile(index).toString(),
                "-auth", authorityFile(index).toString(),
                "-desktop", config.agentId() + "/" + (index + 1),
                "-AlwaysShared=0", "-NeverShared=0", "-DisconnectClients=1",
                // The blacklist counts failures per host, and every client is 127.0.0.1: five bad logins by
                // any local account would lock the engine out. One-time passwords make guessing useless.
                "-UseBlacklist=0",
                "-nolisten", "tcp");
        createOwnerOnly(logFile(index));
        DesktopAccount account = account(index);
        ProcessBuilder pb = new ProcessBuilder(account.command(argv)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(logFile(index).toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .directory(account.home().toFile());
        replaceEnvironment(pb, childEnvironment(System.getenv(), account, OptionalInt.empty(), authorityFile(index)));
        return pb.start();
    }

    /**
     * Starts the session programs (in the desktop user's home; twm with the agent's config unless the
     * command names one), each logging to its own file, then waits {@link #SESSION_SETTLE}: a program
     * that exited by then makes the launch fail with {@link SessionProgramExited}, naming it, its
     * status and its last output line.
     */
    private List<Process> startSession(int index, int display) throws IOException {
        DesktopAccount account = account(index);
        List<Process> started = new ArrayList<>();
        try {
            for (int k = 0; k < sessionCommands.size(); k++) {
                List<String> argv = new ArrayList<>(sessionCommands.get(k));
                if (Path.of(argv.getFirst()).getFileName().toString().equals("twm") && !argv.contains("-f")) {
                    argv.addAll(List.of("-f", twmrcFile(index).toString()));
                }
                createOwnerOnly(sessionLogFile(index, k));
                ProcessBuilder pb = new ProcessBuilder(account.command(argv)).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.to(sessionLogFile(index, k).toFile()))
                        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                        .directory(account.home().toFile());
                replaceEnvironment(pb, childEnvironment(System.getenv(), account, OptionalInt.of(display),
                        authorityFile(index)));
                started.add(pb.start());
            }
            awaitSettled(index, started);
        } catch (IOException e) {
            terminate(started);
            throw e;
        }
        return List.copyOf(started);
    }

    private void awaitSettled(int index, List<Process> started) throws IOException {
        long deadline = System.nanoTime() + SESSION_SETTLE.toNanos();
        for (int k = 0; k < started.size(); k++) {
            Process p = started.get(k);
            boolean exited;
            try {
                exited = p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while starting the session of desktop " + (index + 1), e);
            }
            if (exited) {
                String program = Path.of(sessionCommands.get(k).getFirst()).getFileName().toString();
                throw new SessionProgramExited(program + " exited at start (status " + p.exitValue() + "): "
                        + lastLine(sessionLogFile(index, k)));
            }
        }
    }

    /** The last non-blank line of a session program's output (never a secret: the agent passes it none). */
    static String lastLine(Path log) {
        try {
            List<String> lines = Files.readAllLines(log).stream().filter(l -> !l.isBlank()).toList();
            return lines.isEmpty() ? "(no output)" : lines.getLast().strip();
        } catch (IOException | RuntimeException e) {
            return "(no output)";
        }
    }

    /**
     * The whole environment of a desktop's process: the agent's own environment (which may hold secrets
     * such as the admin password) is not passed on, only {@link #INHERITED_VARIABLES} that are set, plus
     * {@code HOME}, {@code XAUTHORITY} and, for the session's programs ({@code display} present),
     * {@code DISPLAY} and {@code TERM}.
     */
    static Map<String, String> childEnvironment(Map<String, String> inherited, Path home, OptionalInt display,
                                                Path xauthority) {
        return childEnvironment(inherited, DesktopUsers.platformUser(home).withHome(home), display, xauthority);
    }

    /**
     * As above for {@code account}: a desktop user of its own gets its own {@code USER}, {@code LOGNAME},
     * {@code SHELL} and {@code HOME}, never the platform's.
     */
    static Map<String, String> childEnvironment(Map<String, String> inherited, DesktopAccount account,
                                                OptionalInt display, Path xauthority) {
        Path home = account.home();
        Map<String, String> env = new LinkedHashMap<>();
        for (String name : INHERITED_VARIABLES) {
            String value = inherited.get(name);
            if (value != null && !value.isEmpty()) env.put(name, value);
        }
        env.putIfAbsent("PATH", DEFAULT_PATH);
        if (account.ownUser()) {
            env.put("USER", account.name());
            env.put("LOGNAME", account.name());
            env.put("SHELL", account.shell());
        }
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
            if (!rfbReady) rfbReady = DesktopProbes.rfbBanner(port);
            long remaining = deadline - System.nanoTime();
            Duration probe = Duration.ofNanos(Math.max(0, Math.min(remaining, X11_PROBE_TIMEOUT.toNanos())));
            if (rfbReady && DesktopProbes.x11Accepts(Path.of("/tmp/.X11-unix/X" + display), cookie, probe)) return;
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

    /**
     * Stops a desktop: its session programs and Xvnc together, with all their descendants (SIGTERM,
     * then SIGKILL after {@link ProcessTrees#STOP_GRACE}), then, if it is still the desktop's current
     * launch, every other process of its own user (whatever the session started and detached), and
     * removes the X lock and socket Xvnc left behind and its password file. Together, because twm only
     * notices SIGTERM at its next X event; it exits at once when its X server goes away.
     */
    void stop(RunningDesktop desktop) {
        int index = desktop.index();
        synchronized (desktopLocks[index]) {
            List<Process> all = new ArrayList<>(desktop.session());
            all.add(desktop.xvnc());
            terminate(all);
            if (current.remove(index, desktop)) {
                DesktopAccount account = account(index);
                if (account.ownUser()) ProcessTrees.killUser(account.uid());
                try {
                    LeftoverProcesses.forget(LeftoverProcesses.file(config.runtimeDir(), index));
                    removePasswordFiles(account.filesDir(), index, null);
                } catch (IOException e) {
                    LOG.warn("desktop {}/{}: cannot remove its run files: {}", config.agentId(), index + 1, e.getMessage());
                }
            }
            cleanUpDisplay(desktop.display(), desktop.xvnc());
            releaseDisplay(desktop.display());
        }
    }

    static void terminate(List<Process> processes) {
        ProcessTrees.terminate(processes.stream().map(Process::toHandle).toList());
    }

    /** Removes {@code /tmp/.X<n>-lock} and the X socket if our (now dead) Xvnc left them behind. */
    private static void cleanUpDisplay(int display, Process server) {
        if (server == null || server.isAlive()) return;
        Path tmp = Path.of("/tmp");
        if (Files.exists(StaleDisplays.lock(tmp, display), LinkOption.NOFOLLOW_LINKS)
                && StaleDisplays.lockOwner(tmp, display).orElse(-1) != server.pid()) return;
        try {
            StaleDisplays.remove(tmp, display);
        } catch (IOException e) {
            LOG.warn("could not remove the X lock or socket of display :{}: {}", display, e.getMessage());
        }
    }

    private synchronized int reserveDisplay() throws IOException {
        for (int d = FIRST_DISPLAY; d < FIRST_DISPLAY + DISPLAY_RANGE; d++) {
            if (reservedDisplays.contains(d)) continue;
            if (!StaleDisplays.freeOrReclaimed(Path.of("/tmp"), d)) continue;
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
