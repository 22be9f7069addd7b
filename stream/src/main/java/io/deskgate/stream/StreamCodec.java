package io.deskgate.stream;

import io.deskgate.common.ProtocolException;
import io.deskgate.common.Status;
import io.deskgate.stream.StreamMessage.ClientCapabilities;
import io.deskgate.stream.StreamMessage.ClientClipboard;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.Cursor;
import io.deskgate.stream.StreamMessage.FrameAck;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.Key;
import io.deskgate.stream.StreamMessage.Pointer;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.Resize;
import io.deskgate.stream.StreamMessage.ResizeRequest;
import io.deskgate.stream.StreamMessage.ServerClipboard;
import io.deskgate.stream.StreamMessage.StatusMessage;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.StreamMessage.ViewerLeft;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Encodes and decodes stream messages (docs/protocol.md §1). Stateless and thread-safe. */
public final class StreamCodec {
    public static final int MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

    public static final int TILE = 0x01;
    public static final int COPY_RECT = 0x02;
    public static final int CURSOR = 0x03;
    public static final int RESIZE = 0x04;
    public static final int SERVER_CLIPBOARD = 0x05;
    public static final int FRAME_END = 0x06;
    public static final int STATUS = 0x07;
    public static final int KEY = 0x81;
    public static final int POINTER = 0x82;
    public static final int CLIENT_CLIPBOARD = 0x83;
    public static final int FRAME_ACK = 0x84;
    public static final int RESIZE_REQUEST = 0x85;
    public static final int REFRESH_REQUEST = 0x86;
    /** Up, but emitted only by a gateway, never by a browser. */
    public static final int VIEWER_LEFT = 0x87;
    public static final int CLIENT_CAPABILITIES = 0x88;

    private StreamCodec() {}

    public static byte[] encode(StreamMessage m) {
        ByteBuffer b;
        switch (m) {
            case Tile t -> {
                b = allocate(10 + t.data().length);
                b.put((byte) TILE);
                u16(b, t.x()); u16(b, t.y()); u16(b, t.w()); u16(b, t.h());
                b.put((byte) t.format()).put(t.data());
            }
            case CopyRect c -> {
                b = allocate(13);
                b.put((byte) COPY_RECT);
                u16(b, c.srcX()); u16(b, c.srcY()); u16(b, c.w()); u16(b, c.h()); u16(b, c.dstX()); u16(b, c.dstY());
            }
            case Cursor c -> {
                b = allocate(9 + c.rgba().length);
                b.put((byte) CURSOR);
                u16(b, c.hotX()); u16(b, c.hotY()); u16(b, c.w()); u16(b, c.h());
                b.put(c.rgba());
            }
            case Resize r -> {
                b = allocate(5);
                b.put((byte) RESIZE); u16(b, r.w()); u16(b, r.h());
            }
            case ServerClipboard c -> b = text(SERVER_CLIPBOARD, c.text());
            case FrameEnd f -> {
                b = allocate(13);
                b.put((byte) FRAME_END); u32(b, f.frameId()); b.putLong(f.serverTimeMicros());
            }
            case StatusMessage s -> {
                byte[] t = StreamMessage.utf8(s.text());
                b = allocate(3 + t.length);
                b.put((byte) STATUS); u16(b, s.code()); b.put(t);
            }
            case Key k -> {
                b = allocate(6);
                b.put((byte) KEY).put((byte) (k.down() ? 1 : 0)); u32(b, k.keysym());
            }
            case Pointer p -> {
                b = allocate(6);
                b.put((byte) POINTER); u16(b, p.x()); u16(b, p.y()); b.put((byte) p.buttonMask());
            }
            case ClientClipboard c -> b = text(CLIENT_CLIPBOARD, c.text());
            case FrameAck f -> {
                b = allocate(13);
                b.put((byte) FRAME_ACK); u32(b, f.frameId()); b.putLong(f.serverTimeMicros());
            }
            case ResizeRequest r -> {
                b = allocate(5);
                b.put((byte) RESIZE_REQUEST); u16(b, r.w()); u16(b, r.h());
            }
            case RefreshRequest r -> b = allocate(1).put((byte) REFRESH_REQUEST);
            case ViewerLeft v -> b = allocate(1).put((byte) VIEWER_LEFT);
            case ClientCapabilities c -> {
                b = allocate(5);
                b.put((byte) CLIENT_CAPABILITIES); u32(b, c.flags());
            }
        }
        return b.array();
    }

