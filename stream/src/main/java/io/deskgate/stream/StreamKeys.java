package io.deskgate.stream;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Derives a session's UDP-leg key from the fleet's stream master secret, bound to tenant and session:
 * {@code HMAC-SHA256(master, "deskgate-stream-v1|" + tenant + "|" + sessionId)}. The frontdoor hands the
 * derived key to the engine at launch; a gateway derives the same key from a datagram's header, so it
 * keeps no per-session handshake state and a datagram of one tenant cannot authenticate as another's.
 */
public final class StreamKeys {
    private final SecretKeySpec master;

    public StreamKeys(byte[] masterSecret) {
        if (masterSecret.length < 32) throw new IllegalArgumentException("stream master secret must be at least 32 bytes");
        this.master = new SecretKeySpec(masterSecret.clone(), "HmacSHA256");
    }

    /** A 32-byte AES-256-GCM key. */
    public byte[] derive(int tenant, String sessionId) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(master);
            return mac.doFinal(("deskgate-stream-v1|" + tenant + "|" + sessionId).getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
