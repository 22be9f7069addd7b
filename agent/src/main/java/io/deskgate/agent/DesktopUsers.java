package io.deskgate.agent;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The OS side of desktop users: finds or creates each desktop's system user ({@code useradd}),
 * prepares its home and file directory, and resets the home between sessions. Runs only when the
 * agent is root. Thread-safe: user creation is serialised in this JVM, and a uid taken meanwhile by
 * another process is retried with the next free one.
 */
final class DesktopUsers {
    static final Path PASSWD = Path.of("/etc/passwd");
    static final String SHELL = "/bin/bash";
    static final int USERADD_ATTEMPTS = 5;
    static final long COMMAND_TIMEOUT_SECONDS = 30;
    private static final Object CREATING = new Object();

    /** One line of {@code /etc/passwd}. */
    record PasswdEntry(String name, int uid, int gid, Path home, String shell) {
        static Optional<PasswdEntry> parse(String line) {
            String[] f = line.split(":", -1);
            if (f.length < 7) return Optional.empty();
            try {
                return Optional.of(new PasswdEntry(f[0], Integer.parseInt(f[2]), Integer.parseInt(f[3]), Path.of(f[5]), f[6]));
            } catch (RuntimeException e) {
                return Optional.empty();
            }
        }
    }

    private DesktopUsers() {}

    /** Whether this JVM runs as root. */
    static boolean platformIsRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The agent's own user, for desktops when the agent is not root; their files stay in {@code runtimeDir}. */
    static DesktopAccount platformUser(Path runtimeDir) {
        Path home = Path.of(System.getProperty("user.home", ""));
        String shell = Optional.ofNullable(System.getenv("SHELL")).filter(s -> !s.isEmpty()).orElse(SHELL);
        return new DesktopAccount(System.getProperty("user.name", ""), -1, -1, shell,
                Files.isDirectory(home) ? home : runtimeDir, runtimeDir, false);
    }

    /** Creates the two bases (root-owned, 0711) and checks that a desktop user can pass through their parents. */
    static void prepareBases(DesktopIsolation isolation) throws IOException {
        for (Path base : List.of(isolation.homeBase(), isolation.runtimeBase())) {
            Files.createDirectories(base);
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
            for (Path p = base.getParent(); p != null; p = p.getParent()) {
                if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                    throw new DeskgateException(Status.INTERNAL_ERROR, "desktop users cannot reach " + base + ": " + p
                            + " is not searchable by others (choose another desktop home or runtime base)");
                }
            }
        }
    }

    /** The existing system user of desktop {@code index}, if any (checked like {@link #ensure}). */
    static Optional<PasswdEntry> existing(DesktopIsolation isolation, int index) throws IOException {
        String name = isolation.userName(index);
        return readPasswd().stream().filter(e -> e.name().equals(name)).findFirst();
    }

    /**
     * The desktop user of desktop {@code index}: the existing one if it is a desktop user of this
     * configuration (uid in range, home under the base), else a new system user. Prepares its file
     * directory ({@code <runtimeBase>/<name>}, root-owned, group the user's, 0750).
     *
     * @throws DeskgateException when the name belongs to an account that is not such a desktop user
     */
    static DesktopAccount ensure(DesktopIsolation isolation, int index) throws IOException {
        String name = isolation.userName(index);
        Path home = isolation.homeBase().resolve(name);
        PasswdEntry entry;
        synchronized (CREATING) {
            entry = existing(isolation, index).orElse(null);
            if (entry == null) entry = create(isolation, name, home);
        }
        if (entry.uid() < isolation.firstUid() || entry.uid() > isolation.lastUid() || !entry.home().equals(home)
                || entry.gid() == 0) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "user " + name + " exists but is not a desktop user of"
                    + " this agent (uid " + entry.uid() + ", home " + entry.home() + "; expected a uid in "
                    + isolation.firstUid() + ".." + isolation.lastUid() + " and home " + home + ")");
        }
        Path files = isolation.runtimeBase().resolve(name);
        Files.createDirectories(files);
        Files.setAttribute(files, "unix:uid", 0, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(files, "unix:gid", entry.gid(), LinkOption.NOFOLLOW_LINKS);
        Files.setPosixFilePermissions(files, PosixFilePermissions.fromString("rwxr-x---"));
        return new DesktopAccount(name, entry.uid(), entry.gid(), SHELL, home, files, true);
    }

    private static PasswdEntry create(DesktopIsolation isolation, String name, Path home) throws IOException {
        String last = "";
        for (int attempt = 0; attempt < USERADD_ATTEMPTS; attempt++) {
            Set<Integer> taken = new HashSet<>();
            readPasswd().forEach(e -> taken.add(e.uid()));
            int uid = isolation.firstUid();
            while (uid <= isolation.lastUid() && taken.contains(uid)) uid++;
            if (uid > isolation.lastUid()) break;
            last = run(List.of("useradd", "--system", "--uid", Integer.toString(uid), "--user-group",
                    "--no-create-home", "--home-dir", home.toString(), "--shell", SHELL, "--comment",
                    "Deskgate desktop", name));
            if (last.isEmpty()) {
                return readPasswd().stream().filter(e -> e.name().equals(name)).findFirst()
                        .orElseThrow(() -> new IOException("useradd did not create " + name));
            }
        }
        throw new DeskgateException(Status.INTERNAL_ERROR, "cannot create the desktop user " + name + " with a uid in "
                + isolation.firstUid() + ".." + isolation.lastUid() + ": " + last);
    }

    /** Runs a command; empty when it succeeded, else its last output line. */
    private static String run(List<String> argv) throws IOException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        try {
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return argv.getFirst() + " timed out";
            }
            if (p.exitValue() == 0) return "";
            List<String> lines = new String(out, StandardCharsets.UTF_8).strip().lines().toList();
            return argv.getFirst() + " exited with " + p.exitValue() + (lines.isEmpty() ? "" : ": " + lines.getLast());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted while running " + argv.getFirst(), e);
        }
    }

    static List<PasswdEntry> readPasswd() throws IOException {
        return Files.readAllLines(PASSWD).stream().map(PasswdEntry::parse).flatMap(Optional::stream).toList();
    }

    /**
     * Empties the desktop user's home and recreates it (owned by the user, 0700). Call only when the
     * user has no process left, so nothing can swap a path under the walk; links are removed, never followed.
     */
    static void resetHome(DesktopAccount account) throws IOException {
        if (!account.ownUser()) return;
        Path home = account.home();
        if (Files.exists(home, LinkOption.NOFOLLOW_LINKS)) {
            Files.walkFileTree(home, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    if (e != null) throw e;
                    if (!dir.equals(home)) Files.delete(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
            if (Files.isSymbolicLink(home)) Files.delete(home);
        }
        Files.createDirectories(home);
        Files.setAttribute(home, "unix:uid", account.uid(), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(home, "unix:gid", account.gid(), LinkOption.NOFOLLOW_LINKS);
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
    }
}
