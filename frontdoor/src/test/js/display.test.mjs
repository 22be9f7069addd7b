// Checks web/js/display.js's generations and queue cap with a fake canvas: work queued before reset()
// or an overflow never draws and never acknowledges a frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const { Display } = await import(path.join(here, '../../main/resources/web/js/display.js'));
const { TileFormat } = await import(path.join(here, '../../main/resources/web/js/protocol.js'));

/** A canvas whose 2D context records the calls that draw. */
function fakeCanvas(width = 64, height = 48) {
  const calls = [];
  const ctx = {
    fillStyle: '',
    fillRect: (...a) => calls.push(['fillRect', ...a]),
    drawImage: (_src, ...a) => calls.push(['drawImage', ...a]),
    putImageData: (_img, ...a) => calls.push(['putImageData', ...a]),
  };
  return { width, height, style: {}, calls, getContext: () => ctx };
}

/** createImageBitmap that resolves only when the test says so. */
function heldBitmaps() {
  const pending = [];
  globalThis.createImageBitmap = () => new Promise((resolve) => {
    pending.push(() => {
      const bitmap = { closed: false, close() { this.closed = true; } };
      resolve(bitmap);
      return bitmap;
    });
  });
  return pending;
}

const png = (x, y) => ({ type: 'tile', x, y, w: 2, h: 2, format: TileFormat.PNG, data: new Uint8Array(100) });
const fill = (x, y) => ({ type: 'tile', x, y, w: 1, h: 1, format: TileFormat.FILL, data: Uint8Array.of(1, 2, 3) });
const frameEnd = (frameId) => ({ type: 'frameEnd', frameId, serverTimeMicros: 7n });
const settle = () => new Promise((r) => setTimeout(r, 0));

test('messages of one generation draw in order and FRAME_END fires after its tiles', async () => {
  const canvas = fakeCanvas();
  const acks = [];
  const d = new Display(canvas, { onFrameEnd: (m) => acks.push([m.frameId, canvas.calls.length]) });
  const release = heldBitmaps();
  d.push(fill(0, 0));
  d.push(png(1, 1));
  const done = d.push(frameEnd(5));
  await settle();
  assert.deepEqual(acks, [], 'FRAME_END waits for the decoding tile');
  release[0]();
  await done;
  assert.deepEqual(canvas.calls.map((c) => c[0]), ['fillRect', 'drawImage']);
  assert.deepEqual(acks, [[5, 2]]);
  assert.deepEqual([d.queuedBytes, d.queuedMessages], [0, 0]);
});

test('reset() cancels a tile mid-decode and the queued FRAME_END of the old generation', async () => {
  const canvas = fakeCanvas();
  const acks = [];
  const d = new Display(canvas, { onFrameEnd: (m) => acks.push(m.frameId) });
  const release = heldBitmaps();
  d.push(png(0, 0));
  const old = d.push(frameEnd(1));
  await settle();
  d.reset();
  const fresh = d.push(fill(3, 3));
  const freshEnd = d.push(frameEnd(2));
  await fresh;
  const bitmap = release[0]();
  await old;
  await freshEnd;
  assert.deepEqual(canvas.calls.map((c) => c[0]), ['fillRect'], 'the old tile is not drawn');
  assert.equal(bitmap.closed, true, 'the old bitmap is still closed');
  assert.deepEqual(acks, [2], 'only the new generation acknowledges a frame');
});

