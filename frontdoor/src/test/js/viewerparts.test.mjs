// The viewer's pure parts: the indicator's maths (stats.js), the clipboard's bounds (clipboard.js), the debounced
// window-size wish (resize.js) and the local cursor's geometry (cursor.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const web = (f) => path.join(here, '../../main/resources/web/js', f);
const { StreamStats, formatStats, WINDOW_MS, RTT_SAMPLES } = await import(web('stats.js'));
const { clipboardUp, MAX_CLIPBOARD_BYTES } = await import(web('clipboard.js'));
const { ResizeWish } = await import(web('resize.js'));
const { cursorGeometry, MAX_CSS_CURSOR } = await import(web('cursor.js'));

test('frames/s and kbit/s are counted over the last window only', () => {
  const s = new StreamStats(2000);
  for (let t = 0; t < 2000; t += 100) { s.received(1000, t); s.frameDrawn(t); }
  let snap = s.snapshot(1999);
  assert.equal(snap.fps, 10);
  assert.equal(snap.kbps, 80); // 20 × 1000 bytes × 8 bits over 2 s
  assert.equal(snap.rttMs, null);
  snap = s.snapshot(2950); // samples at 0..900 ms have left the window
  assert.equal(snap.fps, 5);
  assert.equal(snap.kbps, 40);
  assert.deepEqual(s.snapshot(10_000), { fps: 0, kbps: 0, rttMs: null });
  assert.equal(WINDOW_MS, 2000);
});

test('the round trip is the median of the last samples; bad samples are ignored', () => {
  const s = new StreamStats();
  s.roundTrip(30);
  s.roundTrip(-1);
  s.roundTrip(NaN);
  assert.equal(s.snapshot(0).rttMs, 30);
  for (const ms of [10, 500, 20, 12]) s.roundTrip(ms);
  assert.equal(s.snapshot(0).rttMs, 20); // of 30 10 500 20 12
  for (let i = 0; i < RTT_SAMPLES; i++) s.roundTrip(7);
  assert.equal(s.snapshot(0).rttMs, 7, 'only the last samples count');
});

test('the indicator line says round trip, frames/s and rate', () => {
  assert.equal(formatStats({ fps: 24, kbps: 812.4, rttMs: 18.6 }), 'rtt 19 ms · 24 fps · 812 kbit/s');
  assert.equal(formatStats({ fps: 2.5, kbps: 12_345, rttMs: null }), 'rtt – · 2.5 fps · 12.3 Mbit/s');
});

test('clipboard text goes up only when new, not empty and within the bound', () => {
  assert.deepEqual(clipboardUp('hello', ''), { send: true });
  assert.equal(clipboardUp('hello', 'hello').send, false);
  assert.equal(clipboardUp('', 'x').send, false);
  assert.equal(clipboardUp(undefined, '').send, false);
  assert.equal(MAX_CLIPBOARD_BYTES, 1024 * 1024);
  assert.deepEqual(clipboardUp('a'.repeat(MAX_CLIPBOARD_BYTES), ''), { send: true });
  assert.equal(clipboardUp('a'.repeat(MAX_CLIPBOARD_BYTES + 1), '').send, false);
  const euro = clipboardUp('€'.repeat(5), '', 14); // 15 bytes of UTF-8 in 5 code units
  assert.equal(euro.send, false);
  assert.match(euro.why, /15 bytes of UTF-8 exceed 14/);
  assert.deepEqual(clipboardUp('€'.repeat(4), '', 14), { send: true });
});

test('a window size is asked for once it rests, once per size, and again after a reconnect', () => {
  const r = new ResizeWish(400);
  r.changed(1000.7, 700.2, 0);
  r.changed(1200, 800, 300); // still moving
  assert.equal(r.due(600), null, 'not rested for 400 ms yet');
  assert.equal(r.dueAt(), 700);
  assert.deepEqual(r.due(700), { w: 1200, h: 800 });
  assert.equal(r.due(800), null);
  r.changed(1200, 800, 900);
  assert.equal(r.due(1400), null, 'the size asked for already');
  r.reset();
  r.changed(1200, 800, 1500);
  assert.deepEqual(r.due(1900), { w: 1200, h: 800 });
  r.changed(0, 500, 2000);
  r.changed(99999, 500.9, 2000);
  assert.deepEqual(r.due(2400), { w: 65535, h: 500 }, 'clamped to u16; an empty area is no wish');
});

test('the local cursor scales with the canvas within what a CSS cursor may be', () => {
  assert.deepEqual(cursorGeometry(16, 16, 3, 4, 1), { w: 16, h: 16, hotX: 3, hotY: 4 });
  assert.deepEqual(cursorGeometry(16, 16, 3, 4, 0.5), { w: 8, h: 8, hotX: 1, hotY: 2 });
  assert.deepEqual(cursorGeometry(64, 32, 63, 31, 4), { w: MAX_CSS_CURSOR, h: 64, hotX: 126, hotY: 62 });
  assert.deepEqual(cursorGeometry(2, 2, 1, 1, 0.01), { w: 1, h: 1, hotX: 0, hotY: 0 });
  assert.deepEqual(cursorGeometry(10, 10, 9, 9, NaN), { w: 10, h: 10, hotX: 9, hotY: 9 });
});
