// Draws the stream's down messages on a canvas (docs/protocol.md §1.1). Tiles decode asynchronously
// (DecompressionStream, createImageBitmap), so every message is applied through one promise chain:
// messages take effect in the order they arrived, and FRAME_END fires only after all of its frame's
// tiles are on the canvas. Up to MAX_DECODING_AHEAD tiles start decoding as soon as they are pushed (checked
// first against the desktop size the messages ahead of them leave), so decoders run side by side while the
// draws stay in order.
//
// With a `schedule` (requestAnimationFrame), a frame's draws are batched: tiles decode as they arrive, but what
// they draw (and every COPY_RECT and RESIZE) waits in order until the frame's FRAME_END, then all of it is drawn in
// one scheduled callback, so the canvas never shows half a frame and the browser composites once per frame;
// FRAME_END's hook fires after that callback. Without one, everything is drawn as soon as it is decoded.
//
// The same module draws on the main thread (an HTMLCanvasElement) and in display-worker.js (an OffscreenCanvas).
//
// Every queued message belongs to a generation. reset() (the connection closed) and an overflow of the
// queue start a new one: work of an older generation is skipped, also when it was mid-way through an
// await, and its hooks (FRAME_END -> FRAME_ACK) never fire.
//
// ZSTREAM tiles (zstream.js) continue one of the connection's deflate streams, so each is inflated as it is pushed, in
// the order the tiles arrived, whatever else decodes ahead; a lost or failed stream is reported once (one line) and
// asks for the whole picture again (onOverflow), whose tiles restart the streams.
import { TileFormat } from './protocol.js';
import { ZstreamLanes } from './zstream.js';
import { checkWebp } from './webp.js';

/** Past this many queued bytes or messages, the queue is dropped and the whole picture asked for again. */
export const MAX_QUEUED_BYTES = 32 * 1024 * 1024;
export const MAX_QUEUED_MESSAGES = 20_000;
/** The bytes a message without pixel data is counted as. */
const SMALL_MESSAGE_BYTES = 16;
/** Tiles whose decoding may start before the messages ahead of them are applied (decoders run side by side). */
export const MAX_DECODING_AHEAD = 16;

export class Display {
  /**
   * Single-threaded (the thread it runs on: main or worker) and owns the canvas it draws on.
   * @param {HTMLCanvasElement|OffscreenCanvas} canvas
   * @param {object} hooks onFrameEnd(msg) after a frame is drawn; onResize(w, h); onStatus(msg); onClipboard(text);
   *   onCursor(msg); onOverflow() after the queue was dropped or a ZSTREAM lane was lost (the owner asks for the whole
   *   picture again)
   * @param {object} limits maxQueuedBytes, maxQueuedMessages; schedule(fn): runs fn before the next paint
   *   (requestAnimationFrame) to batch each frame's draws, absent to draw at once
   */
  constructor(canvas, hooks, { maxQueuedBytes = MAX_QUEUED_BYTES, maxQueuedMessages = MAX_QUEUED_MESSAGES, schedule = null } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d', { alpha: false });
    this.schedule = schedule;
    /** Draws of the frame being received, waiting for its FRAME_END (only with a schedule). */
    this.batch = [];
    /** The desktop's size as the messages applied so far say (the canvas follows when a batch is drawn). */
    this.w = canvas.width;
    this.h = canvas.height;
    /** The desktop's size once every queued message is applied: what a tile decoded ahead is checked against. */
    this.queuedW = this.w;
    this.queuedH = this.h;
    this.decodingAhead = 0;
    this.hooks = hooks;
    this.maxQueuedBytes = maxQueuedBytes;
    this.maxQueuedMessages = maxQueuedMessages;
    this.chain = Promise.resolve();
    this.generation = 0;
    this.queuedBytes = 0;
    this.queuedMessages = 0;
    this.zstreams = new ZstreamLanes();
  }

  get width() { return this.w; }
  get height() { return this.h; }

  /** Runs a draw now, or with a schedule adds it to the frame's batch (a reset drops the batch, calling each draw's drop()). */
  draw(fn) {
    if (this.schedule) this.batch.push(fn);
    else fn();
  }

  /** Draws the frame's batch in one scheduled callback; resolves after it (or at once when nothing waits). */
  flush(generation) {
    if (!this.schedule || this.batch.length === 0) return Promise.resolve();
    const batch = this.batch;
    this.batch = [];
    return new Promise((resolve) => {
      this.schedule(() => {
        try {
          if (this.current(generation)) for (const fn of batch) fn();
        } finally {
          resolve();
        }
      });
    });
  }

