// Where the viewer's picture is decoded and drawn: in a Worker on an OffscreenCanvas (WorkerSurface), or, in a
// browser without Worker or OffscreenCanvas, on the main thread (MainSurface, which says so once in the console).
// Both run display.js and batch each frame's draws onto requestAnimationFrame; the owner gets the same hooks:
// onFrameDrawn(frameEnd) after a frame is on the canvas (the owner sends FRAME_ACK, so flow control still measures
// the drawing), onResize(w, h), onOverflow().
import { Display } from './display.js';

let fallbackSaid = false;

/** Whether this browser can draw in a Worker: module Workers, OffscreenCanvas and a canvas that hands over. */
export function workerDrawingAvailable(canvas) {
  return typeof Worker === 'function' && typeof OffscreenCanvas === 'function'
    && typeof canvas.transferControlToOffscreen === 'function';
}

/**
 * The surface for {@code canvas}: a WorkerSurface when the browser has what it needs and {@code prefer} is not
 * 'main' (the page's ?draw=main), else a MainSurface.
 */
export function createSurface(canvas, hooks, w, h, prefer = 'worker') {
  if (prefer !== 'main' && workerDrawingAvailable(canvas)) return new WorkerSurface(canvas, hooks, w, h);
  if (prefer !== 'main' && !fallbackSaid) {
    fallbackSaid = true;
    console.info('deskgate: this browser has no Worker/OffscreenCanvas; decoding and drawing on the main thread');
  }
  return new MainSurface(canvas, hooks, w, h);
}

export class WorkerSurface {
  constructor(canvas, hooks, w, h) {
    this.kind = 'worker';
    this.hooks = hooks;
    this.w = w;
    this.h = h;
    this.epoch = 0;
    this.readbacks = new Map();
    this.nextReadback = 0;
    const offscreen = canvas.transferControlToOffscreen();
    this.worker = new Worker(new URL('./display-worker.js', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e) => this.fromWorker(e.data);
    this.worker.onerror = (e) => console.warn('deskgate: the drawing worker failed:', e.message);
    this.worker.postMessage({ kind: 'init', canvas: offscreen, w, h }, [offscreen]);
  }

  fromWorker(m) {
    switch (m.kind) {
      case 'frameDrawn': if (m.epoch === this.epoch) this.hooks.onFrameDrawn?.(m); return;
      case 'resized': this.w = m.w; this.h = m.h; this.hooks.onResize?.(m.w, m.h); return;
      case 'overflow': if (m.epoch === this.epoch) this.hooks.onOverflow?.(); return;
      case 'pixels': {
        const resolve = this.readbacks.get(m.id);
        this.readbacks.delete(m.id);
        resolve?.({ w: m.w, h: m.h, data: m.data });
        return;
      }
      case 'error': console.warn('deskgate: cannot draw:', m.text); return;
      default: console.warn('deskgate: unknown message from the drawing worker', m.kind);
    }
  }

  /** One decoded down message and the ArrayBuffer it came in, which is handed to the worker (not copied). */
  push(msg, buffer) {
    this.worker.postMessage({ kind: 'message', buffer, epoch: this.epoch }, [buffer]);
  }

  reset() {
    this.epoch += 1;
    this.worker.postMessage({ kind: 'reset', epoch: this.epoch });
  }

  /** The canvas's pixels, {w, h, data} RGBA, read in the worker. */
  pixels() {
    const id = this.nextReadback++;
    return new Promise((resolve) => {
      this.readbacks.set(id, resolve);
      this.worker.postMessage({ kind: 'pixels', id });
    });
  }

  close() {
    this.worker.terminate();
  }
}

export class MainSurface {
  constructor(canvas, hooks, w, h) {
    this.kind = 'main';
    this.display = new Display(canvas, {
      onFrameEnd: (m) => hooks.onFrameDrawn?.(m),
      onResize: (rw, rh) => hooks.onResize?.(rw, rh),
      onOverflow: () => hooks.onOverflow?.(),
    }, { schedule: (fn) => requestAnimationFrame(fn) });
    this.display.resize(w, h);
  }

  get w() { return this.display.width; }
  get h() { return this.display.height; }

  push(msg, buffer) {
    this.display.push(msg, buffer.byteLength);
  }

  reset() {
    this.display.reset();
  }

  pixels() {
    return Promise.resolve(this.display.pixels());
  }

  close() {
    this.display.reset();
  }
}
