// One viewer of one session: the WebSocket to the gateway, the canvas, the state overlay, and
// reconnection after a drop (no new launch). Stream tokens are single-use: the launch's token serves the
// first connection, every later one fetches a fresh token (POST /api/sessions/{id}/token) first.
//
// The main thread keeps the WebSocket and the input; decoding and drawing happen on a surface (surface.js: a
// Worker with the canvas as an OffscreenCanvas, or the main thread where the browser lacks those). The desktop's
// cursor is the canvas's CSS cursor (cursor.js), the window's size is asked for as the desktop's (resize.js), the
// text clipboard goes both ways (clipboard.js), and an indicator (stats.js) shows round trip, frames/s and kbit/s.
import { decode, frameAck, refreshRequest, resizeRequest, clientClipboard, ProtocolError, StatusCode } from './protocol.js';
import { clientCapabilities, Capability } from './protocol.js';
import { webpSupported } from './webp.js';
import { createSurface } from './surface.js';
import { LocalCursor } from './cursor.js';
import { ResizeWish } from './resize.js';
import { clipboardUp } from './clipboard.js';
import { StreamStats, formatStats } from './stats.js';
import { attachInput } from './input.js';
import { ReconnectPolicy } from './reconnect.js';

/** How often the indicator, while shown, measures a round trip (a HEAD request to the portal) and redraws. */
const INDICATOR_PERIOD_MS = 1000;

export class Viewer {
  /**
   * @param {object} ui canvas, status (overlay element), api (fetch wrapper), onLeave(reason); optional: paste, copy,
   *   statsToggle (buttons), indicator (the element the indicator's line goes in)
   * @param {object} launch the POST /api/sessions answer: sessionId, gatewayUrl, token, width, height (or the
   *     POST /api/sessions/{id}/connections answer, which adds instanceId)
   */
  constructor(ui, launch) {
    this.ui = ui;
    this.session = launch;
    this.policy = new ReconnectPolicy();
    this.closedByUser = false;
    this.lastStatusText = '';
    // A canvas hands its drawing to a Worker only once: every viewer gets a fresh one in the old one's place.
    const canvas = ui.canvas.cloneNode(false);
    ui.canvas.replaceWith(canvas);
    this.canvas = canvas;
    const prefer = new URLSearchParams(location.search).get('draw') === 'main' ? 'main' : 'worker';
    this.surface = createSurface(canvas, {
      onFrameDrawn: (m) => this.frameDrawn(m),
      onResize: () => this.fit(),
      onOverflow: () => this.send(refreshRequest()),
    }, launch.width || 1024, launch.height || 768, prefer);
    this.cursor = new LocalCursor(canvas);
    this.stats = new StreamStats();
    this.resizeWish = new ResizeWish();
    this.resizeTimer = 0;
    this.clipboard = { last: '', pending: null };
    this.input = attachInput(canvas, (bytes) => this.send(bytes), () => ({ w: this.surface.w, h: this.surface.h }));
    this.onWindowResize = () => { this.fit(); this.wishSize(); };
    window.addEventListener('resize', this.onWindowResize);
    this.onChord = (e) => this.chord(e);
    window.addEventListener('keydown', this.onChord, true);
    window.addEventListener('keyup', this.onChord, true);
    this.onFocus = () => this.pasteFromBrowser(false);
    canvas.addEventListener('focus', this.onFocus);
    this.buttons = [
      [ui.paste, () => this.pasteFromBrowser(true)],
      [ui.copy, () => this.copyToBrowser()],
      [ui.statsToggle, () => this.toggleIndicator()],
    ].filter(([el]) => el);
    for (const [el, fn] of this.buttons) el.onclick = fn;
    if (ui.copy) ui.copy.hidden = true;
    this.indicatorTimer = 0;
    Object.assign(window.deskgate, {
      drawing: this.surface.kind,
      size: () => ({ w: this.surface.w, h: this.surface.h }),
      pixels: () => this.surface.pixels(),
      stats: () => this.stats.snapshot(performance.now()),
      // Read-only, for benchmarks: when the last frames were drawn (performance.now(), the indicator's 2 s window).
      frameTimesMs: () => this.stats.frames.slice(),
      clipboard: () => this.clipboard.last,
    });
    this.fit();
    this.connect(launch.token);
  }

  state(name, detail = '') {
    this.ui.status.dataset.state = name;
    this.ui.status.textContent = detail ? `${name}: ${detail}` : name;
  }

