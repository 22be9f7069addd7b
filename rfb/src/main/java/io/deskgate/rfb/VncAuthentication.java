package io.deskgate.rfb;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * VNC Authentication (RFC 6143 §7.2.2): the 16-byte challenge encrypted with DES in ECB mode, keyed by the
 * first eight bytes of the password (zero-padded), each byte bit-reversed as the original VNC code did.
 * Stateless; safe from any thread.
 */
final class VncAuthentication {
    static final int CHALLENGE_LENGTH = 16;
    private static final int KEY_LENGTH = 8;

    private VncAuthentication() {}

    /** The 16-byte response to {@code challenge} for {@code password} (Latin-1; longer than 8 chars is cut). */
    static byte[] response(String password, byte[] challenge) {
        if (challenge.length != CHALLENGE_LENGTH) {
            throw new IllegalArgumentException("VNC challenge must be 16 bytes, was " + challenge.length);
        }
        byte[] key = new byte[KEY_LENGTH];
        byte[] pw = password.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < KEY_LENGTH && i < pw.length; i++) {
            key[i] = (byte) (Integer.reverse(pw[i] & 0xFF) >>> 24);
        }
        try {
            Cipher des = Cipher.getInstance("DES/ECB/NoPadding", "SunJCE");
            des.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "DES"));
            return des.doFinal(challenge);
        } catch (GeneralSecurityException e) {
            // The JDK always ships SunJCE DES; reaching here means a broken runtime, not bad input.
            throw new IllegalStateException("DES/ECB/NoPadding unavailable from SunJCE", e);
        } finally {
            Arrays.fill(key, (byte) 0);
            Arrays.fill(pw, (byte) 0);
        }
    }
}
