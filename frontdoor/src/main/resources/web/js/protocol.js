// The interactive stream's messages (docs/protocol.md §1): one type byte, then big-endian fields.
// decode() takes the bytes of one WebSocket binary frame; encode() returns the bytes of one frame.
// Mirrors io.deskgate.stream.StreamCodec; both are checked against the same vectors.

export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export const Type = Object.freeze({
  TILE: 0x01, COPY_RECT: 0x02, CURSOR: 0x03, RESIZE: 0x04, SERVER_CLIPBOARD: 0x05, FRAME_END: 0x06, STATUS: 0x07,
  KEY: 0x81, POINTER: 0x82, CLIENT_CLIPBOARD: 0x83, FRAME_ACK: 0x84, RESIZE_REQUEST: 0x85, REFRESH_REQUEST: 0x86,
  // Sent up by a gateway only, never by a browser (a gateway closes a browser that sends it).
  VIEWER_LEFT: 0x87,
  CLIENT_CAPABILITIES: 0x88,
});

export const TileFormat = Object.freeze({ ZLIB_RGB: 1, JPEG: 2, PNG: 3, FILL: 4, PALETTE: 5, ZSTREAM: 6, WEBP: 7, GLYPHS: 9 });

/** Bits of CLIENT_CAPABILITIES.flags (docs/protocol.md §1.2). */
export const Capability = Object.freeze({ WEBP: 1 });

/** Malformed bytes from the peer; the session that sent them is closed. */
export class ProtocolError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ProtocolError';
  }
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** Reads fields in order and fails on a short message, like a ByteBuffer underflow. */
class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 1; // after the type byte
  }
  need(n) {
    if (this.pos + n > this.bytes.byteLength) {
      throw new ProtocolError(`truncated stream message type 0x${hex2(this.bytes[0])} (${this.bytes.byteLength} bytes)`);
    }
  }
  u8() { this.need(1); return this.view.getUint8(this.pos++); }
  u16() { this.need(2); const v = this.view.getUint16(this.pos); this.pos += 2; return v; }
  u32() { this.need(4); const v = this.view.getUint32(this.pos); this.pos += 4; return v; }
  u64() { this.need(8); const v = this.view.getBigUint64(this.pos); this.pos += 8; return v; }
  rest() { const r = this.bytes.subarray(this.pos); this.pos = this.bytes.byteLength; return r; }
  text() {
    try {
      return utf8Decoder.decode(this.rest());
    } catch {
      throw new ProtocolError('text field is not valid UTF-8');
    }
  }
  remaining() { return this.bytes.byteLength - this.pos; }
}

function hex2(n) { return n.toString(16).padStart(2, '0'); }

function toBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('stream message must be an ArrayBuffer or a typed array');
}

/**
 * Decodes one whole message. Byte fields (tile data, cursor pixels) are views into the input.
 * 64-bit fields are BigInt. Throws ProtocolError for an empty, oversized, truncated, unknown or
 * over-long message.
 */
export function decode(data) {
  const bytes = toBytes(data);
  if (bytes.byteLength === 0) throw new ProtocolError('empty stream message');
  if (bytes.byteLength > MAX_MESSAGE_BYTES) {
    throw new ProtocolError(`stream message of ${bytes.byteLength} bytes exceeds ${MAX_MESSAGE_BYTES}`);
  }
  const r = new Reader(bytes);
  const type = bytes[0];
  let m;
  switch (type) {
    case Type.TILE: {
      const x = r.u16(), y = r.u16(), w = r.u16(), h = r.u16(), format = r.u8();
      if ((format < TileFormat.ZLIB_RGB || format > TileFormat.WEBP) && format !== TileFormat.GLYPHS) throw new ProtocolError(`unknown tile format ${format}`);
      m = { type: 'tile', x, y, w, h, format, data: r.rest() };
      break;
    }
    case Type.COPY_RECT:
      m = { type: 'copyRect', srcX: r.u16(), srcY: r.u16(), w: r.u16(), h: r.u16(), dstX: r.u16(), dstY: r.u16() };
      break;
    case Type.CURSOR: {
      const hotX = r.u16(), hotY = r.u16(), w = r.u16(), h = r.u16();
      const rgba = r.rest();
      if (rgba.byteLength !== w * h * 4) throw new ProtocolError(`cursor of ${w}x${h} carries ${rgba.byteLength} bytes`);
      m = { type: 'cursor', hotX, hotY, w, h, rgba };
      break;
    }
    case Type.RESIZE: m = { type: 'resize', w: r.u16(), h: r.u16() }; break;
    case Type.SERVER_CLIPBOARD: m = { type: 'serverClipboard', text: r.text() }; break;
    case Type.FRAME_END: m = { type: 'frameEnd', frameId: r.u32(), serverTimeMicros: r.u64() }; break;
    case Type.STATUS: m = { type: 'status', code: r.u16(), text: r.text() }; break;
    case Type.KEY: {
      const down = r.u8();
      if (down > 1) throw new ProtocolError(`key down flag ${down}`);
      m = { type: 'key', down: down === 1, keysym: r.u32() };
      break;
    }
    case Type.POINTER: m = { type: 'pointer', x: r.u16(), y: r.u16(), buttonMask: r.u8() }; break;
    case Type.CLIENT_CLIPBOARD: m = { type: 'clientClipboard', text: r.text() }; break;
    case Type.FRAME_ACK: m = { type: 'frameAck', frameId: r.u32(), serverTimeMicros: r.u64() }; break;
    case Type.RESIZE_REQUEST: m = { type: 'resizeRequest', w: r.u16(), h: r.u16() }; break;
    case Type.REFRESH_REQUEST: m = { type: 'refreshRequest' }; break;
    case Type.VIEWER_LEFT: m = { type: 'viewerLeft' }; break;
    case Type.CLIENT_CAPABILITIES: m = { type: 'clientCapabilities', flags: r.u32() }; break;
    default: throw new ProtocolError(`unknown stream message type 0x${hex2(type)}`);
  }
  if (r.remaining() > 0) throw new ProtocolError(`${r.remaining()} trailing bytes after stream message type ${type}`);
  return m;
}

