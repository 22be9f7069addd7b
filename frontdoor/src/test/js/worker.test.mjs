// Checks web/js/display-worker.js's message protocol with a fake worker scope and canvas: a stream message's
// buffer is decoded and drawn, the frame is drawn on the scope's requestAnimationFrame and only then reported as
// drawn, tagged with the connection's epoch; after a reset, messages of the old epoch are dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const { encode, TileFormat } = await import(path.join(here, '../../main/resources/web/js/protocol.js'));

const posted = [];
const frames = [];
const calls = [];
globalThis.self = {
  postMessage: (m) => posted.push(m),
  requestAnimationFrame: (fn) => frames.push(fn),
};
await import(path.join(here, '../../main/resources/web/js/display-worker.js'));

const canvas = {
  width: 1, height: 1,
  getContext: () => ({
    fillStyle: '',
    fillRect: (...a) => calls.push(['fillRect', ...a]),
    drawImage: (_s, ...a) => calls.push(['drawImage', ...a]),
    putImageData: (_i, ...a) => calls.push(['putImageData', ...a]),
    getImageData: (x, y, w, h) => ({ data: new Uint8ClampedArray(w * h * 4) }),
  }),
};
const buffer = (m) => { const b = encode(m); return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength); };
const send = (m, epoch) => self.onmessage({ data: { kind: 'message', buffer: buffer(m), epoch } });
const settle = () => new Promise((r) => setTimeout(r, 0));
const runFrames = () => { for (const fn of frames.splice(0)) fn(); };
const fill = (x, y) => ({ type: 'tile', x, y, w: 2, h: 2, format: TileFormat.FILL, data: Uint8Array.of(9, 8, 7) });

test('a frame is drawn on requestAnimationFrame and then reported, with its epoch', async () => {
  self.onmessage({ data: { kind: 'init', canvas, w: 64, h: 48 } });
  send({ type: 'resize', w: 100, h: 80 }, 0);
  send(fill(90, 70), 0);
  send({ type: 'frameEnd', frameId: 3, serverTimeMicros: 44n }, 0);
  await settle();
  assert.deepEqual(calls, [], 'nothing drawn before the animation frame');
  assert.equal(posted.filter((m) => m.kind === 'frameDrawn').length, 0);
  runFrames();
  await settle();
  assert.deepEqual([canvas.width, canvas.height], [100, 80]);
  assert.deepEqual(calls.at(-1), ['fillRect', 90, 70, 2, 2]);
  assert.deepEqual(posted.filter((m) => m.kind !== 'resized'), [{ kind: 'frameDrawn', frameId: 3, serverTimeMicros: 44n, epoch: 0 }]);
  assert.deepEqual(posted.filter((m) => m.kind === 'resized').at(-1), { kind: 'resized', w: 100, h: 80 });
});

test('after a reset, messages of the old epoch are dropped and the new epoch is reported', async () => {
  posted.length = 0;
  calls.length = 0;
  self.onmessage({ data: { kind: 'reset', epoch: 1 } });
  send(fill(0, 0), 0);
  send({ type: 'frameEnd', frameId: 4, serverTimeMicros: 1n }, 0);
  send(fill(4, 4), 1);
  send({ type: 'frameEnd', frameId: 5, serverTimeMicros: 2n }, 1);
  await settle();
  runFrames();
  await settle();
  assert.deepEqual(calls, [['fillRect', 4, 4, 2, 2]]);
  assert.deepEqual(posted, [{ kind: 'frameDrawn', frameId: 5, serverTimeMicros: 2n, epoch: 1 }]);
});

test('a readback answers with the canvas pixels; a bad message is reported, not thrown', async () => {
  posted.length = 0;
  self.onmessage({ data: { kind: 'pixels', id: 7 } });
  assert.equal(posted[0].kind, 'pixels');
  assert.deepEqual([posted[0].id, posted[0].w, posted[0].h, posted[0].data.length], [7, 100, 80, 100 * 80 * 4]);
  self.onmessage({ data: { kind: 'message', buffer: new ArrayBuffer(0), epoch: 1 } });
  assert.equal(posted[1].kind, 'error');
  assert.match(posted[1].text, /empty stream message/);
});