  connect(token) {
    this.state(this.policy.attempt === 0 ? 'connecting' : 'reconnecting');
    const url = this.session.gatewayUrl + (this.session.gatewayUrl.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token);
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      // The gateway sends a REFRESH_REQUEST up itself when a browser attaches: none from here.
      this.policy.opened(performance.now());
      this.lastStatusText = '';
      this.state('connected');
      this.canvas.focus();
      this.input.connected();
      this.resizeWish.reset();
      this.wishSize();
      // What this browser decodes beyond the base formats (docs/protocol.md §1.2), on every connection: the engine
      // forgets it when the viewer leaves. Asked of the browser once per page.
      webpSupported().then((webp) => {
        if (ws === this.ws) this.send(clientCapabilities(webp ? Capability.WEBP : 0));
      });
    };
    ws.onmessage = (e) => {
      if (ws !== this.ws || !(e.data instanceof ArrayBuffer)) return;
      let msg;
      try {
        msg = decode(e.data);
      } catch (err) {
        if (err instanceof ProtocolError) {
          console.warn('deskgate:', err.message);
          ws.close(1002, 'protocol error');
          return;
        }
        throw err;
      }
      this.policy.received(msg.type);
      this.stats.received(e.data.byteLength, performance.now());
      window.deskgate.bytesReceived += e.data.byteLength;
      switch (msg.type) {
        case 'cursor': this.cursor.set(msg); return;
        case 'serverClipboard': this.fromDesktopClipboard(msg.text); return;
        case 'status':
          this.lastStatusText = msg.text;
          if (msg.code !== StatusCode.OK) this.state('reconnecting', msg.text);
          return;
        default: this.surface.push(msg, e.data);
      }
    };
    ws.onclose = (e) => this.closed(ws, e.code, e.reason);
  }

  /** Sends one up message; returns false when the WebSocket is not open (the message is dropped). */
  send(bytes) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(bytes);
    return true;
  }

  frameDrawn(m) {
    this.send(frameAck(m.frameId, m.serverTimeMicros));
    this.stats.frameDrawn(performance.now());
    window.deskgate.framesDrawn += 1;
  }

  /** The viewer area changed (or a connection opened): ask for it as the desktop's size once it rests. */
  wishSize() {
    const area = this.canvas.parentElement.getBoundingClientRect();
    this.resizeWish.changed(area.width, area.height, performance.now());
    clearTimeout(this.resizeTimer);
    const poll = () => {
      const size = this.resizeWish.due(performance.now());
      if (size) {
        if (!this.send(resizeRequest(size.w, size.h))) this.resizeWish.reset();
      } else if (this.resizeWish.dueAt() !== null) {
        this.resizeTimer = setTimeout(poll, Math.max(0, this.resizeWish.dueAt() - performance.now()));
      }
    };
    this.resizeTimer = setTimeout(poll, this.resizeWish.debounceMs);
  }

  /** SERVER_CLIPBOARD: into the user's clipboard while the viewer has focus; otherwise kept for "Copy". */
  fromDesktopClipboard(text) {
    this.clipboard.last = text;
    this.clipboard.pending = text;
    const focused = document.hasFocus() && document.activeElement === this.canvas;
    if (!focused || !navigator.clipboard?.writeText) {
      this.showCopy(true);
      return;
    }
    navigator.clipboard.writeText(text).then(() => {
      if (this.clipboard.pending === text) this.clipboard.pending = null;
      this.showCopy(false);
    }, () => this.showCopy(true));
  }

  showCopy(shown) {
    if (this.ui.copy) this.ui.copy.hidden = !shown || this.clipboard.pending === null;
  }

  /** The "Copy" button (a user gesture, which browsers require): the desktop's kept text into the clipboard. */
  copyToBrowser() {
    const text = this.clipboard.pending;
    if (text === null || !navigator.clipboard?.writeText) return;
    navigator.clipboard.writeText(text).then(() => {
      if (this.clipboard.pending === text) this.clipboard.pending = null;
      this.showCopy(false);
      this.canvas.focus();
    }, (err) => console.warn('deskgate: the browser refused to write the clipboard:', err.message));
  }

  /**
   * The user's clipboard to the desktop: on focus only when the browser already grants reading it (no prompt
   * while the user merely clicks into the desktop) and no desktop text waits for "Copy"; from the "Paste" button
   * always (the browser may ask).
   */
  async pasteFromBrowser(asked) {
    if (!navigator.clipboard?.readText) return;
    try {
      if (!asked) {
        // The desktop's text waits for "Copy": the user's older clipboard must not replace it on the desktop.
        if (this.clipboard.pending !== null) return;
        const permission = await navigator.permissions?.query({ name: 'clipboard-read' });
        if (!permission || permission.state !== 'granted') return;
      }
      const text = await navigator.clipboard.readText();
      const verdict = clipboardUp(text, this.clipboard.last);
      if (!verdict.send) {
        if (asked && verdict.why !== 'unchanged' && verdict.why !== 'empty') console.warn(`deskgate: clipboard not sent: ${verdict.why}`);
        return;
      }
      if (this.send(clientClipboard(text))) this.clipboard.last = text;
    } catch (err) {
      if (asked) console.warn('deskgate: cannot read the clipboard:', err.message);
    } finally {
      if (asked) this.canvas.focus();
    }
  }

  /** Ctrl+Alt+Shift+I shows or hides the indicator; the chord never reaches the desktop. */
  chord(e) {
    if (e.code !== 'KeyI' || !e.ctrlKey || !e.altKey || !e.shiftKey) return;
    e.preventDefault();
    e.stopPropagation();
    if (e.type === 'keydown' && !e.repeat) this.toggleIndicator();
  }

  toggleIndicator() {
    const el = this.ui.indicator;
    if (!el) return;
    el.hidden = !el.hidden;
    clearInterval(this.indicatorTimer);
    if (!el.hidden) {
      const update = () => { this.measureRoundTrip(); el.textContent = formatStats(this.stats.snapshot(performance.now())); };
      update();
      this.indicatorTimer = setInterval(update, INDICATOR_PERIOD_MS);
    }
    this.canvas.focus();
  }

  /** One round trip: a HEAD of the portal's page, never cached (only while the indicator is shown). */
  async measureRoundTrip() {
    const start = performance.now();
    try {
      await fetch(location.pathname, { method: 'HEAD', cache: 'no-store', credentials: 'same-origin' });
      this.stats.roundTrip(performance.now() - start);
    } catch {
      // offline: no sample
    }
  }

  async closed(ws, code, reason) {
    if (ws !== this.ws || this.closedByUser) return;
    this.surface.reset();
    this.input.disconnected();
    const next = this.policy.closed(code, reason, this.lastStatusText, performance.now());
    this.lastStatusText = '';
    if (!next.retry) {
      this.state('disconnected', next.why);
      return;
    }
    this.state('reconnecting', next.why);
    await new Promise((r) => setTimeout(r, next.delayMs));
    if (this.closedByUser || ws !== this.ws) return;
    let res;
    try {
      // A further connection (POST .../connections answered an instanceId) streams under its own instance:
      // its fresh token must name that instance, or it would attach to the session's first tab's stream.
      const instance = this.session.instanceId ? `?instance=${encodeURIComponent(this.session.instanceId)}` : '';
      res = await this.ui.api('POST', `/api/sessions/${encodeURIComponent(this.session.sessionId)}/token${instance}`);
    } catch (err) {
      this.closed(ws, 1006, `token refresh failed (${err.message})`);
      return;
    }
    if (this.closedByUser || ws !== this.ws) return;
    if (res.status === 401) { this.state('disconnected', 'login expired'); this.ui.onLeave?.('login'); return; }
    if (res.status === 404) { this.state('disconnected', 'the session has ended'); return; }
    if (!res.ok) { this.closed(ws, 1006, `token refresh failed (${res.status})`); return; }
    let token;
    try {
      token = (await res.json()).token;
    } catch (err) {
      this.closed(ws, 1006, `token refresh failed (${err.message})`);
      return;
    }
    if (this.closedByUser || ws !== this.ws) return;
    this.connect(token);
  }

  /** Fits the canvas to the window, keeping the desktop's aspect ratio; the local cursor is scaled with it. */
  fit() {
    const c = this.canvas;
    const { w, h } = this.surface;
    const area = c.parentElement.getBoundingClientRect();
    const scale = Math.min(area.width / w, area.height / h);
    c.style.width = `${Math.floor(w * scale)}px`;
    c.style.height = `${Math.floor(h * scale)}px`;
    this.cursor.setScale(scale);
  }

  /** Leaves the viewer; the desktop keeps running for a later reconnect. */
  close() {
    this.closedByUser = true;
    this.input.detach();
    window.removeEventListener('resize', this.onWindowResize);
    window.removeEventListener('keydown', this.onChord, true);
    window.removeEventListener('keyup', this.onChord, true);
    this.canvas.removeEventListener('focus', this.onFocus);
    for (const [el] of this.buttons) el.onclick = null;
    if (this.ui.indicator) this.ui.indicator.hidden = true;
    if (this.ui.copy) this.ui.copy.hidden = true;
    clearInterval(this.indicatorTimer);
    clearTimeout(this.resizeTimer);
    this.surface.close();
    if (this.ws) this.ws.close(1000, 'viewer closed');
    this.state('disconnected', 'closed');
  }
}
