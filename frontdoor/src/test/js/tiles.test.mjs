// Decodes the PALETTE tile golden vectors (stream/src/test/vectors/palette-tiles.txt, written by the Java
// encoder's PaletteVectorsTest and decoded by the Java PaletteTileTest too) through web/js/display.js: the good
// ones draw exactly their pixels, every malformed one is refused with one clear console line, and the stream
// keeps drawing after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { fakeCanvas, warnings, loadVectors, installImageData, hex } from './fakes.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { Display, decodePalette } = await import(path.join(here, '../../main/resources/web/js/display.js'));
const { decode, TileFormat } = await import(path.join(here, '../../main/resources/web/js/protocol.js'));

installImageData();

const vectors = loadVectors('palette-tiles.txt', decode);

test('the vectors cover every index width and every refusal', () => {
  assert.deepEqual(vectors.filter((v) => v.good).map((v) => v.name),
    ['two-colours-1bit', 'four-colours-2bit', 'sixteen-colours-4bit', 'forty-colours-8bit']);
  assert.ok(vectors.filter((v) => !v.good).length >= 9);
  assert.ok(vectors.every((v) => v.tile.format === TileFormat.PALETTE));
});

for (const v of vectors.filter((x) => x.good)) {
  test(`good vector ${v.name} draws exactly its pixels`, async () => {
    const canvas = fakeCanvas(v.desktopW, v.desktopH);
    const d = new Display(canvas, {});
    const lines = await warnings(() => d.push(v.tile));
    assert.deepEqual(lines, []);
    assert.equal(canvas.calls.length, 1);
    const [what, image, x, y] = canvas.calls[0];
    assert.deepEqual([what, x, y, image.width, image.height], ['putImageData', v.tile.x, v.tile.y, v.tile.w, v.tile.h]);
    const rgb = hex(v.rest);
    const want = new Uint8ClampedArray((rgb.length / 3) * 4);
    for (let i = 0; i < rgb.length / 3; i++) want.set([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255], 4 * i);
    assert.deepEqual(image.data, want);
  });
}

for (const v of vectors.filter((x) => !x.good)) {
  test(`bad vector ${v.name} is refused with one line and the next tile still draws`, async () => {
    const canvas = fakeCanvas(v.desktopW, v.desktopH);
    const d = new Display(canvas, {});
    const lines = await warnings(async () => {
      d.push(v.tile);
      await d.push({ type: 'tile', x: 0, y: 0, w: 1, h: 1, format: TileFormat.FILL, data: Uint8Array.of(1, 2, 3) });
    });
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], /PALETTE tile|outside/);
    assert.ok(lines[0].includes(v.rest), `${lines[0]} names "${v.rest}"`);
    assert.deepEqual(canvas.calls.map((c) => c[0]), ['fillRect'], 'nothing of the bad tile is drawn');
  });
}

test('decodePalette refuses the malformed vectors itself (outside the desktop aside, which display.js checks first)', async () => {
  for (const v of vectors.filter((x) => !x.good && x.rest !== 'outside')) {
    await assert.rejects(decodePalette(v.tile), (e) => e.message.includes(v.rest), v.name);
  }
});

test('mutated PALETTE tiles either decode to the rectangle or are refused with a PALETTE message, nothing else', async () => {
  let seed = 0x5eed;
  const random = (n) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const seeds = vectors.filter((v) => v.good);
  let decoded = 0, refused = 0;
  for (let i = 0; i < 3000; i++) {
    const v = seeds[random(seeds.length)];
    const data = Uint8Array.from(v.tile.data);
    let bytes = data;
    switch (random(3)) {
      case 0: for (let k = 0, n = 1 + random(4); k < n; k++) data[random(data.length)] = random(256); break;
      case 1: bytes = data.subarray(0, random(data.length)); break;
      default: {
        bytes = new Uint8Array(data.length + 1 + random(8));
        bytes.set(data);
        for (let k = data.length; k < bytes.length; k++) bytes[k] = random(256);
      }
    }
    try {
      const rgba = await decodePalette({ ...v.tile, data: bytes });
      assert.equal(rgba.length, v.tile.w * v.tile.h * 4);
      decoded++;
    } catch (e) {
      assert.match(e.message, /^PALETTE tile/, e.stack);
      refused++;
    }
  }
  assert.ok(decoded > 0 && refused > 0, `${decoded} decoded, ${refused} refused`);
});

test('a ZLIB_RGB tile that inflates past its own size (a deflate bomb) is refused with one line; the next tile draws', async () => {
  const { deflateSync } = await import('node:zlib');
  const canvas = fakeCanvas(64, 64);
  const d = new Display(canvas, {});
  // A 2x2 tile claims 12 bytes of RGB; this stream inflates to 16 MiB of zeros.
  const bomb = deflateSync(new Uint8Array(16 << 20));
  const exact = deflateSync(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12));
  const lines = await warnings(async () => {
    d.push({ type: 'tile', x: 0, y: 0, w: 2, h: 2, format: TileFormat.ZLIB_RGB, data: bomb });
    await d.push({ type: 'tile', x: 2, y: 2, w: 2, h: 2, format: TileFormat.ZLIB_RGB, data: exact });
  });
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0], /ZLIB_RGB tile inflates to more than 12 bytes/);
  assert.deepEqual(canvas.calls.map((c) => [c[0], c[2], c[3]]), [['putImageData', 2, 2]], 'only the good tile is drawn');
});
