// Checks web/js/input.js's keysym and button mapping (RFC 6143 §7.5.4, §7.5.5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const { keysymOf, buttonMaskOf, InputTracker } = await import(path.join(here, '../../main/resources/web/js/input.js'));
const { decode } = await import(path.join(here, '../../main/resources/web/js/protocol.js'));

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

/** A send(bytes) over a WebSocket that is open or not; records what went out, decoded. */
function link() {
  const l = { open: true, sent: [] };
  l.send = (bytes) => {
    if (!l.open) return false;
    const m = decode(bytes);
    l.sent.push(m.type === 'key' ? `key ${m.down ? 'down' : 'up'} ${m.keysym.toString(16)}` : `pointer ${m.x},${m.y} ${m.buttonMask}`);
    return true;
  };
  return l;
}

test('releaseAll releases every held key and button (focus lost, pointer capture lost)', () => {
  const l = link();
  const t = new InputTracker(l.send);
  t.keyDown('ShiftLeft', 'Shift');
  t.keyDown('KeyA', 'A');
  t.pointer({ x: 5, y: 6 }, 1);
  l.sent.length = 0;
  t.releaseAll();
  assert.deepEqual(l.sent, ['key up ffe1', 'key up 41', 'pointer 5,6 0']);
  assert.equal(t.holding(), false);
  t.releaseAll();
  assert.equal(l.sent.length, 3, 'nothing more to release');
});

test('a key-up sends the keysym of its press even when the key\'s character changed (Shift released first)', () => {
  const l = link();
  const t = new InputTracker(l.send);
  t.keyDown('KeyA', 'A');
  t.keyUp('KeyA', 'a');
  assert.deepEqual(l.sent, ['key down 41', 'key up 41']);
});

test('keys and buttons held when the socket closes are not believed down, and are released on the next open', () => {
  const l = link();
  const t = new InputTracker(l.send);
  t.keyDown('ControlLeft', 'Control');
  t.pointer({ x: 1, y: 2 }, 4);
  l.open = false;
  t.disconnected();
  assert.equal(t.holding(), false);
  t.keyUp('ControlLeft', 'Control'); // dropped: the socket is not open
  t.pointer({ x: 3, y: 4 }, 0); // dropped too
  l.sent.length = 0;
  l.open = true;
  t.connected();
  assert.deepEqual(l.sent, ['key up ffe3', 'pointer 3,4 0']);
  t.connected();
  assert.equal(l.sent.length, 2, 'the releases are sent once');
});

test('a key-up dropped while the socket is not open is owed to the next connection', () => {
  const l = link();
  const t = new InputTracker(l.send);
  t.keyDown('KeyX', 'x');
  l.open = false;
  t.keyUp('KeyX', 'x');
  assert.equal(t.holding(), false);
  l.open = true;
  t.connected();
  assert.deepEqual(l.sent, ['key down 78', 'key up 78']);
});

test('a press that could not be sent is not recorded as held', () => {
  const l = link();
  const t = new InputTracker(l.send);
  l.open = false;
  t.keyDown('KeyQ', 'q');
  t.pointer({ x: 0, y: 0 }, 1);
  assert.equal(t.holding(), false);
  l.open = true;
  t.connected();
  t.releaseAll();
  assert.deepEqual(l.sent, []);
});
