// The viewer's drawing thread (a module Worker): owns the OffscreenCanvas the page's canvas handed over and runs
// display.js on it, so decoding (DecompressionStream, createImageBitmap) and drawing never block the main thread,
// which keeps the WebSocket and the input. Each frame's draws are batched onto requestAnimationFrame.
//
// From the main thread: {kind: 'init', canvas, w, h}; {kind: 'message', buffer, epoch} (one stream message, its
// ArrayBuffer transferred); {kind: 'reset', epoch} (the connection closed); {kind: 'pixels', id}.
// To the main thread: {kind: 'frameDrawn', frameId, serverTimeMicros, epoch}; {kind: 'resized', w, h};
// {kind: 'overflow', epoch}; {kind: 'pixels', id, w, h, data}; {kind: 'error', text}.
import { decode } from './protocol.js';
import { Display } from './display.js';

let display = null;
let epoch = 0;

const schedule = typeof self.requestAnimationFrame === 'function'
  ? (fn) => self.requestAnimationFrame(fn)
  : (fn) => setTimeout(fn, 0);

self.onmessage = (e) => {
  const m = e.data;
  try {
    switch (m.kind) {
      case 'init':
        display = new Display(m.canvas, {
          onFrameEnd: (f) => self.postMessage({ kind: 'frameDrawn', frameId: f.frameId, serverTimeMicros: f.serverTimeMicros, epoch }),
          onResize: (w, h) => self.postMessage({ kind: 'resized', w, h }),
          onOverflow: () => self.postMessage({ kind: 'overflow', epoch }),
        }, { schedule });
        display.resize(m.w, m.h);
        return;
      case 'message':
        if (m.epoch !== epoch) return;
        display.push(decode(m.buffer), m.buffer.byteLength);
        return;
      case 'reset':
        epoch = m.epoch;
        display.reset();
        return;
      case 'pixels': {
        const p = display.pixels();
        self.postMessage({ kind: 'pixels', id: m.id, w: p.w, h: p.h, data: p.data }, [p.data.buffer]);
        return;
      }
      default:
        self.postMessage({ kind: 'error', text: `unknown message ${m.kind}` });
    }
  } catch (err) {
    self.postMessage({ kind: 'error', text: String(err && err.message || err) });
  }
};