  /**
   * Queues one decoded message of {@code bytes} wire bytes; returns the promise of its application.
   * A message that would overflow the queue drops it, with itself, and calls onOverflow.
   */
  push(msg, bytes = sizeOf(msg)) {
    if (this.queuedBytes + bytes > this.maxQueuedBytes || this.queuedMessages + 1 > this.maxQueuedMessages) {
      console.warn(`deskgate: ${this.queuedMessages} messages (${this.queuedBytes} bytes) wait to be drawn; dropping them`);
      this.reset();
      this.hooks.onOverflow?.();
      return this.chain;
    }
    const generation = this.generation;
    this.queuedBytes += bytes;
    this.queuedMessages += 1;
    // A tile starts decoding now (up to MAX_DECODING_AHEAD at once), checked against the size the messages ahead
    // of it leave; it is drawn in its turn.
    let ahead = null;
    if (msg.type === 'resize') {
      this.queuedW = msg.w;
      this.queuedH = msg.h;
    } else if (msg.type === 'tile' && (msg.format === TileFormat.ZSTREAM || msg.format === TileFormat.GLYPHS)) {
      // Inflated now, in arrival order (the lanes' streams depend on it); drawn in its turn.
      try {
        const rgba = this.zstreams.decode(msg, this.queuedW, this.queuedH);
        msg = { ...msg, rgba };
      } catch (e) {
        msg = { ...msg, failure: e };
        this.hooks.onOverflow?.();
      }
    } else if (msg.type === 'tile' && this.decodingAhead < MAX_DECODING_AHEAD) {
      this.decodingAhead += 1;
      ahead = this.prepareTile(msg, generation, this.queuedW, this.queuedH).finally(() => { this.decodingAhead -= 1; });
      ahead.catch(() => {}); // its failure is reported in its turn, below
    }
    this.chain = this.chain.then(() => {
      if (!this.current(generation)) return ahead?.then((d) => d?.drop?.(), () => {});
      return ahead ? this.drawPrepared(ahead, generation) : this.apply(msg, generation);
    }).catch((e) => {
      console.warn('deskgate: cannot draw', msg.type, e);
    }).finally(() => {
      if (this.current(generation)) {
        this.queuedBytes -= bytes;
        this.queuedMessages -= 1;
      }
    });
    return this.chain;
  }

  /** Drops queued work (of a closed connection, or an overflowed queue): pending steps become no-ops. */
  reset() {
    this.generation += 1;
    this.queuedW = this.w;
    this.queuedH = this.h;
    for (const fn of this.batch) fn.drop?.();
    this.batch = [];
    this.queuedBytes = 0;
    this.queuedMessages = 0;
    this.chain = Promise.resolve();
    this.zstreams.reset(); // what is dropped may have been inflated but is never drawn: the next picture restarts them
  }

  current(generation) {
    return generation === this.generation;
  }

  async apply(msg, generation = this.generation) {
    switch (msg.type) {
      case 'tile': return this.tile(msg, generation);
      case 'copyRect': return this.copyRect(msg);
      case 'cursor': return this.hooks.onCursor?.(msg);
      case 'resize': return this.resize(msg.w, msg.h);
      case 'frameEnd': {
        await this.flush(generation);
        if (this.current(generation)) this.hooks.onFrameEnd?.(msg);
        return;
      }
      case 'status': return this.hooks.onStatus?.(msg);
      case 'serverClipboard': return this.hooks.onClipboard?.(msg.text);
      default: console.warn('deskgate: ignoring up message on the down leg', msg.type);
    }
  }

  inside(x, y, w, h) {
    return x + w <= this.w && y + h <= this.h;
  }

  async tile(m, generation) {
    return this.drawPrepared(this.prepareTile(m, generation, this.w, this.h), generation);
  }

  /** Draws (or batches) what prepareTile made, once it is ready, unless the generation ended meanwhile. */
  async drawPrepared(prepared, generation) {
    const fn = await prepared;
    if (!fn) return;
    if (this.current(generation)) this.draw(fn);
    else fn.drop?.();
  }

