package io.deskgate.stream;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;

/**
 * The stream id a datagram's 16-byte id field carries (docs/protocol.md §2.1) and its key is derived for
 * (§2.2). A session's first transcoding instance streams under the session id itself; every further
 * instance of the same unique socket (a second tab, a second channel) streams under its own id,
 * {@link #of(UUID, UUID)}: the first 16 bytes of {@code SHA-256("deskgate-stream-id-v1|" + sessionId + "|"
 * + instanceId)} with the UUID version 8 and variant bits set. So the gateway routes, and keys, each
 * instance's stream separately, and an instance's stream id is bound to its session: naming another
 * session's instance id under one's own session yields a stream nobody sends.
 */
public final class StreamIds {
    private StreamIds() {}

    /** The stream id of {@code instanceId}, a further instance of session {@code sessionId}. */
    public static UUID of(UUID sessionId, UUID instanceId) {
        byte[] h;
        try {
            h = MessageDigest.getInstance("SHA-256").digest(("deskgate-stream-id-v1|" + sessionId + "|" + instanceId)
                    .getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
        h[6] = (byte) ((h[6] & 0x0f) | 0x80); // version 8: a custom UUID
        h[8] = (byte) ((h[8] & 0x3f) | 0x80); // the RFC 9562 variant
        ByteBuffer b = ByteBuffer.wrap(h);
        return new UUID(b.getLong(), b.getLong());
    }

    /**
     * The stream a STREAM token's session field names: {@code <session id>} (the session's own stream, its
     * first instance) or {@code <session id>/<instance id>} (that further instance's stream).
     *
     * @throws IllegalArgumentException when {@code name} is neither
     */
    public static UUID parse(String name) {
        int slash = name.indexOf('/');
        if (slash < 0) return canonical(name);
        return of(canonical(name.substring(0, slash)), canonical(name.substring(slash + 1)));
    }

    /** The STREAM token field naming further instance {@code instanceId} of session {@code sessionId}. */
    public static String name(UUID sessionId, UUID instanceId) {
        return sessionId + "/" + instanceId;
    }

    private static UUID canonical(String text) {
        UUID id = UUID.fromString(text);
        // UUID.fromString accepts short groups ("1-1-1-1-1"): only the one canonical spelling names a stream.
        if (!id.toString().equals(text)) throw new IllegalArgumentException("not a canonical UUID: " + text);
        return id;
    }
}
