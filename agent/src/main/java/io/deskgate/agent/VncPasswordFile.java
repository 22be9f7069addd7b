package io.deskgate.agent;

import io.deskgate.common.Secrets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * TigerVNC's password file ({@code Xvnc -PasswordFile}), as {@code vncpasswd -f} writes it: the
 * password's first {@value #PASSWORD_BYTES} bytes, zero-padded, DES-ECB-encrypted with the fixed
 * obfuscation key of {@code d3des} (bytes {@code 23 82 107 6 35 78 88 7}). That implementation reads
 * the key bits of each byte in reverse, so the key handed to the JDK's DES is the bit-reversed form.
 * It is obfuscation, not encryption: the file's 0600 mode is what keeps the password secret.
 *
 * <p>Xvnc re-reads this file at every VNC authentication (verified with TigerVNC 1.12 by
 * {@code AgentXvncTest}), which is what makes one-time passwords possible without restarting it.
 * Stateless and thread-safe.
 */
final class VncPasswordFile {
    /** VNC authentication uses at most this many bytes of a password. */
    static final int PASSWORD_BYTES = 8;
    /** Length of the one-time passwords and of the unknown secrets the agent writes. */
    static final int RANDOM_PASSWORD_CHARS = 8;
    private static final byte[] OBFUSCATION_KEY = {23, 82, 107, 6, 35, 78, 88, 7};

    private VncPasswordFile() {}

    /** The file's bytes for {@code password}: exactly {@value #PASSWORD_BYTES} bytes. */
    static byte[] obfuscate(String password) {
        try {
            Cipher des = Cipher.getInstance("DES/ECB/NoPadding");
            des.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(reverseBits(OBFUSCATION_KEY), "DES"));
            return des.doFinal(padded(password));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no DES/ECB/NoPadding", e);
        }
    }

    /** The password bytes as VNC authentication uses them: truncated or zero-padded to 8 bytes. */
    static byte[] padded(String password) {
        return Arrays.copyOf(password.getBytes(StandardCharsets.ISO_8859_1), PASSWORD_BYTES);
    }

    /** Each byte with its bit order reversed, as {@code d3des} reads DES keys. */
    static byte[] reverseBits(byte[] key) {
        byte[] out = new byte[key.length];
        for (int i = 0; i < key.length; i++) {
            out[i] = (byte) (Integer.reverse(key[i] & 0xff) >>> 24);
        }
        return out;
    }

    /**
     * Replaces {@code file} atomically (write a sibling, then rename) so that Xvnc never reads a
     * half-written file; the file is created with mode 0600.
     */
    static void write(Path file, String password) throws IOException {
        write(file, password, tmp -> {});
    }

    /** Gives the new file its final owner and mode before it replaces the old one (the desktop user's Xvnc reads it). */
    @FunctionalInterface
    interface Access {
        void grant(Path file) throws IOException;
    }

    /** As {@link #write(Path, String)}, with {@code access} applied to the new file before the rename. */
    static void write(Path file, String password, Access access) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(tmp, obfuscate(password));
        access.grant(tmp);
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Writes a fresh random password that nobody is told: the file then admits no one. */
    static void scramble(Path file) throws IOException {
        scramble(file, tmp -> {});
    }

    static void scramble(Path file, Access access) throws IOException {
        write(file, Secrets.randomPassword(RANDOM_PASSWORD_CHARS), access);
    }

    /** Writes and returns a fresh random one-time password. */
    static String issue(Path file) throws IOException {
        return issue(file, tmp -> {});
    }

    static String issue(Path file, Access access) throws IOException {
        String password = Secrets.randomPassword(RANDOM_PASSWORD_CHARS);
        write(file, password, access);
        return password;
    }
}