  /**
   * Decodes a tile of a desktop of w x h and resolves to the function that draws it (with drop() to free what it
   * holds when it will not be drawn), or null when there is nothing to draw (empty, outside the desktop, or its
   * generation ended). Rejects with an Error saying what is wrong with a malformed tile.
   */
  async prepareTile(m, generation, w, h) {
    if (m.x + m.w > w || m.y + m.h > h) {
      console.warn(`deskgate: tile ${m.w}x${m.h} at ${m.x},${m.y} is outside ${w}x${h}`);
      return null;
    }
    if (m.w === 0 || m.h === 0) return null;
    switch (m.format) {
      case TileFormat.FILL: {
        if (m.data.byteLength !== 3) throw new Error(`FILL tile carries ${m.data.byteLength} bytes`);
        const style = `rgb(${m.data[0]}, ${m.data[1]}, ${m.data[2]})`;
        return () => {
          this.ctx.fillStyle = style;
          this.ctx.fillRect(m.x, m.y, m.w, m.h);
        };
      }
      case TileFormat.ZLIB_RGB: {
        const pixels = m.w * m.h;
        // Bounded: a tile that inflates past its own size is refused as soon as it does, never buffered whole.
        const rgb = await inflateExactly(m.data, pixels * 3, 'ZLIB_RGB tile');
        if (!this.current(generation)) return null;
        const image = new ImageData(m.w, m.h);
        const rgba = image.data;
        for (let i = 0, j = 0; i < pixels; i++, j += 3) {
          const k = i * 4;
          rgba[k] = rgb[j]; rgba[k + 1] = rgb[j + 1]; rgba[k + 2] = rgb[j + 2]; rgba[k + 3] = 255;
        }
        return () => this.ctx.putImageData(image, m.x, m.y);
      }
      case TileFormat.ZSTREAM:
      case TileFormat.GLYPHS: {
        if (m.failure) throw m.failure;
        if (!m.rgba) return null; // its lane is lost (reported once already)
        const image = new ImageData(m.rgba, m.w, m.h);
        return () => this.ctx.putImageData(image, m.x, m.y);
      }
      case TileFormat.PALETTE: {
        const rgba = await decodePalette(m);
        if (!this.current(generation)) return null;
        const image = new ImageData(rgba, m.w, m.h);
        return () => this.ctx.putImageData(image, m.x, m.y);
      }
      case TileFormat.JPEG:
      case TileFormat.PNG: {
        const type = m.format === TileFormat.JPEG ? 'image/jpeg' : 'image/png';
        const bitmap = await createImageBitmap(new Blob([m.data], { type }));
        if (!this.current(generation)) {
          bitmap.close();
          return null;
        }
        const fn = () => {
          try {
            this.ctx.drawImage(bitmap, m.x, m.y, m.w, m.h);
          } finally {
            bitmap.close();
          }
        };
        fn.drop = () => bitmap.close();
        return fn;
      }
      case TileFormat.WEBP: {
        checkWebp(m); // exactly one lossy frame of w x h, before the image decoder sees a byte
        let bitmap;
        try {
          bitmap = await createImageBitmap(new Blob([m.data], { type: 'image/webp' }));
        } catch (e) {
          throw new Error(`WEBP tile's VP8 data cannot be decoded: ${e && e.message || e}`);
        }
        if (bitmap.width !== m.w || bitmap.height !== m.h) {
          bitmap.close();
          throw new Error(`WEBP tile of ${m.w}x${m.h} decoded to ${bitmap.width}x${bitmap.height}`);
        }
        if (!this.current(generation)) {
          bitmap.close();
          return null;
        }
        const fn = () => {
          try {
            this.ctx.drawImage(bitmap, m.x, m.y);
          } finally {
            bitmap.close();
          }
        };
        fn.drop = () => bitmap.close();
        return fn;
      }
      default: throw new Error(`unknown tile format ${m.format}`);
    }
  }

  copyRect(m) {
    if (!this.inside(m.srcX, m.srcY, m.w, m.h) || !this.inside(m.dstX, m.dstY, m.w, m.h)) {
      console.warn('deskgate: copy-rect outside the desktop ignored');
      return;
    }
    if (m.w === 0 || m.h === 0) return;
    // Drawing a canvas onto itself copies the source first, so overlapping rectangles are safe.
    this.draw(() => this.ctx.drawImage(this.canvas, m.srcX, m.srcY, m.w, m.h, m.dstX, m.dstY, m.w, m.h));
  }

