package io.deskgate.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Who one desktop's processes run as. Either the desktop's own unprivileged system user
 * ({@code ownUser}: the agent runs as root and starts every process through {@code setpriv} with that
 * uid and group, no supplementary groups, no capabilities and no way to regain privileges), or the
 * agent's own user (a single-user laptop setup).
 *
 * @param name     the OS user name
 * @param uid      its uid
 * @param gid      its primary group
 * @param shell    its login shell (the session's {@code SHELL})
 * @param home     its home directory, where the session starts
 * @param filesDir where the files the desktop's X server and window manager read are kept: owned by the
 *                 platform, readable by this desktop's group only (mode 0750; files 0640)
 * @param ownUser  whether this is a desktop user of its own rather than the platform's user
 */
record DesktopAccount(String name, int uid, int gid, String shell, Path home, Path filesDir, boolean ownUser) {
    /** setpriv of util-linux, which Debian installs on every system. */
    static final String SETPRIV = "/usr/bin/setpriv";

    DesktopAccount {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(shell, "shell");
        Objects.requireNonNull(home, "home");
        Objects.requireNonNull(filesDir, "filesDir");
        if (ownUser && (uid == 0 || gid == 0)) throw new IllegalArgumentException("a desktop user is never root: " + name);
    }

    DesktopAccount withHome(Path dir) {
        return new DesktopAccount(name, uid, gid, shell, dir, filesDir, ownUser);
    }

    /** {@code argv} as this account runs it. */
    List<String> command(List<String> argv) {
        if (!ownUser) return argv;
        List<String> out = new ArrayList<>(List.of(SETPRIV, "--reuid=" + uid, "--regid=" + gid, "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"));
        out.addAll(argv);
        return List.copyOf(out);
    }

    /**
     * Makes a file the platform just wrote (mode 0600) readable by this desktop's processes and nobody
     * else's: group of the desktop user, mode 0640. Nothing to do for the platform's own user.
     */
    void shareWithDesktop(Path file) throws IOException {
        if (!ownUser) return;
        Files.setAttribute(file, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
    }
}
