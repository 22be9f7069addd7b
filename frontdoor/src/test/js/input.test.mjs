// Checks web/js/input.js's keysym and button mapping (RFC 6143 §7.5.4, §7.5.5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const { keysymOf, buttonMaskOf } = await import(path.join(here, '../../main/resources/web/js/input.js'));

test('printable characters map to Latin-1 keysyms or 0x01000000 + code point', () => {
  assert.equal(keysymOf('a', 'KeyA'), 0x61);
  assert.equal(keysymOf('A', 'KeyA'), 0x41);
  assert.equal(keysymOf(' ', 'Space'), 0x20);
  assert.equal(keysymOf('~', 'Backquote'), 0x7e);
  assert.equal(keysymOf('é', 'KeyE'), 0xe9);
  assert.equal(keysymOf('€', 'KeyE'), 0x010020ac);
  assert.equal(keysymOf('😀', 'KeyX'), 0x01000000 + 0x1f600);
});

test('named keys map through the table, modifiers by side', () => {
  assert.equal(keysymOf('Enter', 'Enter'), 0xff0d);
  assert.equal(keysymOf('Enter', 'NumpadEnter'), 0xff8d);
  assert.equal(keysymOf('Backspace', 'Backspace'), 0xff08);
  assert.equal(keysymOf('Tab', 'Tab'), 0xff09);
  assert.equal(keysymOf('Escape', 'Escape'), 0xff1b);
  assert.equal(keysymOf('Delete', 'Delete'), 0xffff);
  assert.equal(keysymOf('ArrowLeft', 'ArrowLeft'), 0xff51);
  assert.equal(keysymOf('PageDown', 'PageDown'), 0xff56);
  assert.equal(keysymOf('F1', 'F1'), 0xffbe);
  assert.equal(keysymOf('F12', 'F12'), 0xffc9);
  assert.equal(keysymOf('Shift', 'ShiftLeft'), 0xffe1);
  assert.equal(keysymOf('Shift', 'ShiftRight'), 0xffe2);
  assert.equal(keysymOf('Control', 'ControlRight'), 0xffe4);
  assert.equal(keysymOf('Alt', 'AltLeft'), 0xffe9);
  assert.equal(keysymOf('AltGraph', 'AltRight'), 0xfe03);
  assert.equal(keysymOf('Meta', 'MetaLeft'), 0xffeb);
  assert.equal(keysymOf('Dead', 'BracketLeft'), 0);
  assert.equal(keysymOf('Unidentified', ''), 0);
});

test('browser buttons map to the RFB mask (left 1, middle 2, right 4)', () => {
  assert.equal(buttonMaskOf(1), 1);
  assert.equal(buttonMaskOf(2), 4);
  assert.equal(buttonMaskOf(4), 2);
  assert.equal(buttonMaskOf(7), 7);
});
