package io.deskgate.launcher;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.store.OwnerOnlyFiles;
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
 * The data directory of one running platform, claimed for the life of the JVM: an exclusive lock on
 * {@code <data>/lock} (released by the kernel when the JVM dies, even by {@code kill -9}, so a free lock
 * means whatever an earlier run left there may be cleaned up), and every path in it made owner-only
 * ({@code 0700} directories, {@code 0600} files) at each start, fixing a looser tree from before.
 */
final class DataDirectory implements AutoCloseable {
    static final String LOCK_FILE = "lock";

    private final Path dir;
    private final FileChannel channel;
    private final FileLock lock;

    private DataDirectory(Path dir, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Creates {@code dir} if needed, locks it, and makes it owner-only.
     *
     * @throws DeskgateException when it cannot be created or written, or another process holds it
     */
    static DataDirectory claim(Path dir) {
        Path abs = dir.toAbsolutePath();
        try {
            if (abs.getParent() != null) Files.createDirectories(abs.getParent());
            OwnerOnlyFiles.directory(abs);
        } catch (IOException | SecurityException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "data directory " + abs + " cannot be created: " + e.getMessage());
        }
        if (!Files.isWritable(abs)) throw new DeskgateException(Status.INTERNAL_ERROR, "data directory " + abs + " is not writable");
        Path lockFile = abs.resolve(LOCK_FILE);
        FileChannel channel;
        try {
            channel = FileChannel.open(lockFile, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(OwnerOnlyFiles.FILE));
        } catch (IOException e) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "data directory " + abs + " is not writable: " + e.getMessage());
        }
        try {
            FileLock lock = tryLock(channel);
            if (lock == null) {
                String holder = holder(channel);
                channel.close();
                throw new DeskgateException(Status.INTERNAL_ERROR, "data directory " + abs
                        + " is in use by another deskgate" + (holder.isEmpty() ? "" : " (pid " + holder + ")"));
            }
            channel.truncate(0).write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
            OwnerOnlyFiles.restrictTree(abs);
            return new DataDirectory(abs, channel, lock);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new DeskgateException(Status.INTERNAL_ERROR, "cannot make data directory " + abs + " owner-only: " + e.getMessage());
        }
    }

    private static FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException e) {
            return null; // this JVM holds it already
        }
    }

    /** The pid the holder wrote into the lock file, or {@code ""}. */
    private static String holder(FileChannel channel) {
        try {
            ByteBuffer buf = ByteBuffer.allocate(32);
            channel.read(buf, 0);
            String pid = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).strip();
            return pid.matches("[0-9]{1,10}") ? pid : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing left to release
        }
    }

    Path path() { return dir; }

    /** Releases the lock (also released by the kernel when the JVM dies). */
    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