// ------------------------------------------------------------------ encoding

class Writer {
  constructor(type, size) {
    if (size > MAX_MESSAGE_BYTES) throw new RangeError(`stream message of ${size} bytes exceeds ${MAX_MESSAGE_BYTES}`);
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.bytes[0] = type;
    this.pos = 1;
  }
  u8(v) { checkRange(v, 0xff, 'u8'); this.view.setUint8(this.pos, v); this.pos += 1; return this; }
  u16(v) { checkRange(v, 0xffff, 'u16'); this.view.setUint16(this.pos, v); this.pos += 2; return this; }
  u32(v) { checkRange(v, 0xffffffff, 'u32'); this.view.setUint32(this.pos, v); this.pos += 4; return this; }
  u64(v) {
    const b = BigInt(v);
    if (b < 0n || b > 0xffffffffffffffffn) throw new RangeError(`u64 out of range: ${v}`);
    this.view.setBigUint64(this.pos, b); this.pos += 8; return this;
  }
  raw(bytes) { this.bytes.set(bytes, this.pos); this.pos += bytes.byteLength; return this; }
}

function checkRange(v, max, what) {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${what} out of range: ${v}`);
}

function textMessage(type, text) {
  const t = utf8Encoder.encode(text);
  return new Writer(type, 1 + t.byteLength).raw(t).bytes;
}

/** Encodes a message object of the shape decode() returns. */
export function encode(m) {
  switch (m.type) {
    case 'tile': {
      const data = toBytes(m.data);
      return new Writer(Type.TILE, 10 + data.byteLength).u16(m.x).u16(m.y).u16(m.w).u16(m.h).u8(m.format).raw(data).bytes;
    }
    case 'copyRect':
      return new Writer(Type.COPY_RECT, 13).u16(m.srcX).u16(m.srcY).u16(m.w).u16(m.h).u16(m.dstX).u16(m.dstY).bytes;
    case 'cursor': {
      const rgba = toBytes(m.rgba);
      return new Writer(Type.CURSOR, 9 + rgba.byteLength).u16(m.hotX).u16(m.hotY).u16(m.w).u16(m.h).raw(rgba).bytes;
    }
    case 'resize': return new Writer(Type.RESIZE, 5).u16(m.w).u16(m.h).bytes;
    case 'serverClipboard': return textMessage(Type.SERVER_CLIPBOARD, m.text);
    case 'frameEnd': return new Writer(Type.FRAME_END, 13).u32(m.frameId).u64(m.serverTimeMicros).bytes;
    case 'status': {
      const t = utf8Encoder.encode(m.text);
      return new Writer(Type.STATUS, 3 + t.byteLength).u16(m.code).raw(t).bytes;
    }
    case 'key': return new Writer(Type.KEY, 6).u8(m.down ? 1 : 0).u32(m.keysym).bytes;
    case 'pointer': return new Writer(Type.POINTER, 6).u16(m.x).u16(m.y).u8(m.buttonMask).bytes;
    case 'clientClipboard': return textMessage(Type.CLIENT_CLIPBOARD, m.text);
    case 'frameAck': return new Writer(Type.FRAME_ACK, 13).u32(m.frameId).u64(m.serverTimeMicros).bytes;
    case 'resizeRequest': return new Writer(Type.RESIZE_REQUEST, 5).u16(m.w).u16(m.h).bytes;
    case 'refreshRequest': return new Writer(Type.REFRESH_REQUEST, 1).bytes;
    case 'viewerLeft': return new Writer(Type.VIEWER_LEFT, 1).bytes;
    case 'clientCapabilities': return new Writer(Type.CLIENT_CAPABILITIES, 5).u32(m.flags).bytes;
    default: throw new TypeError(`unknown stream message type ${m.type}`);
  }
}

export const keyEvent = (down, keysym) => encode({ type: 'key', down, keysym });
export const pointerEvent = (x, y, buttonMask) => encode({ type: 'pointer', x, y, buttonMask });
export const frameAck = (frameId, serverTimeMicros) => encode({ type: 'frameAck', frameId, serverTimeMicros });
export const clientClipboard = (text) => encode({ type: 'clientClipboard', text });
export const resizeRequest = (w, h) => encode({ type: 'resizeRequest', w, h });
export const refreshRequest = () => encode({ type: 'refreshRequest' });
export const clientCapabilities = (flags) => encode({ type: 'clientCapabilities', flags });

/** Status protocol codes (io.deskgate.common.Status.protocolCode) by name, for messages to people. */
export const StatusCode = Object.freeze({
  OK: 0, BAD_REQUEST: 1, UNAUTHORIZED: 2, FORBIDDEN: 3, NOT_FOUND: 4, TOO_LARGE: 5, PROTOCOL_ERROR: 6,
  NO_DESKTOP_AVAILABLE: 7, UPSTREAM_UNAVAILABLE: 8, SESSION_ENDED: 9, INTERNAL_ERROR: 10,
});
