// The WEBP tile golden vectors (stream/src/test/vectors/webp-tiles.txt, written by the Java encoder's WebpVectorsTest
// with libwebp and decoded by the Java WebpTileTest too) through web/js/display.js and webp.js: a good one reaches the
// browser's image decoder as an image/webp Blob and is drawn at its place; every malformed one is refused with one
// console line before the decoder sees it (or, for a frame the decoder cannot read, with one line after), and the
// stream keeps drawing; mutated tiles are drawn or refused, nothing else. Node has no WebP decoder: createImageBitmap
// here stands in for the browser's, decoding only the bytes of the good vectors (libwebp's own output) and failing on
// any other, as a real decoder fails on a corrupt frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { fakeCanvas, warnings, loadVectors } from './fakes.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { Display } = await import(path.join(here, '../../main/resources/web/js/display.js'));
const { decode, TileFormat, Capability, clientCapabilities } = await import(path.join(here, '../../main/resources/web/js/protocol.js'));
const { checkWebp, webpSupported, forgetWebpSupport } = await import(path.join(here, '../../main/resources/web/js/webp.js'));

const toHex = (b) => Buffer.from(b).toString('hex');
const vectors = loadVectors('webp-tiles.txt', decode);
const good = vectors.filter((v) => v.good);

/** The browser's decoder, for the bytes libwebp wrote (the good vectors): a bitmap of their size; anything else fails. */
const decodable = new Map(good.map((v) => [toHex(v.tile.data), v.tile]));
const blobs = [];
globalThis.createImageBitmap = async (blob) => {
  blobs.push(blob.type);
  const t = decodable.get(toHex(new Uint8Array(await blob.arrayBuffer())));
  if (!t) throw new Error('The source image could not be decoded.');
  return { width: t.w, height: t.h, close() {} };
};

const fill = () => ({ type: 'tile', x: 0, y: 0, w: 1, h: 1, format: TileFormat.FILL, data: Uint8Array.of(1, 2, 3) });

test('the vectors cover the good sizes and every refusal', () => {
  assert.deepEqual(good.map((v) => v.name), ['photo-16x16', 'odd-size-13x7', 'one-pixel', 'photo-8x8']);
  assert.ok(vectors.filter((v) => !v.good).length >= 13);
  assert.ok(vectors.every((v) => v.tile.format === TileFormat.WEBP));
});

for (const v of good) {
  test(`good vector ${v.name} goes to the image decoder as image/webp and is drawn at its place`, async () => {
    const canvas = fakeCanvas(v.desktopW, v.desktopH);
    const d = new Display(canvas, {});
    blobs.length = 0;
    const lines = await warnings(() => d.push(v.tile));
    assert.deepEqual(lines, []);
    assert.deepEqual(blobs, ['image/webp']);
    assert.deepEqual(canvas.calls, [['drawImage', v.tile.x, v.tile.y]]);
  });
}

for (const v of vectors.filter((x) => !x.good)) {
  test(`bad vector ${v.name} is refused with one line and the next tile still draws`, async () => {
    const canvas = fakeCanvas(v.desktopW, v.desktopH);
    const d = new Display(canvas, {});
    blobs.length = 0;
    const lines = await warnings(async () => {
      d.push(v.tile);
      await d.push(fill());
    });
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], /WEBP tile|outside/);
    assert.ok(lines[0].includes(v.rest), `${lines[0]} names "${v.rest}"`);
    assert.deepEqual(canvas.calls.map((c) => c[0]), ['fillRect'], 'nothing of the bad tile is drawn');
    if (v.rest !== 'cannot be decoded') assert.deepEqual(blobs, [], 'refused before the image decoder saw it');
  });
}

test('checkWebp refuses the malformed vectors itself (outside the desktop aside, which display.js checks first)', () => {
  for (const v of vectors.filter((x) => !x.good && x.rest !== 'outside' && x.rest !== 'cannot be decoded')) {
    assert.throws(() => checkWebp(v.tile), (e) => e.message.includes(v.rest), v.name);
  }
});

test('mutated WEBP tiles are drawn or refused with one WEBP line each, and nothing else', async () => {
  let seed = 0x3eb9;
  const random = (n) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  let drawn = 0, refused = 0;
  for (let i = 0; i < 600; i++) {
    const v = good[i % good.length];
    let b = Uint8Array.from(v.tile.data);
    for (let e = 0, edits = 1 + random(3); e < edits; e++) {
      const r = random(3);
      if (r === 0) b[random(b.length)] ^= 1 << random(8);
      else if (r === 1) b[random(b.length)] = random(256);
      else b = b.subarray(0, random(b.length + 1));
    }
    const canvas = fakeCanvas(v.desktopW, v.desktopH);
    const d = new Display(canvas, {});
    const lines = await warnings(() => d.push({ ...v.tile, data: b }));
    if (canvas.calls.length === 1) {
      drawn++;
      assert.deepEqual(lines, []);
    } else {
      refused++;
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(lines[0], /WEBP tile/);
    }
  }
  assert.ok(refused > 300, `${refused} refused, ${drawn} drawn`);
  assert.equal(drawn + refused, 600);
});

test('webpSupported asks the browser once and says whether a 1x1 WebP decodes to 1x1', async () => {
  const real = globalThis.createImageBitmap;
  let asked = 0;
  try {
    forgetWebpSupport();
    globalThis.createImageBitmap = async (blob) => {
      asked++;
      assert.equal(blob.type, 'image/webp');
      checkWebp({ w: 1, h: 1, data: new Uint8Array(await blob.arrayBuffer()) }); // the probe is a valid WEBP tile
      return { width: 1, height: 1, close() {} };
    };
    assert.equal(await webpSupported(), true);
    assert.equal(await webpSupported(), true);
    assert.equal(asked, 1);
    forgetWebpSupport();
    globalThis.createImageBitmap = async () => { throw new Error('unsupported'); };
    assert.equal(await webpSupported(), false);
  } finally {
    globalThis.createImageBitmap = real;
    forgetWebpSupport();
  }
});

test('CLIENT_CAPABILITIES carries the WEBP bit', () => {
  assert.equal(toHex(clientCapabilities(Capability.WEBP)), '8800000001');
  assert.deepEqual(decode(clientCapabilities(0)), { type: 'clientCapabilities', flags: 0 });
});
