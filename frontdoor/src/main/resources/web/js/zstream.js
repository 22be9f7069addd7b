// The ZSTREAM tile format's decoder (docs/protocol.md §1.1): each of up to 16 lanes is one raw deflate stream (RFC 1951)
// that goes on across tiles, every tile one chunk of it ending with a sync flush. A small synchronous inflate of our
// own, not DecompressionStream (docs/architecture.md, "ZSTREAM tiles"): a chunk must be inflated in the order the
// tiles were sent while display.js decodes other tiles ahead, a short or corrupt chunk must fail at once (a stream
// reader would wait for bytes that never come), and the output is bounded by the tile's own size before anything
// is allocated.
//
// Single-threaded; one ZstreamLanes per connection (reset() when the connection's messages stop being contiguous).

/** The largest payload a tile may claim; a larger one is refused before anything is allocated (as the Java decoder). */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;
export const LANES = 16;
const RESET = 0x80;
const WINDOW = 32768;
/** GLYPHS tiles (docs/protocol.md §1.1, format 9): the slots of a lane's glyph cache, and the largest cell. */
export const GLYPH_SLOTS = 4096;
const MAX_CELL_W = 32;
const MAX_CELL_H = 64;
const GLYPHS = 9;

const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
  6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** What is wrong with a chunk's deflate data (becomes "ZSTREAM tile's chunk is not deflate: ..."). */
class DeflateError extends Error {}
/** The chunk's input ended inside a block. */
class OutOfInput extends Error {}

/** A canonical Huffman code from code lengths: counts per length and symbols by code. */
function huffman(lengths, n) {
  const count = new Uint16Array(16);
  for (let i = 0; i < n; i++) count[lengths[i]]++;
  count[0] = 0;
  let left = 1;
  for (let len = 1; len < 16; len++) {
    left = (left << 1) - count[len];
    if (left < 0) throw new DeflateError('over-subscribed Huffman code');
  }
  const offsets = new Uint16Array(16);
  for (let len = 1; len < 15; len++) offsets[len + 1] = offsets[len] + count[len];
  const symbol = new Uint16Array(n);
  for (let i = 0; i < n; i++) if (lengths[i] !== 0) symbol[offsets[lengths[i]]++] = i;
  return { count, symbol };
}

let fixedCodes = null;
function fixed() {
  if (fixedCodes) return fixedCodes;
  const l = new Uint8Array(288);
  l.fill(8, 0, 144); l.fill(9, 144, 256); l.fill(7, 256, 280); l.fill(8, 280, 288);
  const d = new Uint8Array(30).fill(5);
  fixedCodes = { lit: huffman(l, 288), dist: huffman(d, 30) };
  return fixedCodes;
}

/**
 * Inflates a lane tile's chunk (after its header of skip bytes), which must end with a sync flush, to exactly
 * expected bytes after the lane's history; a failure goes through fail (the lane is lost).
 */
function inflateLane(d, skip, history, expected, name, fail) {
  const n = d.byteLength;
  if (n < skip + 4 || d[n - 4] !== 0 || d[n - 3] !== 0 || d[n - 2] !== 0xff || d[n - 1] !== 0xff) {
    throw fail(`${name} tile's chunk does not end with a sync flush (00 00 ff ff)`);
  }
  try {
    return inflateChunk(d.subarray(skip), history, expected, name);
  } catch (e) {
    throw fail(e.message);
  }
}

/**
 * Inflates one chunk: whole non-final blocks, the last of them the empty stored block of a sync flush. Back-references
 * may reach into {@code history} (the lane's last output, at most 32 KiB). Returns {out, history}: exactly
 * {@code expected} bytes and the new history. Throws an Error whose message says what is wrong.
 */