    /**
     * Decodes one whole message.
     *
     * @throws ProtocolException for an empty, oversized, truncated, unknown or over-long message
     */
    public static StreamMessage decode(byte[] bytes) {
        if (bytes.length == 0) throw new ProtocolException("empty stream message");
        if (bytes.length > MAX_MESSAGE_BYTES) {
            throw new ProtocolException(Status.TOO_LARGE, "stream message of " + bytes.length + " bytes exceeds " + MAX_MESSAGE_BYTES);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        int type = b.get() & 0xff;
        try {
            StreamMessage m = switch (type) {
                case TILE -> {
                    int x = u16(b), y = u16(b), w = u16(b), h = u16(b), format = b.get() & 0xff;
                    if ((format < Tile.FORMAT_ZLIB_RGB || format > Tile.FORMAT_WEBP) && format != Tile.FORMAT_GLYPHS) {
                        throw new ProtocolException("unknown tile format " + format);
                    }
                    yield new Tile(x, y, w, h, format, rest(b));
                }
                case COPY_RECT -> new CopyRect(u16(b), u16(b), u16(b), u16(b), u16(b), u16(b));
                case CURSOR -> {
                    int hx = u16(b), hy = u16(b), w = u16(b), h = u16(b);
                    byte[] rgba = rest(b);
                    // long: w*h*4 overflows an int for large w, h
                    if (rgba.length != (long) w * h * 4) throw new ProtocolException("cursor of " + w + "x" + h + " carries " + rgba.length + " bytes");
                    yield new Cursor(hx, hy, w, h, rgba);
                }
                case RESIZE -> new Resize(u16(b), u16(b));
                case SERVER_CLIPBOARD -> new ServerClipboard(utf8(rest(b)));
                case FRAME_END -> new FrameEnd(u32(b), b.getLong());
                case STATUS -> new StatusMessage(u16(b), utf8(rest(b)));
                case KEY -> {
                    int down = b.get() & 0xff;
                    if (down > 1) throw new ProtocolException("key down flag " + down);
                    yield new Key(down == 1, u32(b));
                }
                case POINTER -> new Pointer(u16(b), u16(b), b.get() & 0xff);
                case CLIENT_CLIPBOARD -> new ClientClipboard(utf8(rest(b)));
                case FRAME_ACK -> new FrameAck(u32(b), b.getLong());
                case RESIZE_REQUEST -> new ResizeRequest(u16(b), u16(b));
                case REFRESH_REQUEST -> new RefreshRequest();
                case VIEWER_LEFT -> new ViewerLeft();
                case CLIENT_CAPABILITIES -> new ClientCapabilities(u32(b));
                default -> throw new ProtocolException(String.format("unknown stream message type 0x%02x", type));
            };
            if (b.hasRemaining()) {
                throw new ProtocolException(b.remaining() + " trailing bytes after stream message type " + type);
            }
            return m;
        } catch (BufferUnderflowException e) {
            throw new ProtocolException(String.format("truncated stream message type 0x%02x (%d bytes)", type, bytes.length));
        }
    }

    private static ByteBuffer allocate(int n) {
        if (n > MAX_MESSAGE_BYTES) throw new IllegalArgumentException("stream message of " + n + " bytes exceeds " + MAX_MESSAGE_BYTES);
        return ByteBuffer.allocate(n);
    }

    private static ByteBuffer text(int type, String s) {
        byte[] t = StreamMessage.utf8(s);
        return allocate(1 + t.length).put((byte) type).put(t);
    }

    private static void u16(ByteBuffer b, int v) {
        if (v < 0 || v > 0xffff) throw new IllegalArgumentException("u16 out of range: " + v);
        b.putShort((short) v);
    }

    private static void u32(ByteBuffer b, long v) {
        if (v < 0 || v > 0xffffffffL) throw new IllegalArgumentException("u32 out of range: " + v);
        b.putInt((int) v);
    }

    private static int u16(ByteBuffer b) { return b.getShort() & 0xffff; }

    private static long u32(ByteBuffer b) { return b.getInt() & 0xffffffffL; }

    private static byte[] rest(ByteBuffer b) {
        byte[] r = new byte[b.remaining()];
        b.get(r);
        return r;
    }

    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ProtocolException("text field is not valid UTF-8");
        }
    }
}
