package io.deskgate.stream;

import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.UUID;

/**
 * The clear header of one UDP-leg datagram (docs/protocol.md §2.1). The whole header is the GCM
 * additional authenticated data, so none of it can be changed without the datagram failing
 * authentication; {@link #peek} itself authenticates nothing. Immutable and thread-safe.
 *
 * @param version       protocol version, {@link #VERSION}
 * @param kind          {@link #KIND_DATA}, {@link #KIND_NACK} or {@link #KIND_KEEPALIVE}
 * @param direction     {@link #DIRECTION_DOWN} (engine to gateway) or {@link #DIRECTION_UP} (gateway to engine)
 * @param tenant        the tenant the session belongs to (u32 on the wire, kept as its bit pattern)
 * @param sessionId     the session (unique socket)
 * @param sequence      DATA: the sender's data sequence; NACK/KEEPALIVE: the sender's control sequence
 *                      (two separate counters, each below 2^62)
 * @param fragmentIndex DATA: index of this fragment in its message; 0 for control datagrams
 * @param fragmentCount DATA: number of fragments of its message (at least 1); 0 for control datagrams
 * @param epoch         random per sender instance; part of the nonce, so a restarted sender never
 *                      reuses a nonce under the same session key
 */
public record DatagramHeader(int version, int kind, int direction, int tenant, UUID sessionId, long sequence,
                             int fragmentIndex, int fragmentCount, int epoch) {
    /** First byte: magic in the high nibble (0xD), version in the low nibble. */
    public static final int MAGIC_VERSION = 0xD1;
    public static final int VERSION = 1;

    public static final int KIND_DATA = 1;
    public static final int KIND_NACK = 2;
    public static final int KIND_KEEPALIVE = 3;

    /** Engine to gateway: carries down messages (pixels). */
    public static final int DIRECTION_DOWN = 0;
    /** Gateway to engine: carries up messages (input). */
    public static final int DIRECTION_UP = 1;

    public static final int MAGIC_OFFSET = 0;
    public static final int KIND_OFFSET = 1;
    public static final int DIRECTION_OFFSET = 2;
    public static final int RESERVED_OFFSET = 3;
    public static final int TENANT_OFFSET = 4;
    public static final int SESSION_ID_OFFSET = 8;
    public static final int EPOCH_OFFSET = 24;
    public static final int SEQUENCE_OFFSET = 28;
    public static final int FRAGMENT_INDEX_OFFSET = 36;
    public static final int FRAGMENT_COUNT_OFFSET = 38;
    public static final int HEADER_BYTES = 40;
    /** The AES-GCM tag that follows the ciphertext. */
    public static final int TAG_BYTES = 16;
    /** Header plus tag: every datagram is at least this long. */
    public static final int OVERHEAD_BYTES = HEADER_BYTES + TAG_BYTES;
    /** Sequences are below 2^62: the top two bits of the nonce's last eight bytes hold direction and space. */
    public static final long MAX_SEQUENCE = (1L << 62) - 1;

    public DatagramHeader {
        if (kind < KIND_DATA || kind > KIND_KEEPALIVE) throw new IllegalArgumentException("kind " + kind);
        if (direction != DIRECTION_DOWN && direction != DIRECTION_UP) throw new IllegalArgumentException("direction " + direction);
        if (sequence < 0 || sequence > MAX_SEQUENCE) throw new IllegalArgumentException("sequence " + sequence);
        if (fragmentIndex < 0 || fragmentIndex > 0xffff || fragmentCount < 0 || fragmentCount > 0xffff) {
            throw new IllegalArgumentException("fragment " + fragmentIndex + "/" + fragmentCount);
        }
    }

    /**
     * Parses only the clear header; empty if the datagram is too short to hold a header and a tag, has
     * the wrong magic/version byte, an unknown kind or direction, a non-zero reserved byte, or a
     * sequence of 2^62 or more. Does not authenticate.
     */
    public static Optional<DatagramHeader> peek(byte[] datagram, int length) {
        if (length < OVERHEAD_BYTES || length > datagram.length) return Optional.empty();
        ByteBuffer b = ByteBuffer.wrap(datagram, 0, length);
        if ((b.get(MAGIC_OFFSET) & 0xff) != MAGIC_VERSION || b.get(RESERVED_OFFSET) != 0) return Optional.empty();
        int kind = b.get(KIND_OFFSET) & 0xff;
        int direction = b.get(DIRECTION_OFFSET) & 0xff;
        long sequence = b.getLong(SEQUENCE_OFFSET);
        if (kind < KIND_DATA || kind > KIND_KEEPALIVE || direction > DIRECTION_UP
                || sequence < 0 || sequence > MAX_SEQUENCE) {
            return Optional.empty();
        }
        UUID id = new UUID(b.getLong(SESSION_ID_OFFSET), b.getLong(SESSION_ID_OFFSET + 8));
        return Optional.of(new DatagramHeader(VERSION, kind, direction, b.getInt(TENANT_OFFSET), id, sequence,
                b.getShort(FRAGMENT_INDEX_OFFSET) & 0xffff, b.getShort(FRAGMENT_COUNT_OFFSET) & 0xffff,
                b.getInt(EPOCH_OFFSET)));
    }

    /** True for NACK and KEEPALIVE, whose sequences come from the control counter. */
    public boolean isControl() { return kind != KIND_DATA; }

    /** Writes the {@link #HEADER_BYTES}-byte header at the start of {@code out}. */
    void writeTo(byte[] out) {
        ByteBuffer b = ByteBuffer.wrap(out);
        b.put(MAGIC_OFFSET, (byte) MAGIC_VERSION).put(KIND_OFFSET, (byte) kind).put(DIRECTION_OFFSET, (byte) direction)
                .put(RESERVED_OFFSET, (byte) 0).putInt(TENANT_OFFSET, tenant)
                .putLong(SESSION_ID_OFFSET, sessionId.getMostSignificantBits())
                .putLong(SESSION_ID_OFFSET + 8, sessionId.getLeastSignificantBits())
                .putInt(EPOCH_OFFSET, epoch).putLong(SEQUENCE_OFFSET, sequence)
                .putShort(FRAGMENT_INDEX_OFFSET, (short) fragmentIndex).putShort(FRAGMENT_COUNT_OFFSET, (short) fragmentCount);
    }

    /**
     * The 12-byte GCM nonce: epoch u32, then a u64 whose bit 63 is the direction, bit 62 is set for
     * control datagrams, and bits 0–61 are the sequence. Unique per key as long as a sender instance
     * never repeats a sequence in one space (it counts up) and epochs of one session differ.
     */
    byte[] nonce() {
        long low = sequence | ((long) direction << 63) | (isControl() ? 1L << 62 : 0L);
        return ByteBuffer.allocate(12).putInt(epoch).putLong(low).array();
    }
}