export function inflateChunk(input, history, expected, format = 'ZSTREAM') {
  const base = history.length;
  const buf = new Uint8Array(base + expected);
  buf.set(history, 0);
  let at = base;
  let pos = 0, bitBuf = 0, bitCount = 0;
  const n = input.length;
  const bits = (k) => {
    while (bitCount < k) {
      if (pos >= n) throw new OutOfInput();
      bitBuf |= input[pos++] << bitCount;
      bitCount += 8;
    }
    const v = bitBuf & ((1 << k) - 1);
    bitBuf >>>= k;
    bitCount -= k;
    return v;
  };
  const symbol = (h) => {
    let code = 0, first = 0, index = 0;
    for (let len = 1; len < 16; len++) {
      code |= bits(1);
      const c = h.count[len];
      if (code - c < first) return h.symbol[index + (code - first)];
      index += c;
      first = (first + c) << 1;
      code <<= 1;
    }
    throw new DeflateError('invalid Huffman code');
  };
  const tooMany = () => new Error(`${format} tile's chunk inflates to more than ${expected} bytes`);
  const codes = (lit, dist) => {
    for (;;) {
      let s = symbol(lit);
      if (s < 256) {
        if (at >= buf.length) throw tooMany();
        buf[at++] = s;
      } else if (s === 256) {
        return;
      } else {
        s -= 257;
        if (s >= 29) throw new DeflateError('invalid length symbol');
        const len = LEN_BASE[s] + bits(LEN_EXTRA[s]);
        const ds = symbol(dist);
        if (ds >= 30) throw new DeflateError('invalid distance symbol');
        const d = DIST_BASE[ds] + bits(DIST_EXTRA[ds]);
        if (d > at) throw new DeflateError(`distance ${d} reaches before the stream's start`);
        if (at + len > buf.length) throw tooMany();
        for (let i = 0; i < len; i++, at++) buf[at] = buf[at - d];
      }
    }
  };
  try {
    while (!(pos === n && bitCount === 0)) {
      if (bits(1) === 1) throw new Error(`${format} tile's chunk ends the deflate stream (a final block)`);
      const type = bits(2);
      if (type === 0) {
        bitBuf = 0;
        bitCount = 0;
        if (pos + 4 > n) throw new OutOfInput();
        const len = input[pos] | (input[pos + 1] << 8), nlen = input[pos + 2] | (input[pos + 3] << 8);
        pos += 4;
        if (len !== (~nlen & 0xffff)) throw new DeflateError('stored block length does not match its complement');
        if (pos + len > n) throw new OutOfInput();
        if (at + len > buf.length) throw tooMany();
        buf.set(input.subarray(pos, pos + len), at);
        pos += len;
        at += len;
      } else if (type === 1) {
        const f = fixed();
        codes(f.lit, f.dist);
      } else if (type === 2) {
        const nlen = bits(5) + 257, ndist = bits(5) + 1, ncode = bits(4) + 4;
        if (nlen > 286 || ndist > 30) throw new DeflateError('too many length or distance codes');
        const lengths = new Uint8Array(320);
        for (let i = 0; i < ncode; i++) lengths[CODE_LENGTH_ORDER[i]] = bits(3);
        const cl = huffman(lengths, 19);
        const all = new Uint8Array(nlen + ndist);
        for (let i = 0; i < nlen + ndist;) {
          const s = symbol(cl);
          if (s < 16) { all[i++] = s; continue; }
          let repeat, value = 0;
          if (s === 16) {
            if (i === 0) throw new DeflateError('repeat with no previous length');
            value = all[i - 1];
            repeat = 3 + bits(2);
          } else if (s === 17) {
            repeat = 3 + bits(3);
          } else {
            repeat = 11 + bits(7);
          }
          if (i + repeat > nlen + ndist) throw new DeflateError('too many code lengths');
          all.fill(value, i, i + repeat);
          i += repeat;
        }
        if (all[256] === 0) throw new DeflateError('no end-of-block code');
        codes(huffman(all.subarray(0, nlen), nlen), huffman(all.subarray(nlen), ndist));
      } else {
        throw new DeflateError('invalid block type 3');
      }
    }
  } catch (e) {
    if (e instanceof OutOfInput) throw new Error(`${format} tile's chunk inflates to ${at - base} bytes, want ${expected}: its input ends inside a block`);
    if (e instanceof DeflateError) throw new Error(`${format} tile's chunk is not deflate: ${e.message}`);
    throw e;
  }
  if (at - base < expected) throw new Error(`${format} tile's chunk inflates to ${at - base} bytes, want ${expected}`);
  return { out: buf.subarray(base), history: buf.slice(Math.max(0, buf.length - WINDOW)) };
}

