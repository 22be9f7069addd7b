// Draws the stream's down messages on a canvas (docs/protocol.md §1.1). Tiles decode asynchronously
// (DecompressionStream, createImageBitmap), so every message is applied through one promise chain:
// messages take effect in the order they arrived, and FRAME_END fires only after all of its frame's
// tiles are on the canvas.
//
// Every queued message belongs to a generation. reset() (the connection closed) and an overflow of the
// queue start a new one: work of an older generation is skipped, also when it was mid-way through an
// await, and its hooks (FRAME_END -> FRAME_ACK) never fire.
import { TileFormat } from './protocol.js';

/** Past this many queued bytes or messages, the queue is dropped and the whole picture asked for again. */
export const MAX_QUEUED_BYTES = 32 * 1024 * 1024;
export const MAX_QUEUED_MESSAGES = 20_000;
/** The bytes a message without pixel data is counted as. */
const SMALL_MESSAGE_BYTES = 16;

export class Display {
  /**
   * Single-threaded (the browser's main thread) and owns the canvas it draws on.
   * @param {HTMLCanvasElement} canvas
   * @param {object} hooks onFrameEnd(msg) after a frame is drawn; onResize(w, h); onStatus(msg); onClipboard(text);
   *   onOverflow() after the queue was dropped (the owner asks for the whole picture again)
   * @param {object} limits maxQueuedBytes, maxQueuedMessages
   */
  constructor(canvas, hooks, { maxQueuedBytes = MAX_QUEUED_BYTES, maxQueuedMessages = MAX_QUEUED_MESSAGES } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d', { alpha: false });
    this.hooks = hooks;
    this.maxQueuedBytes = maxQueuedBytes;
    this.maxQueuedMessages = maxQueuedMessages;
    this.chain = Promise.resolve();
    this.generation = 0;
    this.queuedBytes = 0;
    this.queuedMessages = 0;
  }

  get width() { return this.canvas.width; }
  get height() { return this.canvas.height; }

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
    this.chain = this.chain.then(() => this.current(generation) && this.apply(msg, generation)).catch((e) => {
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
    this.queuedBytes = 0;
    this.queuedMessages = 0;
    this.chain = Promise.resolve();
  }

  current(generation) {
    return generation === this.generation;
  }

  async apply(msg, generation = this.generation) {
    switch (msg.type) {
      case 'tile': return this.tile(msg, generation);
      case 'copyRect': return this.copyRect(msg);
      case 'cursor': return this.cursor(msg);
      case 'resize': return this.resize(msg.w, msg.h);
      case 'frameEnd': return this.hooks.onFrameEnd?.(msg);
      case 'status': return this.hooks.onStatus?.(msg);
      case 'serverClipboard': return this.hooks.onClipboard?.(msg.text);
      default: console.warn('deskgate: ignoring up message on the down leg', msg.type);
    }
  }

  inside(x, y, w, h) {
    return x + w <= this.canvas.width && y + h <= this.canvas.height;
  }

  async tile(m, generation) {
    if (!this.inside(m.x, m.y, m.w, m.h)) {
      console.warn(`deskgate: tile ${m.w}x${m.h} at ${m.x},${m.y} is outside ${this.canvas.width}x${this.canvas.height}`);
      return;
    }
    if (m.w === 0 || m.h === 0) return;
    switch (m.format) {
      case TileFormat.FILL: {
        if (m.data.byteLength !== 3) throw new Error(`FILL tile carries ${m.data.byteLength} bytes`);
        this.ctx.fillStyle = `rgb(${m.data[0]}, ${m.data[1]}, ${m.data[2]})`;
        this.ctx.fillRect(m.x, m.y, m.w, m.h);
        return;
      }
      case TileFormat.ZLIB_RGB: {
        const rgb = new Uint8Array(await new Response(
          new Blob([m.data]).stream().pipeThrough(new DecompressionStream('deflate'))).arrayBuffer());
        if (!this.current(generation)) return;
        const pixels = m.w * m.h;
        if (rgb.byteLength !== pixels * 3) throw new Error(`ZLIB_RGB tile inflates to ${rgb.byteLength} bytes, not ${pixels * 3}`);
        const image = new ImageData(m.w, m.h);
        const rgba = image.data;
        for (let i = 0, j = 0; i < pixels; i++, j += 3) {
          const k = i * 4;
          rgba[k] = rgb[j]; rgba[k + 1] = rgb[j + 1]; rgba[k + 2] = rgb[j + 2]; rgba[k + 3] = 255;
        }
        this.ctx.putImageData(image, m.x, m.y);
        return;
      }
      case TileFormat.JPEG:
      case TileFormat.PNG: {
        const type = m.format === TileFormat.JPEG ? 'image/jpeg' : 'image/png';
        const bitmap = await createImageBitmap(new Blob([m.data], { type }));
        try {
          if (this.current(generation)) this.ctx.drawImage(bitmap, m.x, m.y, m.w, m.h);
        } finally {
          bitmap.close();
        }
        return;
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
    this.ctx.drawImage(this.canvas, m.srcX, m.srcY, m.w, m.h, m.dstX, m.dstY, m.w, m.h);
  }

  cursor(m) {
    if (m.w === 0 || m.h === 0) {
      this.canvas.style.cursor = 'none';
      return;
    }
    const c = document.createElement('canvas');
    c.width = m.w;
    c.height = m.h;
    const image = new ImageData(new Uint8ClampedArray(m.rgba.buffer.slice(m.rgba.byteOffset, m.rgba.byteOffset + m.rgba.byteLength)), m.w, m.h);
    c.getContext('2d').putImageData(image, 0, 0);
    this.canvas.style.cursor = `url(${c.toDataURL('image/png')}) ${m.hotX} ${m.hotY}, default`;
  }

  resize(w, h) {
    this.canvas.width = w;
    this.canvas.height = h;
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, w, h);
    this.hooks.onResize?.(w, h);
  }
}

/** The bytes a decoded message stands for in the queue. */
function sizeOf(msg) {
  return SMALL_MESSAGE_BYTES + (msg.data?.byteLength ?? msg.rgba?.byteLength ?? 0);
}
