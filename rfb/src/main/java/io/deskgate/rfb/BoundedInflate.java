package io.deskgate.rfb;

import io.deskgate.common.ProtocolException;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The bounded inflation the ZRLE and Tight decoders share (docs/security.md, "The desktop's RFB bytes"): a
 * rectangle's zlib data must inflate to exactly its pixels. {@link #fill} inflates only as far as the next
 * tile or row needs, into the caller's buffer; {@link #checkDrained} refuses compressed input left over after
 * the rectangle's last byte, so a small input can never inflate past its rectangle. Both throw a
 * {@link ProtocolException} naming the encoding and its unit ("tile", "row"); the decoders keep their own
 * buffer and positions, so their hot loops read plain arrays.
 */
final class BoundedInflate {
    private BoundedInflate() {}

    /**
     * Inflates into {@code buf} from {@code limit} until it holds at least {@code n} bytes.
     *
     * @return the new limit (at least {@code n})
     */
    static int fill(Inflater inflater, byte[] buf, int limit, int n, String encoding, String unit) {
        try {
            while (limit < n) {
                int got = inflater.inflate(buf, limit, buf.length - limit);
                if (got == 0) {
                    if (inflater.needsDictionary()) throw new ProtocolException("RFB " + encoding + " zlib stream asks for a preset dictionary");
                    if (inflater.finished()) throw new ProtocolException("RFB " + encoding + " zlib stream ended, but the connection goes on");
                    if (inflater.needsInput()) {
                        throw new ProtocolException("RFB " + encoding + " rectangle data ends in the middle of a " + unit);
                    }
                }
                limit += got;
            }
            return limit;
        } catch (DataFormatException e) {
            throw new ProtocolException("RFB " + encoding + " zlib data is corrupt: " + e.getMessage());
        }
    }

    /**
     * Checks the rectangle is over: nothing left unread in {@code buf} ({@code unread} bytes) and every compressed
     * byte consumed without producing more output ({@code buf} is scratch space for the attempt).
     */
    static void checkDrained(Inflater inflater, byte[] buf, int unread, String encoding, String unit) {
        if (unread != 0) throw new ProtocolException("RFB " + encoding + " rectangle has " + unread + "+ bytes of data after its last " + unit);
        try {
            while (inflater.getRemaining() > 0) {
                int before = inflater.getRemaining();
                int got = inflater.inflate(buf, 0, buf.length);
                if (got > 0) throw new ProtocolException("RFB " + encoding + " rectangle has " + got + "+ bytes of data after its last " + unit);
                if (inflater.getRemaining() == before) {
                    throw new ProtocolException("RFB " + encoding + " rectangle has " + before + " undecodable trailing bytes");
                }
            }
        } catch (DataFormatException e) {
            throw new ProtocolException("RFB " + encoding + " zlib data is corrupt: " + e.getMessage());
        }
    }
}
