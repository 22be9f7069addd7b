package io.deskgate.common;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs and verifies short-lived tokens: {@code v1.<base64url(claims)>.<base64url(HMAC-SHA256)>}.
 * The claims are {@code kind|subject|tenant|sessionId|expiresEpochSeconds|nonce}; the random nonce makes
 * every token distinct, so a gateway can accept each stream token once. Thread-safe.
 */
public final class TokenSigner {
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();
    private static final int MAX_TOKEN_CHARS = 1024;

    private final SecretKeySpec key;

    public TokenSigner(byte[] key) {
        if (key.length < 32) throw new IllegalArgumentException("token key must be at least 32 bytes");
        this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
    }

    public String sign(TokenClaims claims) {
        return sign(claims, B64.encodeToString(Secrets.randomBytes(12)));
    }

    /** With a given nonce: for golden vectors in tests. */
    String sign(TokenClaims claims, String nonce) {
        String body = String.join("|", claims.kind(), claims.subject(), Integer.toString(claims.tenant()),
                claims.sessionId(), Long.toString(claims.expiresAt().getEpochSecond()), nonce);
        String payload = B64.encodeToString(body.getBytes(StandardCharsets.UTF_8));
        return "v1." + payload + "." + B64.encodeToString(mac(payload));
    }

    /**
     * Returns the claims of a well-formed, correctly signed, unexpired token of the expected kind;
     * empty for anything else (callers answer all of those the same way, without saying which part failed).
     */
    public Optional<TokenClaims> verify(String token, String expectedKind, Instant now) {
        if (token == null || token.length() > MAX_TOKEN_CHARS) return Optional.empty();
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3 || !parts[0].equals("v1")) return Optional.empty();
        try {
            byte[] given = B64D.decode(parts[2]);
            if (!MessageDigest.isEqual(given, mac(parts[1]))) return Optional.empty();
            String[] f = new String(B64D.decode(parts[1]), StandardCharsets.UTF_8).split("\\|", -1);
            if (f.length != 6 || f[5].isEmpty()) return Optional.empty();
            TokenClaims claims = new TokenClaims(f[0], f[1], Integer.parseInt(f[2]), f[3],
                    Instant.ofEpochSecond(Long.parseLong(f[4])));
            if (!claims.kind().equals(expectedKind) || !now.isBefore(claims.expiresAt())) return Optional.empty();
            return Optional.of(claims);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private byte[] mac(String payload) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac.doFinal(payload.getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
