package io.deskgate.agent;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Host-wide claim of one set of desktop users ({@code <userPrefix>1}, {@code <userPrefix>2} ...): an
 * exclusive lock on {@code <runtimeBase>/<userPrefix>.lock}, held for the agent's life and released by
 * the kernel when its process dies. An agent stops every process of its desktop users at start (what a
 * crashed run left), so a second live agent with the same users would kill the first one's desktops:
 * it is refused with one clear message instead. A free lock means no live agent owns these users.
 * Not thread-safe; the agent takes it once and releases it on close.
 */
final class DesktopUsersLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private DesktopUsersLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Claims the desktop users of {@code isolation}; the base directory must exist.
     *
     * @throws DeskgateException when another live agent on this host holds them
     */
    static DesktopUsersLock claim(DesktopIsolation isolation) throws IOException {
        Path file = isolation.runtimeBase().resolve(isolation.userPrefix() + ".lock");
        FileChannel channel = FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            String holder = Files.readString(file, StandardCharsets.US_ASCII).strip();
            channel.close();
            throw new DeskgateException(Status.INTERNAL_ERROR, "desktop users " + isolation.userPrefix()
                    + "<n> are in use by another agent on this host" + (holder.isEmpty() ? "" : " (pid " + holder + ")")
                    + ": give each agent its own desktop user prefix");
        }
        channel.truncate(0);
        channel.write(ByteBuffer.wrap(Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.US_ASCII)), 0);
        return new DesktopUsersLock(channel, lock);
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            // the process is closing the agent; the kernel releases the lock with the file anyway
        }
    }
}
