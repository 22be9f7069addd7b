package io.deskgate.stream;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One message of the interactive stream (docs/protocol.md §1). Down messages go from the engine to the
 * browser, up messages the other way. Byte arrays are owned by the message: do not change them after
 * building one.
 */
public sealed interface StreamMessage {

    /** The type byte of this message on the wire. */
    int type();

    /**
     * True for messages that travel up, towards the engine: from the browser, or (only {@link ViewerLeft})
     * from the gateway itself.
     */
    default boolean isUp() { return (type() & 0x80) != 0; }

    // ------------------------------------------------------------ down

    /** Pixels of a rectangle, in one of the {@code FORMAT_*} encodings. */
    record Tile(int x, int y, int w, int h, int format, byte[] data) implements StreamMessage {
        public static final int FORMAT_ZLIB_RGB = 1;
        public static final int FORMAT_JPEG = 2;
        public static final int FORMAT_PNG = 3;
        public static final int FORMAT_FILL = 4;
        /** Indexed pixels of a palette of 2..256 colours ({@link PaletteTile}). */
        public static final int FORMAT_PALETTE = 5;
        /** RGB or indexed pixels deflated into one of the session's persistent streams ({@link ZstreamTile}). */
        public static final int FORMAT_ZSTREAM = 6;
        /** A lossy WebP of exactly w×h (one VP8 key frame in a RIFF container, {@link WebpTile}); only to a client that said it decodes it. */
        public static final int FORMAT_WEBP = 7;
        /** Text: cells of a grid as references to glyphs a ZSTREAM lane cached, deflated into that lane ({@link GlyphTile}). */
        public static final int FORMAT_GLYPHS = 9;

        public int type() { return StreamCodec.TILE; }

        @Override public boolean equals(Object o) {
            return o instanceof Tile t && t.x == x && t.y == y && t.w == w && t.h == h && t.format == format
                    && Arrays.equals(t.data, data);
        }

        @Override public int hashCode() { return ((x * 31 + y) * 31 + w) * 31 + h + Arrays.hashCode(data); }

        @Override public String toString() {
            return "Tile[" + x + "," + y + " " + w + "x" + h + " format=" + format + " bytes=" + data.length + "]";
        }
    }

    record CopyRect(int srcX, int srcY, int w, int h, int dstX, int dstY) implements StreamMessage {
        public int type() { return StreamCodec.COPY_RECT; }
    }

    /** The pointer's shape: w*h RGBA pixels with the hot spot at (hotX, hotY). */
    record Cursor(int hotX, int hotY, int w, int h, byte[] rgba) implements StreamMessage {
        public int type() { return StreamCodec.CURSOR; }

        @Override public boolean equals(Object o) {
            return o instanceof Cursor c && c.hotX == hotX && c.hotY == hotY && c.w == w && c.h == h
                    && Arrays.equals(c.rgba, rgba);
        }

        @Override public int hashCode() { return (hotX * 31 + hotY) * 31 + Arrays.hashCode(rgba); }
    }

    record Resize(int w, int h) implements StreamMessage {
        public int type() { return StreamCodec.RESIZE; }
    }

    record ServerClipboard(String text) implements StreamMessage {
        public int type() { return StreamCodec.SERVER_CLIPBOARD; }
    }

    record FrameEnd(long frameId, long serverTimeMicros) implements StreamMessage {
        public int type() { return StreamCodec.FRAME_END; }
    }

    /** A state change the client should show, with a {@link io.deskgate.common.Status} protocol code. */
    record StatusMessage(int code, String text) implements StreamMessage {
        public int type() { return StreamCodec.STATUS; }
    }

    // ------------------------------------------------------------ up

    record Key(boolean down, long keysym) implements StreamMessage {
        public int type() { return StreamCodec.KEY; }
    }

    record Pointer(int x, int y, int buttonMask) implements StreamMessage {
        public int type() { return StreamCodec.POINTER; }
    }

    record ClientClipboard(String text) implements StreamMessage {
        public int type() { return StreamCodec.CLIENT_CLIPBOARD; }
    }

    record FrameAck(long frameId, long serverTimeMicros) implements StreamMessage {
        public int type() { return StreamCodec.FRAME_ACK; }
    }

    record ResizeRequest(int w, int h) implements StreamMessage {
        public int type() { return StreamCodec.RESIZE_REQUEST; }
    }

    record RefreshRequest() implements StreamMessage {
        public int type() { return StreamCodec.REFRESH_REQUEST; }
    }

    /**
     * What the browser can decode beyond the base protocol (docs/protocol.md §1.2), sent once it is connected: bits of
     * {@code flags}, of which a receiver ignores those it does not know. A client that never sends it gets only the
     * base tile formats.
     *
     * @param flags u32: {@link #WEBP} and bits for later capabilities
     */
    record ClientCapabilities(long flags) implements StreamMessage {
        /** The client decodes tile format 7, {@link Tile#FORMAT_WEBP}. */
        public static final long WEBP = 1;

        public ClientCapabilities {
            if (flags < 0 || flags > 0xffffffffL) throw new IllegalArgumentException("capability flags are a u32: " + flags);
        }

        public int type() { return StreamCodec.CLIENT_CAPABILITIES; }

        /** Whether the client decodes WEBP tiles. */
        public boolean webp() { return (flags & WEBP) != 0; }
    }

    /**
     * The gateway has no browser attached to this session any more (docs/protocol.md §1.2). Only a gateway
     * emits it; a gateway closes a browser that sends it.
     */
    record ViewerLeft() implements StreamMessage {
        public int type() { return StreamCodec.VIEWER_LEFT; }
    }

    /** UTF-8 bytes of a text field. */
    static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }
}
