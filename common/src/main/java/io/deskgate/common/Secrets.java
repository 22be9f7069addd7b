package io.deskgate.common;

import java.security.SecureRandom;
import java.util.Base64;

/** Random secrets: keys, one-time passwords, ids. Thread-safe. */
public final class Secrets {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final char[] ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789".toCharArray();

    private Secrets() {}

    public static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** A password of {@code n} unambiguous letters and digits. */
    public static String randomPassword(int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) sb.append(ALNUM[RANDOM.nextInt(ALNUM.length)]);
        return sb.toString();
    }

    public static String randomId() {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(12));
    }
}
