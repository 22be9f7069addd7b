package io.deskgate.tokens;

import io.deskgate.common.Secrets;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs and verifies short-lived tokens: {@code v1.<base64url(claims)>.<base64url(HMAC-SHA256)>}.
 * The claims are {@code kind|subject|tenant|sessionId|expiresEpochSeconds|nonce}; the random nonce makes
 * every token distinct and is the token's id ({@link SignedToken#id}), so a gateway can accept each
 * stream token once.
 *
 * <p>Parsing is canonical: each part is base64url without padding in its one spelling. A character
 * outside {@code A-Z a-z 0-9 - _} (so also {@code =}, {@code +}, {@code /}), an impossible length, or
 * non-zero unused trailing bits (another spelling of the same bytes) make the token invalid, so a
 * token has exactly one text that verifies. Thread-safe.
 */
public final class TokenSigner {
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();
    private static final int MAX_TOKEN_CHARS = 1024;
    private static final Pattern NONCE = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    private final SecretKeySpec key;
    /** Initialised once with the key and never used itself: each MAC is computed on a clone (no provider lookup, no key set-up). */
    private final Mac prototype;

    public TokenSigner(byte[] key) {
        if (key.length < 32) throw new IllegalArgumentException("token key must be at least 32 bytes");
        this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
        this.prototype = newMac();
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
        return open(token, expectedKind, now).map(SignedToken::claims);
    }

    /**
     * Like {@link #verify}, with the token's id (its nonce) for single-use checks; empty for the same
     * tokens {@link #verify} refuses.
     */
    public Optional<SignedToken> open(String token, String expectedKind, Instant now) {
        if (token == null || token.length() > MAX_TOKEN_CHARS) return Optional.empty();
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3 || !parts[0].equals("v1")) return Optional.empty();
        Optional<byte[]> given = decodeCanonical(parts[2]);
        if (given.isEmpty() || !MessageDigest.isEqual(given.get(), mac(parts[1]))) return Optional.empty();
        Optional<byte[]> body = decodeCanonical(parts[1]);
        if (body.isEmpty()) return Optional.empty();
        String[] f = new String(body.get(), StandardCharsets.UTF_8).split("\\|", -1);
        if (f.length != 6 || !NONCE.matcher(f[5]).matches()) return Optional.empty();
        try {
            TokenClaims claims = new TokenClaims(f[0], f[1], Integer.parseInt(f[2]), f[3],
                    Instant.ofEpochSecond(Long.parseLong(f[4])));
            if (!claims.kind().equals(expectedKind) || !now.isBefore(claims.expiresAt())) return Optional.empty();
            return Optional.of(new SignedToken(claims, f[5]));
        } catch (IllegalArgumentException | java.time.DateTimeException e) {
            return Optional.empty();
        }
    }

    /**
     * The bytes of {@code text} if it is their one canonical base64url spelling (no padding, only the
     * URL alphabet, zero unused trailing bits); empty otherwise.
     */
    static Optional<byte[]> decodeCanonical(String text) {
        if (text.isEmpty() || text.length() % 4 == 1) return Optional.empty();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean inAlphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_';
            if (!inAlphabet) return Optional.empty();
        }
        byte[] bytes;
        try {
            bytes = B64D.decode(text);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        return B64.encodeToString(bytes).equals(text) ? Optional.of(bytes) : Optional.empty();
    }

    private byte[] mac(String payload) {
        Mac mac;
        try {
            mac = (Mac) prototype.clone();
        } catch (CloneNotSupportedException e) {
            mac = newMac(); // a provider whose MAC does not clone
        }
        return mac.doFinal(payload.getBytes(StandardCharsets.US_ASCII));
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
