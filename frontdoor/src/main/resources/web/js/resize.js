// The browser window's size as the desktop's wish (RESIZE_REQUEST, docs/protocol.md §1.2): debounced, so a window
// dragged across the screen asks once, after it rests. Pure: time comes in as milliseconds.

export const RESIZE_DEBOUNCE_MS = 400;

export class ResizeWish {
  constructor(debounceMs = RESIZE_DEBOUNCE_MS) {
    this.debounceMs = debounceMs;
    this.pending = null; // {w, h, atMs}
    this.sent = null; // {w, h}
  }

  /** The viewer area is now w x h CSS pixels (fractions dropped, clamped to the protocol's u16). */
  changed(w, h, nowMs) {
    const size = { w: clampU16(w), h: clampU16(h) };
    if (size.w === 0 || size.h === 0) return;
    this.pending = { ...size, atMs: nowMs };
  }

  /** When the next due() can return a size, or null when nothing waits. */
  dueAt() {
    return this.pending ? this.pending.atMs + this.debounceMs : null;
  }

  /** The size to request now, or null: none waiting, not rested long enough, or the size requested last. */
  due(nowMs) {
    const p = this.pending;
    if (!p || nowMs < p.atMs + this.debounceMs) return null;
    this.pending = null;
    if (this.sent && this.sent.w === p.w && this.sent.h === p.h) return null;
    this.sent = { w: p.w, h: p.h };
    return this.sent;
  }

  /** A new connection: the engine has not heard any wish yet. */
  reset() {
    this.sent = null;
  }
}

function clampU16(v) {
  return Math.min(0xffff, Math.max(0, Math.floor(v)));
}
