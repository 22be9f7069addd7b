// Checks web/js/protocol.js against golden vectors: the example of docs/protocol.md §1.3 and vectors that
// ProtocolJsTest (JUnit) writes with io.deskgate.stream.StreamCodec into the file named by DESKGATE_VECTORS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const { decode, encode, ProtocolError, MAX_MESSAGE_BYTES } = await import(
  path.join(here, '../../main/resources/web/js/protocol.js'));

const hex = (s) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b) => Buffer.from(b).toString('hex');

test('decodes the docs/protocol.md §1.3 example: a red 1x1 FILL tile at (3, 4)', () => {
  const m = decode(hex('01 0003 0004 0001 0001 04 ff0000'));
  assert.equal(m.type, 'tile');
  assert.deepEqual([m.x, m.y, m.w, m.h, m.format], [3, 4, 1, 1, 4]);
  assert.equal(toHex(m.data), 'ff0000');
  assert.equal(toHex(encode(m)), '01000300040001000104ff0000');
});

const vectorsFile = process.env.DESKGATE_VECTORS;
const vectors = vectorsFile ? JSON.parse(readFileSync(vectorsFile, 'utf8')) : [];

test('golden vectors from StreamCodec decode to the same fields and encode to the same bytes', { skip: !vectorsFile }, () => {
  assert.ok(vectors.length >= 14, 'every message type has a vector');
  for (const v of vectors) {
    const m = decode(hex(v.hex));
    assert.equal(m.type, v.message.type, v.hex);
    for (const [k, want] of Object.entries(v.message)) {
      const got = m[k];
      if (got instanceof Uint8Array) assert.equal(toHex(got), want, `${v.hex} ${k}`);
      else if (typeof got === 'bigint') assert.equal(got.toString(), want, `${v.hex} ${k}`);
      else assert.equal(got, want, `${v.hex} ${k}`);
    }
    assert.equal(toHex(encode(m)), v.hex, `re-encoding ${v.message.type}`);
  }
});

test('rejects what StreamCodec rejects', { skip: !vectorsFile }, () => {
  const bad = JSON.parse(readFileSync(vectorsFile.replace(/\.json$/, '-bad.json'), 'utf8'));
  assert.ok(bad.length > 0);
  for (const b of bad) assert.throws(() => decode(hex(b)), ProtocolError, b);
});

test('rejects empty and oversized messages', () => {
  assert.throws(() => decode(new Uint8Array(0)), ProtocolError);
  const big = new Uint8Array(MAX_MESSAGE_BYTES + 1);
  big[0] = 0x05;
  assert.throws(() => decode(big), ProtocolError);
});

test('random mutations of valid messages only ever throw ProtocolError', () => {
  const seeds = ['01000300040001000104ff0000', '0600000001000000000000002a', '8101000000ff0d', '820010002001'];
  let state = 42;
  const rand = (n) => { state = (state * 1103515245 + 12345) & 0x7fffffff; return state % n; };
  for (let i = 0; i < 5000; i++) {
    const b = Array.from(hex(seeds[rand(seeds.length)]));
    const edits = 1 + rand(3);
    for (let e = 0; e < edits; e++) {
      const op = rand(3);
      if (op === 0 && b.length) b[rand(b.length)] = rand(256);
      else if (op === 1 && b.length) b.splice(rand(b.length), 1);
      else b.splice(rand(b.length + 1), 0, rand(256));
    }
    try { decode(Uint8Array.from(b)); } catch (err) { assert.ok(err instanceof ProtocolError, `${toHex(b)}: ${err}`); }
  }
});
