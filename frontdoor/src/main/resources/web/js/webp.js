// The WEBP tile format (docs/protocol.md §1.1, tile format 7): checkWebp() reads the RIFF container and the VP8 key
// frame's header and refuses anything but one lossy frame of exactly the tile's w×h, before the browser's image decoder
// sees a byte; mirrors io.deskgate.stream.WebpTile.check (the same golden vectors, stream/src/test/vectors/webp-tiles.txt).
// webpSupported() asks the browser once whether it decodes WebP, for CLIENT_CAPABILITIES (§1.2).

const VP8_OFFSET = 20;
const VP8_HEADER_BYTES = 10;
const MAX_PIXELS = 1 << 24;

const fourcc = (d, at, code) => [...code].every((c, i) => d[at + i] === c.charCodeAt(0));
const le32 = (d, at) => (d[at] | d[at + 1] << 8 | d[at + 2] << 16 | d[at + 3] << 24) >>> 0;

/** Throws an Error naming what is wrong unless m.data is one lossy VP8 key frame of exactly m.w x m.h in RIFF. */
export function checkWebp(m) {
  const d = m.data;
  if (m.w * m.h > MAX_PIXELS) throw new Error(`WEBP tile ${m.w}x${m.h} over ${MAX_PIXELS} pixels`);
  if (d.byteLength < VP8_OFFSET + VP8_HEADER_BYTES) throw new Error(`WEBP tile of ${d.byteLength} bytes is too short`);
  if (!fourcc(d, 0, 'RIFF') || !fourcc(d, 8, 'WEBP')) throw new Error('WEBP tile is not a RIFF WEBP container');
  const riff = le32(d, 4);
  if (riff !== d.byteLength - 8) throw new Error(`WEBP tile's RIFF size ${riff} is not its ${d.byteLength - 8} bytes`);
  if (!fourcc(d, 12, 'VP8 ')) throw new Error("WEBP tile's chunk is not lossy VP8 (VP8L, VP8X, alpha and animation are refused)");
  const chunk = le32(d, 16);
  if (chunk < VP8_HEADER_BYTES || VP8_OFFSET + chunk + (chunk & 1) !== d.byteLength) {
    throw new Error(`WEBP tile's VP8 chunk of ${chunk} bytes does not end the ${d.byteLength}-byte container`);
  }
  const tag = d[VP8_OFFSET] | d[VP8_OFFSET + 1] << 8 | d[VP8_OFFSET + 2] << 16;
  if (tag & 1) throw new Error("WEBP tile's VP8 frame is not a key frame");
  if ((tag >> 1 & 7) > 3) throw new Error(`WEBP tile's VP8 version ${tag >> 1 & 7} is unknown`);
  if (!(tag >> 4 & 1)) throw new Error("WEBP tile's VP8 frame is not shown");
  if (tag >>> 5 > chunk - VP8_HEADER_BYTES) throw new Error("WEBP tile's VP8 first partition is longer than its chunk");
  if (d[VP8_OFFSET + 3] !== 0x9d || d[VP8_OFFSET + 4] !== 0x01 || d[VP8_OFFSET + 5] !== 0x2a) {
    throw new Error("WEBP tile's VP8 frame has no start code");
  }
  const width = d[VP8_OFFSET + 6] | d[VP8_OFFSET + 7] << 8;
  const height = d[VP8_OFFSET + 8] | d[VP8_OFFSET + 9] << 8;
  if (width >> 14 || height >> 14) throw new Error("WEBP tile's VP8 frame asks for upscaling");
  if (width !== m.w || height !== m.h) throw new Error(`WEBP tile of ${m.w}x${m.h} holds a ${width}x${height} picture`);
}

/** A 1x1 lossy WebP (libwebp 1.2's output for one pixel; webp.test.mjs checks it is a valid WEBP tile). */
const PROBE = 'UklGRkIAAABXRUJQVlA4IDYAAACwAQCdASoBAAEAAMASJaAAA18UFpcAAP75Cig///MvP/+Whf/5aF/zLz//5sD/28/8EeWgAAA=';

let supported = null;

/** Resolves to whether this browser decodes lossy WebP (createImageBitmap of a 1x1 one gives a 1x1 bitmap); asked once. */
export function webpSupported() {
  if (supported) return supported;
  supported = (async () => {
    if (typeof createImageBitmap !== 'function' || typeof Blob !== 'function' || typeof atob !== 'function') return false;
    try {
      const bytes = Uint8Array.from(atob(PROBE), (c) => c.charCodeAt(0));
      const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/webp' }));
      const ok = bitmap.width === 1 && bitmap.height === 1;
      bitmap.close?.();
      return ok;
    } catch {
      return false;
    }
  })();
  return supported;
}

/** Forgets the answer (tests only). */
export function forgetWebpSupport() { supported = null; }