  /** The desktop is now w x h: the canvas is resized and cleared (with the frame's batch, when batching). */
  resize(w, h) {
    this.w = w;
    this.h = h;
    this.draw(() => {
      this.canvas.width = w;
      this.canvas.height = h;
      this.ctx.fillStyle = '#000';
      this.ctx.fillRect(0, 0, w, h);
      this.hooks.onResize?.(w, h);
    });
  }

  /** The canvas's pixels as RGBA (for a readback: tests, a bug report). */
  pixels() {
    return { w: this.canvas.width, h: this.canvas.height, data: this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height).data };
  }
}

/**
 * The pixels of a PALETTE tile (docs/protocol.md §1.1) as RGBA, for a tile already checked to lie inside the
 * desktop: count-1 u8, count x RGB, then a zlib stream of h rows of ceil(w*bits/8) bytes of indexes. Throws an
 * Error saying what is wrong for a bad count, a palette longer than the data, an index stream that is not zlib or
 * inflates to fewer or more bytes than the rectangle needs (it stops reading past that: no unbounded buffer), or
 * an index beyond the palette.
 */
export async function decodePalette(m) {
  const d = m.data;
  if (d.byteLength < 1) throw new Error('PALETTE tile without a palette size');
  const count = d[0] + 1;
  if (count < 2) throw new Error('PALETTE tile of 1 colour (a FILL tile is that)');
  const offset = 1 + 3 * count;
  if (d.byteLength < offset) throw new Error(`PALETTE tile of ${count} colours carries only ${d.byteLength} bytes`);
  const bits = count <= 2 ? 1 : count <= 4 ? 2 : count <= 16 ? 4 : 8;
  const rowBytes = Math.ceil((m.w * bits) / 8);
  const packed = await inflateExactly(d.subarray(offset), rowBytes * m.h, "PALETTE tile's indexes");
  const rgba = new Uint8ClampedArray(m.w * m.h * 4);
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  for (let row = 0, k = 0; row < m.h; row++) {
    const base = row * rowBytes;
    for (let col = 0; col < m.w; col++, k += 4) {
      const index = (packed[base + Math.floor(col / perByte)] >> (8 - bits * ((col % perByte) + 1))) & mask;
      if (index >= count) throw new Error(`PALETTE tile's pixel ${col},${row} has index ${index} beyond its ${count} colours`);
      const p = 1 + 3 * index;
      rgba[k] = d[p]; rgba[k + 1] = d[p + 1]; rgba[k + 2] = d[p + 2]; rgba[k + 3] = 255;
    }
  }
  return rgba;
}

/** Inflates a zlib stream ({@code what}, for the error) that must hold exactly {@code expected} bytes; reads no further than one chunk past them. */
async function inflateExactly(bytes, expected, what) {
  const plural = what.endsWith('indexes');
  const inflate = plural ? 'inflate' : 'inflates', is = plural ? 'are' : 'is';
  const out = new Uint8Array(expected);
  let got = 0;
  const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate')).getReader();
  try {
    for (;;) {
      let step;
      try {
        step = await reader.read();
      } catch (e) {
        throw new Error(`${what} ${is} not a zlib stream: ${e.message}`);
      }
      if (step.done) break;
      if (got + step.value.byteLength > expected) {
        throw new Error(`${what} ${inflate} to more than ${expected} bytes`);
      }
      out.set(step.value, got);
      got += step.value.byteLength;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  if (got < expected) throw new Error(`${what} ${inflate} to ${got} bytes, want ${expected}`);
  // A zlib stream ends with the Adler-32 of its output. Some DecompressionStreams ignore bytes after the end;
  // this refuses them as the Java decoder does.
  const n = bytes.byteLength;
  const trailer = n < 4 ? -1 : ((bytes[n - 4] << 24) | (bytes[n - 3] << 16) | (bytes[n - 2] << 8) | bytes[n - 1]) >>> 0;
  if (trailer !== adler32(out)) throw new Error(`${what} ${is} not a zlib stream: bytes after its end`);
  return out;
}

function adler32(bytes) {
  let a = 1, b = 0;
  for (let i = 0; i < bytes.length;) {
    for (const end = Math.min(bytes.length, i + 3800); i < end; i++) {
      a += bytes[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** The bytes a decoded message stands for in the queue. */
function sizeOf(msg) {
  return SMALL_MESSAGE_BYTES + (msg.data?.byteLength ?? msg.rgba?.byteLength ?? 0);
}
