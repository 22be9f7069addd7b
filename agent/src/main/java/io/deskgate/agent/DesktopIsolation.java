package io.deskgate.agent;

import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Which OS users the desktops of an agent run as, when the agent runs as root: desktop {@code n} (from
 * 1) runs as the system user {@code <userPrefix><n>}, created by the agent if missing with a uid in
 * {@code firstUid..lastUid}, its home at {@code <homeBase>/<name>}, and the files its X server must
 * read (X authority, VNC password file, window manager config) in {@code <runtimeBase>/<name>}.
 * Ignored when the agent does not run as root: desktops then run as the agent's own user. Two agents
 * on one host need distinct prefixes, since an agent stops every process of its users at start.
 * Validated when built.
 *
 * @param userPrefix  start of the desktop users' names: a lower-case letter, then letters, digits, '-'
 *                    or '_', at most 24 characters (default {@code deskgate-d})
 * @param firstUid    lowest uid the agent may give a desktop user it creates (default 64000)
 * @param lastUid     highest such uid (default 64999); outside Debian's ranges for people and packages
 * @param homeBase    where the desktop users' homes are (default {@code /var/lib/deskgate-desktops})
 * @param runtimeBase where the per-desktop file directories are (default {@code /run/deskgate-desktops}); both
 *                    bases must be outside the platform's private data directory
 */
public record DesktopIsolation(String userPrefix, int firstUid, int lastUid, Path homeBase, Path runtimeBase) {
    private static final Pattern PREFIX = Pattern.compile("[a-z][a-z0-9_-]{0,23}");
    public static final DesktopIsolation DEFAULT = new DesktopIsolation("deskgate-d", 64000, 64999,
            Path.of("/var/lib/deskgate-desktops"), Path.of("/run/deskgate-desktops"));

    public DesktopIsolation {
        Objects.requireNonNull(userPrefix, "userPrefix");
        Objects.requireNonNull(homeBase, "homeBase");
        Objects.requireNonNull(runtimeBase, "runtimeBase");
        if (!PREFIX.matcher(userPrefix).matches()) {
            throw new IllegalArgumentException("userPrefix must be a lower-case letter then up to 23 of [a-z0-9_-]: "
                    + userPrefix);
        }
        if (firstUid < 1000 || lastUid < firstUid || lastUid >= 65534) {
            throw new IllegalArgumentException("desktop uid range must be within 1000..65533 and not empty: "
                    + firstUid + ".." + lastUid);
        }
        if (!homeBase.isAbsolute() || !runtimeBase.isAbsolute()) {
            throw new IllegalArgumentException("homeBase and runtimeBase must be absolute: " + homeBase + ", " + runtimeBase);
        }
        homeBase = homeBase.normalize();
        runtimeBase = runtimeBase.normalize();
        if (homeBase.startsWith(runtimeBase) || runtimeBase.startsWith(homeBase)) {
            throw new IllegalArgumentException("homeBase and runtimeBase must not contain each other: "
                    + homeBase + ", " + runtimeBase);
        }
    }

    /** The OS user of desktop {@code index} (from 0). */
    public String userName(int index) {
        return userPrefix + (index + 1);
    }

    public int uidCount() {
        return lastUid - firstUid + 1;
    }
}
