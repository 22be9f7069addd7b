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
 * What the desktop believes is pressed, and the releases it is owed. Pure bookkeeping, single-threaded:
 * {@code send(bytes)} returns true when the message went out (the WebSocket was open). A press that could
 * not be sent is not recorded; a release that could not be sent, and every press still held when the
 * connection is lost, is owed and sent by {@link #connected} on the next connection, so no key or
 * button stays down on the desktop and the client never believes one is.
 */
export class InputTracker {
  constructor(send) {
    this.send = send;
    this.pressed = new Map(); // KeyboardEvent.code -> keysym the desktop got a press of
    this.mask = 0; // RFB button mask the desktop last got
    this.last = { x: 0, y: 0 };
    this.owedKeys = new Set(); // keysyms pressed on the desktop whose release could not be sent
    this.owedButtons = false;
  }

  keyDown(code, key) {
    const sym = this.pressed.get(code) ?? keysymOf(key, code);
    if (!sym) return;
    if (this.send(keyEvent(true, sym))) {
      this.pressed.set(code, sym);
      this.owedKeys.delete(sym);
    }
  }

  keyUp(code, key) {
    const sym = this.pressed.get(code) ?? keysymOf(key, code);
    const wasPressed = this.pressed.delete(code);
    if (sym && !this.send(keyEvent(false, sym)) && wasPressed) this.owedKeys.add(sym);
  }

  /** Moves the pointer to desktop pixel {@code p} with RFB button mask {@code mask}. */
  pointer(p, mask) {
    this.last = p;
    if (this.send(pointerEvent(p.x, p.y, mask))) {
      this.mask = mask;
      this.owedButtons = false;
    } else if (this.mask !== 0) {
      this.owedButtons = true;
      this.mask = 0;
    }
  }

  /** Releases every key and button (focus lost, pointer capture lost, detach). */
  releaseAll() {
    for (const [code, sym] of this.pressed) {
      this.pressed.delete(code);
      if (!this.send(keyEvent(false, sym))) this.owedKeys.add(sym);
    }
    if (this.mask) this.pointer(this.last, 0);
  }

  /** The connection closed: nothing is pressed any more as far as this client knows; releases are owed. */
  disconnected() {
    for (const sym of this.pressed.values()) this.owedKeys.add(sym);
    this.pressed.clear();
    if (this.mask) this.owedButtons = true;
    this.mask = 0;
  }

  /** A connection opened: sends the releases the desktop is owed. */
  connected() {
    for (const sym of [...this.owedKeys]) {
      if (this.send(keyEvent(false, sym))) this.owedKeys.delete(sym);
    }
    if (this.owedButtons && this.send(pointerEvent(this.last.x, this.last.y, 0))) this.owedButtons = false;
  }

  /** True when this client believes the desktop holds a key or button down. */
  holding() {
    return this.pressed.size > 0 || this.mask !== 0;
  }
}

/**
 * Sends the canvas's keyboard and pointer events through {@code send(bytes)} (true when sent). Keys go
 * while the canvas has focus; every pressed key and button is released when it loses focus. Buttons are
 * tracked through pointer capture, so a release outside the canvas (or the window) still arrives.
 * Returns {detach(), disconnected(), connected()}: the owner calls the last two when its WebSocket
 * closes and opens. {@code size()} gives the desktop's size in pixels (by default the canvas's, which a canvas
 * handed to a Worker no longer reports).
 */
export function attachInput(canvas, send, size = () => ({ w: canvas.width, h: canvas.height })) {
  const input = new InputTracker(send);
  let wheelX = 0, wheelY = 0;

  const position = (e) => {
    const r = canvas.getBoundingClientRect();
    const { w, h } = size();
    const x = Math.floor((e.clientX - r.left) * w / Math.max(1, r.width));
    const y = Math.floor((e.clientY - r.top) * h / Math.max(1, r.height));
    return { x: Math.min(Math.max(x, 0), Math.max(0, w - 1)), y: Math.min(Math.max(y, 0), Math.max(0, h - 1)) };
  };

  const onKeyDown = (e) => {
    e.preventDefault();
    input.keyDown(e.code, e.key);
  };
  const onKeyUp = (e) => {
    e.preventDefault();
    input.keyUp(e.code, e.key);
  };
  const releaseAll = () => input.releaseAll();
  const onPointer = (e) => {
    e.preventDefault();
    if (e.type === 'pointerdown') {
      canvas.focus();
      try {
        canvas.setPointerCapture(e.pointerId);
      } catch {
        // the pointer is no longer active: its release arrives as pointerup or pointercancel
      }
    }
    input.pointer(position(e), buttonMaskOf(e.buttons));
  };
  const onLostCapture = () => {
    // Capture ends after the last button's release, or when the browser takes it away (alert, tab switch):
    // then no release would reach the canvas, so the buttons go up now.
    if (input.mask) input.pointer(input.last, 0);
  };
  const onWheel = (e) => {
    e.preventDefault();
    const scale = e.deltaMode === 1 ? LINE_PX : e.deltaMode === 2 ? size().h : 1;
    wheelY += e.deltaY * scale;
    wheelX += e.deltaX * scale;
    const p = position(e);
    const click = (bit) => { const held = input.mask; input.pointer(p, held | bit); input.pointer(p, held); };
    while (wheelY <= -WHEEL_STEP_PX) { click(8); wheelY += WHEEL_STEP_PX; }   // button 4: up
    while (wheelY >= WHEEL_STEP_PX) { click(16); wheelY -= WHEEL_STEP_PX; }   // button 5: down
    while (wheelX <= -WHEEL_STEP_PX) { click(32); wheelX += WHEEL_STEP_PX; }  // button 6: left
    while (wheelX >= WHEEL_STEP_PX) { click(64); wheelX -= WHEEL_STEP_PX; }   // button 7: right
  };
  const onContextMenu = (e) => e.preventDefault();

  const listeners = [
    [canvas, 'keydown', onKeyDown], [canvas, 'keyup', onKeyUp], [canvas, 'blur', releaseAll],
    [canvas, 'pointerdown', onPointer], [canvas, 'pointerup', onPointer], [canvas, 'pointermove', onPointer],
    [canvas, 'pointercancel', releaseAll], [canvas, 'lostpointercapture', onLostCapture],
    [canvas, 'wheel', onWheel, { passive: false }], [canvas, 'contextmenu', onContextMenu],
    [window, 'blur', releaseAll],
  ];
  for (const [target, type, fn, options] of listeners) target.addEventListener(type, fn, options);
  return {
    detach() {
      input.releaseAll();
      for (const [target, type, fn] of listeners) target.removeEventListener(type, fn);
    },
    disconnected: () => input.disconnected(),
    connected: () => input.connected(),
  };
}