test('a queue over its byte cap is dropped with a single overflow, then drawing resumes', async () => {
  const canvas = fakeCanvas();
  const acks = [];
  let overflows = 0;
  const d = new Display(canvas, { onFrameEnd: (m) => acks.push(m.frameId), onOverflow: () => overflows++ },
    { maxQueuedBytes: 1000, maxQueuedMessages: 1000 });
  const release = heldBitmaps();
  d.push(png(0, 0), 400);
  await settle(); // the tile now decodes and holds the chain
  d.push(fill(1, 1), 400);
  d.push(frameEnd(1), 100);
  assert.equal(overflows, 0);
  d.push(fill(2, 2), 400); // 1300 bytes: over the cap
  assert.equal(overflows, 1);
  assert.deepEqual([d.queuedBytes, d.queuedMessages], [0, 0]);
  d.push(fill(4, 4), 400);
  const end = d.push(frameEnd(2), 100);
  assert.equal(overflows, 1, 'messages under the cap do not ask again');
  release[0]();
  await end;
  await settle();
  assert.deepEqual(canvas.calls, [['fillRect', 4, 4, 1, 1]]);
  assert.deepEqual(acks, [2]);
  assert.deepEqual([d.queuedBytes, d.queuedMessages], [0, 0]);
});

test('a queue over its message cap is dropped too', () => {
  const canvas = fakeCanvas();
  let overflows = 0;
  const d = new Display(canvas, { onOverflow: () => overflows++ }, { maxQueuedBytes: 1 << 30, maxQueuedMessages: 3 });
  heldBitmaps();
  d.push(png(0, 0));
  d.push(fill(0, 0));
  d.push(fill(0, 0));
  assert.equal(overflows, 0);
  d.push(fill(0, 0));
  assert.equal(overflows, 1);
  assert.equal(d.queuedMessages, 0);
});

test('queued bytes default to the size of the pixel data', () => {
  const d = new Display(fakeCanvas(), {});
  heldBitmaps();
  d.push(png(0, 0));
  d.push(frameEnd(1));
  assert.equal(d.queuedBytes, 116 + 16);
  assert.equal(d.queuedMessages, 2);
});

test('a COPY_RECT is applied in order with the tiles around it, also while an earlier tile still decodes', async () => {
  const canvas = fakeCanvas();
  const d = new Display(canvas, {});
  const release = heldBitmaps();
  d.push(png(0, 0));
  d.push({ type: 'copyRect', srcX: 0, srcY: 0, w: 2, h: 2, dstX: 4, dstY: 4 });
  const done = d.push(fill(8, 8));
  await settle();
  assert.deepEqual(canvas.calls, [], 'the copy waits for the tile before it');
  release[0]();
  await done;
  assert.deepEqual(canvas.calls, [['drawImage', 0, 0, 2, 2], ['drawImage', 0, 0, 2, 2, 4, 4, 2, 2], ['fillRect', 8, 8, 1, 1]]);
});

/** A schedule (requestAnimationFrame) that runs its callbacks only when the test says so. */
function heldFrames() {
  const callbacks = [];
  return { schedule: (fn) => callbacks.push(fn), callbacks, run: () => { const c = callbacks.splice(0); for (const fn of c) fn(); } };
}

test('with a schedule, a frame is drawn in one callback after its FRAME_END and acknowledged after it', async () => {
  const canvas = fakeCanvas();
  const acks = [];
  const frames = heldFrames();
  const d = new Display(canvas, { onFrameEnd: (m) => acks.push(m.frameId) }, { schedule: frames.schedule });
  d.push(fill(0, 0));
  d.push({ type: 'copyRect', srcX: 0, srcY: 0, w: 1, h: 1, dstX: 2, dstY: 2 });
  await d.push(fill(1, 1));
  assert.deepEqual(canvas.calls, [], 'nothing is drawn before the frame ends');
  assert.equal(frames.callbacks.length, 0);
  const done = d.push(frameEnd(9));
  await settle();
  assert.equal(frames.callbacks.length, 1, 'one callback for the whole frame');
  assert.deepEqual(acks, [], 'no acknowledgement before the frame is on the canvas');
  frames.run();
  await done;
  assert.deepEqual(canvas.calls.map((c) => c[0]), ['fillRect', 'drawImage', 'fillRect']);
  assert.deepEqual(acks, [9]);
});