/** The payload bytes of a w x h tile of mode (0: RGB, else a palette of mode+1 colours). */
export function payloadBytes(w, h, mode) {
  if (mode === 0) return w * h * 3;
  const count = mode + 1;
  const bits = count <= 2 ? 1 : count <= 4 ? 2 : count <= 16 ? 4 : 8;
  return 3 * count + Math.ceil((w * bits) / 8) * h;
}

/** The lanes of one connection: each lane's history (its last 32 KiB of output), or null while it has no valid stream. */
export class ZstreamLanes {
  constructor() {
    this.lanes = new Array(LANES).fill(null);
    /** Per lane, its glyph cache (GLYPHS tiles): {shapes, masks, next}, or null while empty. */
    this.glyphs = new Array(LANES).fill(null);
    /** Whether the lane's loss was reported (one line and one refresh per loss; later tiles are dropped quietly). */
    this.reported = new Array(LANES).fill(false);
  }

  /** The connection's messages stopped being contiguous: every lane waits for a RESET tile. */
  reset() {
    this.lanes.fill(null);
    this.glyphs.fill(null);
    this.reported.fill(false);
  }

  /**
   * The checks a ZSTREAM and a GLYPHS tile share before their own header fields: inside the desktop, a header of
   * headerBytes, no reserved flag bits, a stream on the lane unless it is a RESET. Returns the lane, the stream's
   * history (empty after a RESET, which also empties the lane's glyph cache) and fail (which loses the lane, so that
   * the caller's refusal resynchronises on the next RESET), the lane's stream held back until the tile decodes; null
   * when the lane has no stream and that was already reported.
   */
  openLane(m, w, h, name, headerBytes) {
    const d = m.data;
    const lane = d.byteLength > 0 ? d[0] & 0x0f : 0;
    const fail = (message) => {
      this.lanes[lane] = null;
      this.reported[lane] = true;
      return new Error(message);
    };
    if (m.x + m.w > w || m.y + m.h > h || m.w === 0 || m.h === 0) {
      // The encoder deflated it into the lane all the same: the lane is lost.
      throw fail(`${name} tile ${m.w}x${m.h} at ${m.x},${m.y} is empty or outside the ${w}x${h} desktop`);
    }
    if (d.byteLength < headerBytes) throw fail(`${name} tile of ${d.byteLength} bytes has no header`);
    const flags = d[0];
    if ((flags & 0x70) !== 0) throw fail(`${name} tile with reserved flag bits ${flags.toString(16)}`);
    const reset = (flags & RESET) !== 0;
    if (!reset && this.lanes[lane] === null) {
      if (this.reported[lane]) return null;
      throw fail(`${name} tile of lane ${lane} without RESET, but the lane has no stream`);
    }
    const history = reset ? new Uint8Array(0) : this.lanes[lane];
    this.lanes[lane] = null; // until this tile decodes
    if (reset) this.glyphs[lane] = null; // the lane's glyph cache starts anew with its stream
    return { lane, history, fail };
  }

  /**
   * Decodes a ZSTREAM tile of a desktop of w x h to RGBA, or null when it is outside the desktop or its lane has no
   * stream (already reported). Throws an Error naming what is wrong (the caller logs it and asks for a refresh); the
   * lane has no stream from then on until a RESET tile.
   */
  decode(m, w, h) {
    if (m.format === GLYPHS) return this.decodeGlyphs(m, w, h);
    const open = this.openLane(m, w, h, 'ZSTREAM', 2);
    if (open === null) return null;
    const { lane, history, fail } = open;
    const d = m.data;
    const mode = d[1];
    const expected = payloadBytes(m.w, m.h, mode);
    if (expected > MAX_PAYLOAD_BYTES) throw fail(`ZSTREAM tile ${m.w}x${m.h} claims ${expected} bytes, more than ${MAX_PAYLOAD_BYTES}`);
    const result = inflateLane(d, 2, history, expected, 'ZSTREAM', fail);
    const raw = result.out;
    const rgba = new Uint8ClampedArray(m.w * m.h * 4);
    if (mode === 0) {
      for (let i = 0, j = 0, k = 0; i < m.w * m.h; i++, j += 3, k += 4) {
        rgba[k] = raw[j]; rgba[k + 1] = raw[j + 1]; rgba[k + 2] = raw[j + 2]; rgba[k + 3] = 255;
      }
    } else {
      const count = mode + 1;
      const bits = count <= 2 ? 1 : count <= 4 ? 2 : count <= 16 ? 4 : 8;
      const rowBytes = Math.ceil((m.w * bits) / 8);
      const perByte = 8 / bits, mask = (1 << bits) - 1, start = 3 * count;
      for (let row = 0, k = 0; row < m.h; row++) {
        const at = start + row * rowBytes;
        for (let col = 0; col < m.w; col++, k += 4) {
          const index = (raw[at + Math.floor(col / perByte)] >> (8 - bits * ((col % perByte) + 1))) & mask;
          if (index >= count) throw fail(`ZSTREAM tile's pixel ${col},${row} has index ${index} beyond its ${count} colours`);
          const p = 3 * index;
          rgba[k] = raw[p]; rgba[k + 1] = raw[p + 1]; rgba[k + 2] = raw[p + 2]; rgba[k + 3] = 255;
        }
      }
    }
    this.lanes[lane] = result.history;
    this.reported[lane] = false;
    return rgba;
  }

