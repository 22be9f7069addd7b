package io.deskgate.agent;

import com.fasterxml.jackson.annotation.JsonProperty;
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
 * Validated when built; the config file's {@code agent.isolation} section sets it through {@link Builder}.
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
    public static final DesktopIsolation DEFAULT = builder().build();

    public DesktopIsolation {
        Objects.requireNonNull(userPrefix, "userPrefix");
        Objects.requireNonNull(homeBase, "homeBase");
        Objects.requireNonNull(runtimeBase, "runtimeBase");
        if (!PREFIX.matcher(userPrefix).matches()) {
            throw new IllegalArgumentException("user-prefix must be a lower-case letter then up to 23 of [a-z0-9_-]: "
                    + userPrefix);
        }
        if (firstUid < 1000 || lastUid < firstUid || lastUid >= 65534) {
            throw new IllegalArgumentException("the desktop uid range first-uid..last-uid must be within 1000..65533 and not empty: "
                    + firstUid + ".." + lastUid);
        }
        if (!homeBase.isAbsolute() || !runtimeBase.isAbsolute()) {
            throw new IllegalArgumentException("home-base and runtime-base must be absolute: " + homeBase + ", " + runtimeBase);
        }
        homeBase = homeBase.normalize();
        runtimeBase = runtimeBase.normalize();
        if (homeBase.startsWith(runtimeBase) || runtimeBase.startsWith(homeBase)) {
            throw new IllegalArgumentException("home-base and runtime-base must not contain each other: "
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

    /** A builder holding every default. */
    public static Builder builder() { return new Builder(); }

    /** A builder holding these values. */
    public Builder toBuilder() { return new Builder(this); }

    /**
     * Builds a {@link DesktopIsolation}, validated by {@link #build()}. The methods marked {@code @JsonProperty} are the
     * keys of the {@code agent.isolation} section (docs/configuration.md).
     */
    public static final class Builder {
        private String userPrefix = "deskgate-d";
        private int firstUid = 64000;
        private int lastUid = 64999;
        private Path homeBase = Path.of("/var/lib/deskgate-desktops");
        private Path runtimeBase = Path.of("/run/deskgate-desktops");

        private Builder() {}

        private Builder(DesktopIsolation d) {
            userPrefix = d.userPrefix;
            firstUid = d.firstUid;
            lastUid = d.lastUid;
            homeBase = d.homeBase;
            runtimeBase = d.runtimeBase;
        }

        @JsonProperty public Builder userPrefix(String prefix) { userPrefix = prefix; return this; }

        @JsonProperty public Builder firstUid(int uid) { firstUid = uid; return this; }

        @JsonProperty public Builder lastUid(int uid) { lastUid = uid; return this; }

        @JsonProperty public Builder homeBase(Path base) { homeBase = base; return this; }

        @JsonProperty public Builder runtimeBase(Path base) { runtimeBase = base; return this; }

        /** @throws IllegalArgumentException naming the key of a value out of range */
        public DesktopIsolation build() {
            return new DesktopIsolation(userPrefix, firstUid, lastUid, homeBase, runtimeBase);
        }
    }
}
