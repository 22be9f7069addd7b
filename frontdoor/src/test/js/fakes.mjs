// Fakes shared by the viewer's Node tests: a canvas that records its draw calls, console.warn captured, ImageData,
// and the tile formats' golden vectors.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));

/** A canvas whose 2D context records fillRect, drawImage and putImageData calls (with their image) in {@code calls}. */
export function fakeCanvas(width, height) {
  const calls = [];
  const ctx = {
    fillStyle: '',
    fillRect: (...a) => calls.push(['fillRect', ...a]),
    drawImage: (_src, ...a) => calls.push(['drawImage', ...a]),
    putImageData: (image, ...a) => calls.push(['putImageData', image, ...a]),
  };
  return { width, height, style: {}, calls, getContext: () => ctx };
}

/** Runs fn with console.warn captured; returns the lines. */
export async function warnings(fn) {
  const lines = [];
  const warn = console.warn;
  console.warn = (...a) => lines.push(a.map((x) => (x instanceof Error ? x.message : String(x))).join(' '));
  try {
    await fn();
  } finally {
    console.warn = warn;
  }
  return lines;
}

/** Bytes from a string of hex digits. */
export const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));

/** RGBA (alpha 255) of a string of hex R G B triples, as a decoded tile's pixels. */
export function rgba(rgbHex) {
  const rgb = hex(rgbHex);
  const out = new Uint8ClampedArray((rgb.length / 3) * 4);
  for (let i = 0; i < rgb.length / 3; i++) out.set([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255], 4 * i);
  return out;
}

/**
 * The golden vectors of one tile format (stream/src/test/vectors/<file>, shared with the Java tests): per line
 * good|bad name desktopW desktopH <TILE message hex> rest, the message decoded with the given decode.
 */
export function loadVectors(file, decode) {
  return readFileSync(path.join(here, '../../../../stream/src/test/vectors', file), 'utf8')
    .split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
      const [kind, name, w, h, message, ...rest] = l.split(' ');
      return { good: kind === 'good', name, desktopW: Number(w), desktopH: Number(h), tile: decode(hex(message)), rest: rest.join(' ') };
    });
}

/** The browser's ImageData, in both of its forms: (data, width, height) and (width, height). */
export function installImageData() {
  globalThis.ImageData = class {
    constructor(data, width, height) {
      if (typeof data === 'number') [data, width, height] = [new Uint8ClampedArray(data * width * 4), data, width];
      this.data = data; this.width = width; this.height = height;
    }
  };
}
