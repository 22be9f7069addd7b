// Decodes the GLYPHS tile golden vectors (stream/src/test/vectors/glyph-tiles.txt, written by the Java encoder's
// GlyphVectorsTest and decoded by the Java GlyphTileTest too) through web/js/zstream.js and display.js: the good ones,
// in order as one session of lane 0 (a ZSTREAM tile of the lane between), draw exactly their pixels; every malformed one
// is refused with one clear console line and asks for the whole picture again; a RESET empties the lane's glyph cache;
// mutated tiles are refused, never with anything but a GLYPHS or ZSTREAM message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { fakeCanvas, warnings, loadVectors, installImageData, rgba } from './fakes.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { Display } = await import(path.join(here, '../../main/resources/web/js/display.js'));
const { ZstreamLanes } = await import(path.join(here, '../../main/resources/web/js/zstream.js'));
const { decode, TileFormat } = await import(path.join(here, '../../main/resources/web/js/protocol.js'));

installImageData();

const vectors = loadVectors('glyph-tiles.txt', decode);
const good = vectors.filter((v) => v.good);
const bad = vectors.filter((v) => !v.good);


test('the vectors are one session of lane 0 with a ZSTREAM tile between, and every refusal', () => {
  assert.ok(good.length >= 8 && bad.length >= 14);
  assert.ok(good.filter((v) => v.tile.format === TileFormat.GLYPHS).length >= 7);
  assert.ok(good.some((v) => v.tile.format === TileFormat.ZSTREAM));
  assert.ok(bad.every((v) => v.tile.format === TileFormat.GLYPHS));
});

test('the good vectors, in order, decode to exactly their pixels with one set of lanes', () => {
  const lanes = new ZstreamLanes();
  for (const v of good) assert.deepEqual(lanes.decode(v.tile, v.desktopW, v.desktopH), rgba(v.rest), v.name);
});

test('the good vectors draw their pixels through the display, pixel-exact, with no line', async () => {
  const canvas = fakeCanvas(128, 64);
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
    assert.match(lines[0], /GLYPHS tile|outside/);
    assert.ok(lines[0].includes(v.rest), `${lines[0]} names "${v.rest}"`);
    assert.equal(refreshes, 1);
    assert.deepEqual(canvas.calls.map((c) => c[0]), ['fillRect'], 'nothing of the bad tile is drawn');
  });
}

test('a RESET starts the lane and its glyph cache anew: the tile sent after it decodes again, a later one does not', () => {
  const lanes = new ZstreamLanes();
  for (const v of good) lanes.decode(v.tile, v.desktopW, v.desktopH);
  const wide = good.find((v) => v.name === 'wide-cells-two-bytes-a-row');
  assert.deepEqual(lanes.decode(good[0].tile, 64, 64), rgba(good[0].rest)); // RESET: three glyphs
  assert.deepEqual(lanes.decode(good[1].tile, 64, 64), rgba(good[1].rest)); // names those three
  assert.throws(() => lanes.decode(wide.tile, 64, 64), /^Error: GLYPHS tile/); // its stream and glyphs are gone
});

test('mutated GLYPHS tiles decode to their rectangle or are refused with a GLYPHS or ZSTREAM message, nothing else', () => {
  let seed = 0x61f9b;
  const random = (n) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  let decoded = 0, refused = 0;
  for (let i = 0; i < 3000; i++) {
    const k = random(good.length);
    const lanes = new ZstreamLanes();
    for (let j = 0; j < k; j++) lanes.decode(good[j].tile, good[j].desktopW, good[j].desktopH);
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
      const out = lanes.decode({ ...v.tile, data: bytes }, v.desktopW, v.desktopH);
      if (out) { assert.equal(out.length, v.tile.w * v.tile.h * 4); decoded++; }
    } catch (e) {
      assert.match(e.message, /^(GLYPHS|ZSTREAM) tile/, e.stack);
      refused++;
    }
  }
  assert.ok(decoded > 0 && refused > 0, `${decoded} decoded, ${refused} refused`);
});