test('with a schedule, a RESIZE takes effect for the checks at once and on the canvas with its frame', async () => {
  const canvas = fakeCanvas(64, 48);
  const resized = [];
  const frames = heldFrames();
  const d = new Display(canvas, { onResize: (w, h) => resized.push([w, h]) }, { schedule: frames.schedule });
  d.push({ type: 'resize', w: 200, h: 100 });
  await d.push(fill(150, 90)); // outside the old size, inside the new one
  assert.deepEqual([d.width, d.height, canvas.width], [200, 100, 64]);
  const done = d.push(frameEnd(1));
  await settle();
  frames.run();
  await done;
  assert.deepEqual([canvas.width, canvas.height], [200, 100]);
  assert.deepEqual(resized, [[200, 100]]);
  assert.deepEqual(canvas.calls, [['fillRect', 0, 0, 200, 100], ['fillRect', 150, 90, 1, 1]]);
});

test('with a schedule, reset() drops the batch of the frame being received and a callback already asked for', async () => {
  const canvas = fakeCanvas();
  const acks = [];
  const frames = heldFrames();
  const d = new Display(canvas, { onFrameEnd: (m) => acks.push(m.frameId) }, { schedule: frames.schedule });
  await d.push(fill(0, 0));
  const old = d.push(frameEnd(1));
  await settle();
  d.reset();
  frames.run();
  await old;
  await d.push(fill(5, 5));
  d.reset();
  const end = d.push(frameEnd(2));
  await end;
  assert.deepEqual(canvas.calls, [], 'neither batch is drawn');
  assert.deepEqual(acks, [2], 'a frame with nothing to draw is acknowledged without waiting for a callback');
});

test('tiles decode side by side, up to the limit, and still draw in their order', async () => {
  const { MAX_DECODING_AHEAD } = await import(path.join(here, '../../main/resources/web/js/display.js'));
  const canvas = fakeCanvas(4096, 48);
  const d = new Display(canvas, {});
  const release = heldBitmaps();
  for (let i = 0; i < MAX_DECODING_AHEAD + 3; i++) d.push(png(i * 2, 0));
  const done = d.push(fill(0, 40));
  await settle();
  assert.equal(release.length, MAX_DECODING_AHEAD, 'the first tiles all decode at once; the rest wait their turn');
  for (let i = MAX_DECODING_AHEAD - 1; i >= 0; i--) release[i](); // finish in reverse order
  for (let i = MAX_DECODING_AHEAD; i < MAX_DECODING_AHEAD + 3; i++) {
    for (let spins = 0; release.length <= i && spins < 1000; spins++) await settle();
    assert.equal(release.length, i + 1, 'a tile past the limit decodes in its turn, one at a time');
    release[i]();
  }
  await done;
  const xs = canvas.calls.filter((c) => c[0] === 'drawImage').map((c) => c[1]);
  assert.deepEqual(xs, Array.from({ length: MAX_DECODING_AHEAD + 3 }, (_, i) => i * 2), 'drawn in the order they came');
  assert.equal(d.decodingAhead, 0);
});

test('a tile decoded ahead is checked against the size a queued RESIZE leaves, before anything is decoded', async () => {
  const canvas = fakeCanvas(64, 48);
  const d = new Display(canvas, {});
  const release = heldBitmaps();
  const warned = [];
  const warn = console.warn;
  console.warn = (...a) => warned.push(a.join(' '));
  try {
    d.push(png(0, 0)); // holds the chain while the rest is pushed
    d.push({ type: 'resize', w: 200, h: 100 });
    d.push(png(150, 90)); // inside the new size only
    d.push({ type: 'resize', w: 20, h: 20 });
    const done = d.push(png(30, 30)); // outside the size it will meet
    await settle();
    assert.equal(release.length, 2, 'the outside tile is never decoded');
    release[0]();
    release[1]();
    await done;
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(canvas.calls.filter((c) => c[0] === 'drawImage').map((c) => c[1]), [0, 150]);
  assert.equal(warned.length, 1);
  assert.match(warned[0], /tile 2x2 at 30,30 is outside 20x20/);
});
