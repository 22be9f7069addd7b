package io.deskgate.agent;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * An X authority file with one {@code MIT-MAGIC-COOKIE-1} entry, in the format of libXau
 * ({@code XauWriteAuth}): family (u16), address, display number, name, data, each string a u16
 * big-endian length and its bytes. Family {@value #FAMILY_WILD} matches any address, so the same file
 * serves Xvnc ({@code -auth}) and its clients ({@code XAUTHORITY}). Without it any local user could
 * connect to a desktop's X server and read what is typed there. Stateless.
 */
final class XAuthority {
    static final int FAMILY_WILD = 0xFFFF;
    static final String COOKIE_NAME = "MIT-MAGIC-COOKIE-1";
    static final int COOKIE_BYTES = 16;

    private XAuthority() {}

    static byte[] encode(int display, byte[] cookie) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeU16(out, FAMILY_WILD);
        writeCounted(out, new byte[0]);
        writeCounted(out, Integer.toString(display).getBytes(StandardCharsets.US_ASCII));
        writeCounted(out, COOKIE_NAME.getBytes(StandardCharsets.US_ASCII));
        writeCounted(out, cookie);
        return out.toByteArray();
    }

    /** Writes the file with mode 0600, replacing any previous one. */
    static void write(Path file, int display, byte[] cookie) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(file, encode(display, cookie));
    }

    private static void writeCounted(ByteArrayOutputStream out, byte[] bytes) {
        writeU16(out, bytes.length);
        out.writeBytes(bytes);
    }

    private static void writeU16(ByteArrayOutputStream out, int v) {
        out.write(v >>> 8);
        out.write(v & 0xff);
    }
}
