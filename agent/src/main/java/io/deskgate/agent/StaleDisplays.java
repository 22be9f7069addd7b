package io.deskgate.agent;

import io.deskgate.common.RateLimitedLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.slf4j.LoggerFactory;

/**
 * Whether an X display number is free for a new Xvnc, reclaiming it when a dead X server left it behind. An X
 * server holds {@code /tmp/.X<n>-lock} (its pid, as text) and {@code /tmp/.X11-unix/X<n>} while it runs; one killed
 * with SIGKILL (a crashed or killed agent, a host's hard stop) leaves both, and without this every such kill would
 * take a display number away for good (the agent's range is finite). A lock naming a pid that is not running is
 * stale, as the X server itself judges it: the lock and the socket go, and the display is used. Anything else
 * (a live pid, a lock that is not a pid, a socket with no lock, a file this process may not remove) leaves the
 * display alone. docs/security.md, "Desktops": another local account may plant such files to block displays;
 * it can block, not take over, since the agent's Xvnc creates its own lock and socket afresh.
 */
final class StaleDisplays {
    private static final RateLimitedLog LOG = new RateLimitedLog(LoggerFactory.getLogger(StaleDisplays.class));
    private static final int MAX_LOCK_BYTES = 64;

    private StaleDisplays() {}

    /** True when display {@code n} has no lock and no socket under {@code tmp}, or had a stale lock that is now removed. */
    static boolean freeOrReclaimed(Path tmp, int n) {
        if (!Files.exists(lock(tmp, n), LinkOption.NOFOLLOW_LINKS)) return !Files.exists(socket(tmp, n), LinkOption.NOFOLLOW_LINKS);
        OptionalLong owner = lockOwner(tmp, n);
        if (owner.isEmpty() || ProcessHandle.of(owner.getAsLong()).isPresent()) return false;
        long pid = owner.getAsLong();
        try {
            remove(tmp, n);
            LOG.info("display-stale", "display :{} was left by a dead X server (pid {}): reclaimed", n, pid);
            return true;
        } catch (IOException e) {
            LOG.warn("display-stale-kept", "display :{} was left by a dead X server (pid {}) and cannot be reclaimed: {}", n, pid, e.getMessage());
            return false;
        }
    }

    /**
     * The pid display {@code n}'s lock names: empty when there is no lock, or it is not a plain file of at most
     * {@value #MAX_LOCK_BYTES} bytes holding one positive number (a planted link or FIFO is never opened: reading
     * it could block or leave {@code tmp}).
     */
    static OptionalLong lockOwner(Path tmp, int n) {
        Path lock = lock(tmp, n);
        if (!Files.isRegularFile(lock, LinkOption.NOFOLLOW_LINKS)) return OptionalLong.empty();
        try {
            if (Files.size(lock) > MAX_LOCK_BYTES) return OptionalLong.empty();
            String text = Files.readString(lock).strip();
            if (text.isEmpty() || text.length() > 10 || !text.chars().allMatch(Character::isDigit)) return OptionalLong.empty();
            long pid = Long.parseLong(text);
            return pid > 0 ? OptionalLong.of(pid) : OptionalLong.empty();
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    /** Removes display {@code n}'s socket and lock, whichever exist. */
    static void remove(Path tmp, int n) throws IOException {
        Files.deleteIfExists(socket(tmp, n));
        Files.deleteIfExists(lock(tmp, n));
    }

    static Path lock(Path tmp, int n) {
        return tmp.resolve(".X" + n + "-lock");
    }

    private static Path socket(Path tmp, int n) {
        return tmp.resolve(".X11-unix").resolve("X" + n);
    }
}