  /**
   * Decodes a GLYPHS tile (the lane's stream and glyph cache) to RGBA, or null when its lane has no stream (already
   * reported). Throws an Error naming what is wrong, as decode() does; the lane has no stream until a RESET tile.
   */
  decodeGlyphs(m, w, h) {
    const open = this.openLane(m, w, h, 'GLYPHS', 6);
    if (open === null) return null;
    const { lane, history, fail } = open;
    const d = m.data;
    const cw = d[1], ch = d[2], refBytes = d[3], newCount = (d[4] << 8) | d[5];
    if (cw < 1 || cw > MAX_CELL_W || ch < 1 || ch > MAX_CELL_H || m.w % cw !== 0 || m.h % ch !== 0) {
      throw fail(`GLYPHS tile ${m.w}x${m.h} with cells of ${cw}x${ch}`);
    }
    if (refBytes !== 1 && refBytes !== 2) throw fail(`GLYPHS tile with references of ${refBytes} bytes`);
    const columns = m.w / cw, rows = m.h / ch, cells = columns * rows;
    if (newCount > cells) throw fail(`GLYPHS tile of ${cells} cells adds ${newCount} glyphs`);
    const rowBytes = Math.ceil(cw / 8), maskBytes = ch * rowBytes;
    const expected = 6 + newCount * maskBytes + cells * refBytes;
    if (expected > MAX_PAYLOAD_BYTES) throw fail(`GLYPHS tile ${m.w}x${m.h} claims ${expected} bytes, more than ${MAX_PAYLOAD_BYTES}`);
    const result = inflateLane(d, 6, history, expected, 'GLYPHS', fail);
    const raw = result.out;
    if (this.glyphs[lane] === null) this.glyphs[lane] = { shapes: new Uint16Array(GLYPH_SLOTS), masks: new Array(GLYPH_SLOTS), next: 0 };
    const cache = this.glyphs[lane];
    const shape = (cw << 8) | ch;
    let at = 6;
    for (let i = 0; i < newCount; i++, at += maskBytes) {
      cache.shapes[cache.next] = shape;
      cache.masks[cache.next] = raw.slice(at, at + maskBytes);
      cache.next = (cache.next + 1) % GLYPH_SLOTS;
    }
    const bg = [raw[0], raw[1], raw[2]], fg = [raw[3], raw[4], raw[5]];
    const rgba = new Uint8ClampedArray(m.w * m.h * 4);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++, at += refBytes) {
        const slot = refBytes === 1 ? raw[at] : (raw[at] << 8) | raw[at + 1];
        if (slot >= GLYPH_SLOTS || cache.shapes[slot] !== shape) {
          throw fail(`GLYPHS tile's cell ${c},${r} names slot ${slot}, which holds no ${cw}x${ch} glyph`);
        }
        const mask = cache.masks[slot];
        for (let y = 0; y < ch; y++) {
          let k = ((r * ch + y) * m.w + c * cw) * 4;
          for (let x = 0; x < cw; x++, k += 4) {
            const p = (mask[y * rowBytes + (x >> 3)] >> (7 - (x & 7))) & 1 ? fg : bg;
            rgba[k] = p[0]; rgba[k + 1] = p[1]; rgba[k + 2] = p[2]; rgba[k + 3] = 255;
          }
        }
      }
    }
    this.lanes[lane] = result.history;
    this.reported[lane] = false;
    return rgba;
  }
}
