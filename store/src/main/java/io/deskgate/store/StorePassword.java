package io.deskgate.store;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Set;

/**
 * Where an external store's password comes from: a file only its owner can read, or an environment
 * variable; never the command line (which every local account can read in {@code /proc}) and never the JDBC
 * URL ({@link Database#external} refuses a URL that carries one). Stateless.
 */
public final class StorePassword {
    private static final Set<PosixFilePermission> GROUP_OR_OTHER = Set.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);
    private static final int MAX_BYTES = 4096;

    private StorePassword() {}

    /**
     * The first line of {@code file}, which must be a regular file (not a symbolic link) owned by the
     * user this process runs as, with no group or other permission ({@code 0600} or {@code 0400}).
     *
     * @throws DeskgateException naming the file and what is wrong with it (never its content)
     */
    public static String fromFile(Path file) {
        PosixFileAttributes attrs;
        try {
            attrs = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw refused(file, "cannot be read (" + e.getClass().getSimpleName() + ")");
        }
        if (!attrs.isRegularFile()) throw refused(file, "is not a regular file");
        String me = System.getProperty("user.name");
        if (!attrs.owner().getName().equals(me)) throw refused(file, "is owned by " + attrs.owner().getName() + ", not " + me);
        if (attrs.permissions().stream().anyMatch(GROUP_OR_OTHER::contains)) {
            throw refused(file, "is readable or writable by others (chmod 600 it)");
        }
        if (attrs.size() > MAX_BYTES) throw refused(file, "is larger than " + MAX_BYTES + " bytes");
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw refused(file, "cannot be read (" + e.getClass().getSimpleName() + ")");
        }
        String password = text.lines().findFirst().orElse("").strip();
        if (password.isEmpty()) throw refused(file, "is empty");
        return password;
    }

    /**
     * The value of {@code variable} in {@code env} (the process's: {@code System.getenv()}).
     *
     * @throws DeskgateException when it is unset or empty (never quoting a value)
     */
    public static String fromEnvironment(Map<String, String> env, String variable) {
        String value = env.get(variable);
        if (value == null || value.isBlank()) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "the store password variable " + variable + " is not set");
        }
        return value;
    }

    private static DeskgateException refused(Path file, String why) {
        return new DeskgateException(Status.INTERNAL_ERROR, "store password file " + file + " " + why);
    }
}
