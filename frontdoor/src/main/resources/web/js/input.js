// Browser input to stream up messages (docs/protocol.md §1.2): keys as X11 keysyms (RFC 6143 §7.5.4),
// pointer positions in desktop pixels with an RFB button mask (§7.5.5).
import { keyEvent, pointerEvent } from './protocol.js';

const KEYSYM_BY_CODE = {
  ShiftLeft: 0xffe1, ShiftRight: 0xffe2, ControlLeft: 0xffe3, ControlRight: 0xffe4,
  AltLeft: 0xffe9, AltRight: 0xffea, MetaLeft: 0xffeb, MetaRight: 0xffec, OSLeft: 0xffeb, OSRight: 0xffec,
  NumpadEnter: 0xff8d,
};

const KEYSYM_BY_KEY = {
  Enter: 0xff0d, Backspace: 0xff08, Tab: 0xff09, Escape: 0xff1b, Delete: 0xffff, Insert: 0xff63,
  Home: 0xff50, End: 0xff57, PageUp: 0xff55, PageDown: 0xff56,
  ArrowLeft: 0xff51, ArrowUp: 0xff52, ArrowRight: 0xff53, ArrowDown: 0xff54,
  Shift: 0xffe1, Control: 0xffe3, Alt: 0xffe9, Meta: 0xffeb, AltGraph: 0xfe03,
  CapsLock: 0xffe5, NumLock: 0xff7f, ScrollLock: 0xff14, Pause: 0xff13, PrintScreen: 0xff61, ContextMenu: 0xff67,
  F1: 0xffbe, F2: 0xffbf, F3: 0xffc0, F4: 0xffc1, F5: 0xffc2, F6: 0xffc3,
  F7: 0xffc4, F8: 0xffc5, F9: 0xffc6, F10: 0xffc7, F11: 0xffc8, F12: 0xffc9,
};

/** The X11 keysym of a KeyboardEvent's key and code, or 0 when it has none (dead keys, Unidentified). */
export function keysymOf(key, code) {
  if (key === 'AltGraph') return KEYSYM_BY_KEY.AltGraph;
  if (code in KEYSYM_BY_CODE) return KEYSYM_BY_CODE[code];
  const chars = [...key];
  if (chars.length === 1) {
    const cp = chars[0].codePointAt(0);
    if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff)) return cp;
    if (cp < 0x20 || cp === 0x7f) return 0;
    return 0x01000000 + cp;
  }
  return KEYSYM_BY_KEY[key] ?? 0;
}

/** RFB button mask from MouseEvent.buttons (left 1, right 2, middle 4 -> RFB left 1, middle 2, right 4). */
export function buttonMaskOf(buttons) {
  return (buttons & 1) | ((buttons & 4) ? 2 : 0) | ((buttons & 2) ? 4 : 0);
}

const WHEEL_STEP_PX = 50;
const LINE_PX = 40;

/**
 * Sends the canvas's keyboard and pointer events through {@code send(bytes)}. Keys go while the canvas
 * has focus; every pressed key is released when it loses focus. Returns a function that detaches.
 */
export function attachInput(canvas, send) {
  const pressed = new Map(); // KeyboardEvent.code -> keysym sent on press
  let mask = 0;
  let last = { x: 0, y: 0 };
  let wheelX = 0, wheelY = 0;

  const position = (e) => {
    const r = canvas.getBoundingClientRect();
    const x = Math.floor((e.clientX - r.left) * canvas.width / Math.max(1, r.width));
    const y = Math.floor((e.clientY - r.top) * canvas.height / Math.max(1, r.height));
    return { x: Math.min(Math.max(x, 0), Math.max(0, canvas.width - 1)), y: Math.min(Math.max(y, 0), Math.max(0, canvas.height - 1)) };
  };
  const pointer = (p, m) => { last = p; send(pointerEvent(p.x, p.y, m)); };

  const onKeyDown = (e) => {
    e.preventDefault();
    const sym = pressed.get(e.code) ?? keysymOf(e.key, e.code);
    if (!sym) return;
    pressed.set(e.code, sym);
    send(keyEvent(true, sym));
  };
  const onKeyUp = (e) => {
    e.preventDefault();
    const sym = pressed.get(e.code) ?? keysymOf(e.key, e.code);
    pressed.delete(e.code);
    if (sym) send(keyEvent(false, sym));
  };
  const releaseAll = () => {
    for (const sym of pressed.values()) send(keyEvent(false, sym));
    pressed.clear();
    if (mask) { mask = 0; pointer(last, 0); }
  };
  const onMouse = (e) => {
    e.preventDefault();
    if (e.type === 'mousedown') canvas.focus();
    mask = buttonMaskOf(e.buttons);
    pointer(position(e), mask);
  };
  const onWheel = (e) => {
    e.preventDefault();
    const scale = e.deltaMode === 1 ? LINE_PX : e.deltaMode === 2 ? canvas.height : 1;
    wheelY += e.deltaY * scale;
    wheelX += e.deltaX * scale;
    const p = position(e);
    const click = (bit) => { pointer(p, mask | bit); pointer(p, mask); };
    while (wheelY <= -WHEEL_STEP_PX) { click(8); wheelY += WHEEL_STEP_PX; }   // button 4: up
    while (wheelY >= WHEEL_STEP_PX) { click(16); wheelY -= WHEEL_STEP_PX; }   // button 5: down
    while (wheelX <= -WHEEL_STEP_PX) { click(32); wheelX += WHEEL_STEP_PX; }  // button 6: left
    while (wheelX >= WHEEL_STEP_PX) { click(64); wheelX -= WHEEL_STEP_PX; }   // button 7: right
  };
  const onContextMenu = (e) => e.preventDefault();

  canvas.addEventListener('keydown', onKeyDown);
  canvas.addEventListener('keyup', onKeyUp);
  canvas.addEventListener('blur', releaseAll);
  canvas.addEventListener('mousedown', onMouse);
  canvas.addEventListener('mouseup', onMouse);
  canvas.addEventListener('mousemove', onMouse);
  canvas.addEventListener('wheel', onWheel, { passive: false });
  canvas.addEventListener('contextmenu', onContextMenu);
  return () => {
    releaseAll();
    canvas.removeEventListener('keydown', onKeyDown);
    canvas.removeEventListener('keyup', onKeyUp);
    canvas.removeEventListener('blur', releaseAll);
    canvas.removeEventListener('mousedown', onMouse);
    canvas.removeEventListener('mouseup', onMouse);
    canvas.removeEventListener('mousemove', onMouse);
    canvas.removeEventListener('wheel', onWheel);
    canvas.removeEventListener('contextmenu', onContextMenu);
  };
}
