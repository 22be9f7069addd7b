// Decodes the ZSTREAM tile golden vectors (stream/src/test/vectors/zstream-tiles.txt, written by the Java encoder's
// ZstreamVectorsTest and decoded by the Java ZstreamTileTest too) through web/js/zstream.js and display.js: the good
// ones, in order as one session, draw exactly their pixels; every malformed one is refused with one clear console line
// and asks for the whole picture again; a lost lane is quiet until a RESET tile resynchronises it; mutated tiles are
// refused, never with anything but a ZSTREAM message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { deflateRawSync, constants } from 'node:zlib';
import path from 'node:path';
import { fakeCanvas, warnings, loadVectors, installImageData, rgba } from './fakes.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { Display } = await import(path.join(here, '../../main/resources/web/js/display.js'));
const { ZstreamLanes, inflateChunk } = await import(path.join(here, '../../main/resources/web/js/zstream.js'));
const { decode, TileFormat } = await import(path.join(here, '../../main/resources/web/js/protocol.js'));

installImageData();

const vectors = loadVectors('zstream-tiles.txt', decode);
const good = vectors.filter((v) => v.good);
const bad = vectors.filter((v) => !v.good);


test('the vectors are one session of two lanes and every refusal', () => {
  assert.ok(good.length >= 8 && bad.length >= 10);
  assert.ok(vectors.every((v) => v.tile.format === TileFormat.ZSTREAM));
  assert.deepEqual([...new Set(good.map((v) => v.tile.data[0] & 0x0f))].sort(), [0, 1]);
});

test('the good vectors, in order, decode to exactly their pixels with one set of lanes', () => {
  const lanes = new ZstreamLanes();
  for (const v of good) assert.deepEqual(lanes.decode(v.tile, v.desktopW, v.desktopH), rgba(v.rest), v.name);
});

test('the good vectors draw their pixels through the display, pixel-exact, with no line', async () => {
  const canvas = fakeCanvas(64, 64);
  const d = new Display(canvas, { onOverflow: () => assert.fail('no refresh asked') });
  const lines = await warnings(async () => { for (const v of good) await d.push(v.tile); });
  assert.deepEqual(lines, []);
  assert.equal(canvas.calls.length, good.length);
  good.forEach((v, i) => {
    const [what, image, x, y] = canvas.calls[i];
    assert.deepEqual([what, x, y, image.width, image.height], ['putImageData', v.tile.x, v.tile.y, v.tile.w, v.tile.h]);
    assert.deepEqual(image.data, rgba(v.rest), v.name);
  });
});

for (const v of bad) {
  test(`bad vector ${v.name} is refused with one line naming it, asks for a refresh, and the next tile still draws`, async () => {
    const canvas = fakeCanvas(v.desktopW, v.desktopH);
    let refreshes = 0;
    const d = new Display(canvas, { onOverflow: () => { refreshes++; } });
    const lines = await warnings(async () => {
      d.push(v.tile);
      await d.push({ type: 'tile', x: 0, y: 0, w: 1, h: 1, format: TileFormat.FILL, data: Uint8Array.of(1, 2, 3) });
    });
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], /ZSTREAM tile|outside/);
    assert.ok(lines[0].includes(v.rest), `${lines[0]} names "${v.rest}"`);
    assert.equal(refreshes, 1);
    assert.deepEqual(canvas.calls.map((c) => c[0]), ['fillRect'], 'nothing of the bad tile is drawn');
  });
}

test('a lost lane drops its tiles quietly (one line, one refresh) until a RESET tile resynchronises it', async () => {
  const canvas = fakeCanvas(64, 64);
  let refreshes = 0;
  const d = new Display(canvas, { onOverflow: () => { refreshes++; } });
  const continuation = good.find((v) => v.name === 'lane0-the-same-again');
  const again = good.find((v) => v.name === 'lane0-reset-again');
  const after = good.find((v) => v.name === 'lane0-after-the-reset');
  const lines = await warnings(async () => {
    d.push(continuation.tile); // a viewer that joined late, or missed the lane's first tile
    d.push(continuation.tile);
    d.push(again.tile);
    await d.push(after.tile);
  });
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0], /without RESET/);
  assert.equal(refreshes, 1);
  assert.deepEqual(canvas.calls.map((c) => [c[0], c[1].data.length]), [['putImageData', 10 * 3 * 4], ['putImageData', 24 * 13 * 4]]);
  assert.deepEqual(canvas.calls[1][1].data, rgba(after.rest));
});

test('a closed connection (reset) forgets the lanes', async () => {
  const d = new Display(fakeCanvas(64, 64), { onOverflow: () => {} });
  await d.push(good[0].tile);
  d.reset();
  const lines = await warnings(() => d.push(good[1].tile));
  assert.match(lines[0], /without RESET/);
});

test('inflateChunk keeps the window across chunks and follows zlib for every block type', () => {
  const payloads = [new Uint8Array(5000).map((_, i) => (i * 7) & 0xff), new Uint8Array(70000).map((_, i) => (i % 13) * 3), Uint8Array.of(1, 2, 3)];
  for (const level of [0, 1, 6, 9]) {
    // One raw deflate stream, sync-flushed after each payload, as a lane's tiles are.
    const chunks = [];
    let history = new Uint8Array(0);
    const joined = new Uint8Array(payloads.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of payloads) { joined.set(p, at); at += p.length; }
    const whole = deflateRawSync(joined, { level, finishFlush: constants.Z_SYNC_FLUSH });
    // zlib puts the sync flushes only at the end here, so cut the payloads with separate calls sharing no window instead:
    for (const p of payloads) chunks.push(deflateRawSync(p, { level, finishFlush: constants.Z_SYNC_FLUSH }));
    for (let i = 0; i < payloads.length; i++) {
      const r = inflateChunk(chunks[i], history, payloads[i].length);
      assert.deepEqual(r.out, payloads[i]);
      history = r.history;
      assert.ok(history.length <= 32768);
    }
    assert.deepEqual(inflateChunk(whole, new Uint8Array(0), joined.length).out, joined);
  }
});

test('mutated ZSTREAM tiles decode to their rectangle or are refused with a ZSTREAM message, nothing else', () => {
  let seed = 0x25717;
  const random = (n) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  let decoded = 0, refused = 0;
  for (let i = 0; i < 3000; i++) {
    const k = random(good.length);
    const lanes = new ZstreamLanes();
    for (let j = 0; j < k; j++) lanes.decode(good[j].tile, 64, 64);
    const v = good[k];
    const data = Uint8Array.from(v.tile.data);
    let bytes = data;
    switch (random(3)) {
      case 0: for (let q = 0, n = 1 + random(4); q < n; q++) data[random(data.length)] = random(256); break;
      case 1: bytes = data.subarray(0, random(data.length)); break;
      default: {
        bytes = new Uint8Array(data.length + 1 + random(8));
        bytes.set(data);
        for (let q = data.length; q < bytes.length; q++) bytes[q] = random(256);
      }
    }
    try {
      const out = lanes.decode({ ...v.tile, data: bytes }, 64, 64);
      if (out) { assert.equal(out.length, v.tile.w * v.tile.h * 4); decoded++; }
    } catch (e) {
      assert.match(e.message, /^ZSTREAM tile/, e.stack);
      refused++;
    }
  }
  assert.ok(decoded > 0 && refused > 0, `${decoded} decoded, ${refused} refused`);
});
