// The desktop's cursor drawn locally (docs/protocol.md §1.2): each CURSOR becomes the canvas's CSS cursor, so the
// pointer moves with no round trip. The image is scaled with the canvas (a desktop shown at half size gets a
// half-size pointer), within what browsers accept for a CSS cursor image.

/** Browsers ignore CSS cursor images over 128x128 (and Chromium draws those over 32x32 only inside the page). */
export const MAX_CSS_CURSOR = 128;

/**
 * The size and hot spot of a cursor of {@code w}x{@code h} with hot spot (hotX, hotY) drawn at {@code scale}
 * (canvas CSS pixels per desktop pixel): at least 1x1, at most {@link MAX_CSS_CURSOR} a side (the aspect kept),
 * the hot spot inside the image.
 */
export function cursorGeometry(w, h, hotX, hotY, scale) {
  const s = Math.min(Number.isFinite(scale) && scale > 0 ? scale : 1, MAX_CSS_CURSOR / Math.max(w, h, 1));
  const sw = Math.max(1, Math.round(w * s));
  const sh = Math.max(1, Math.round(h * s));
  return {
    w: sw, h: sh,
    hotX: Math.min(sw - 1, Math.max(0, Math.floor(hotX * s))),
    hotY: Math.min(sh - 1, Math.max(0, Math.floor(hotY * s))),
  };
}

/** Shows CURSOR messages on an element as its CSS cursor. Main thread only (it uses a DOM canvas). */
export class LocalCursor {
  constructor(element) {
    this.element = element;
    this.shape = null;
    this.scale = 1;
  }

  /** A CURSOR message: {w, h, hotX, hotY, rgba}; 0x0 hides the pointer. */
  set(m) {
    this.shape = m;
    this.apply();
  }

  setScale(scale) {
    if (Math.abs(scale - this.scale) < 0.01) return;
    this.scale = scale;
    if (this.shape) this.apply();
  }

  apply() {
    const m = this.shape;
    if (m.w === 0 || m.h === 0) {
      this.element.style.cursor = 'none';
      return;
    }
    const src = document.createElement('canvas');
    src.width = m.w;
    src.height = m.h;
    src.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(m.rgba), m.w, m.h), 0, 0);
    const g = cursorGeometry(m.w, m.h, m.hotX, m.hotY, this.scale);
    const out = document.createElement('canvas');
    out.width = g.w;
    out.height = g.h;
    out.getContext('2d').drawImage(src, 0, 0, g.w, g.h);
    this.element.style.cursor = `url(${out.toDataURL('image/png')}) ${g.hotX} ${g.hotY}, default`;
  }
}
