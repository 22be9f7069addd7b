// One viewer of one session: the WebSocket to the gateway, the canvas, the state overlay, and
// reconnection with a fresh stream token after a drop (no new launch).
import { decode, frameAck, refreshRequest, ProtocolError, StatusCode } from './protocol.js';
import { Display } from './display.js';
import { attachInput } from './input.js';

/** WebSocket close codes after which reconnecting cannot help (io.deskgate.common.Status wsCloseCode). */
const FATAL_CLOSE_CODES = new Map([
  [4400, 'bad request'], [4403, 'not allowed'], [4404, 'session not found'], [4410, 'the session has ended'],
  [1002, 'protocol error'], [1009, 'message too large'], [4503, 'no desktop available'],
]);
const RETRY_CLOSE_REASONS = new Map([
  [1001, 'the gateway went away'], [1006, 'connection lost'], [1011, 'server error'], [4401, 'token expired'],
  [4502, 'an upstream service is unavailable'],
]);
const MAX_ATTEMPTS = 8;
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 10_000;

export class Viewer {
  /**
   * @param {object} ui canvas, status (overlay element), api (fetch wrapper), onLeave(reason)
   * @param {object} launch the POST /api/sessions answer: sessionId, gatewayUrl, token, width, height
   */
  constructor(ui, launch) {
    this.ui = ui;
    this.session = launch;
    this.attempt = 0;
    this.closedByUser = false;
    this.lastStatusText = '';
    this.display = new Display(ui.canvas, {
      onFrameEnd: (m) => this.frameDrawn(m),
      onResize: () => this.fit(),
      onStatus: (m) => { this.lastStatusText = m.text; if (m.code !== StatusCode.OK) this.state('reconnecting', m.text); },
      onClipboard: () => {},
    });
    this.display.resize(launch.width || 1024, launch.height || 768);
    this.detachInput = attachInput(ui.canvas, (bytes) => this.send(bytes));
    this.onWindowResize = () => this.fit();
    window.addEventListener('resize', this.onWindowResize);
    this.fit();
    this.connect(launch.token);
  }

  state(name, detail = '') {
    this.ui.status.dataset.state = name;
    this.ui.status.textContent = detail ? `${name}: ${detail}` : name;
  }

  connect(token) {
    this.state(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const url = this.session.gatewayUrl + (this.session.gatewayUrl.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token);
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.state('connected');
      this.ui.canvas.focus();
      this.send(refreshRequest());
    };
    ws.onmessage = (e) => {
      if (!(e.data instanceof ArrayBuffer)) return;
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
      this.display.push(msg);
    };
    ws.onclose = (e) => this.closed(ws, e.code, e.reason);
  }

  send(bytes) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(bytes);
  }

  frameDrawn(m) {
    this.send(frameAck(m.frameId, m.serverTimeMicros));
    window.deskgate.framesDrawn += 1;
  }

  async closed(ws, code, reason) {
    if (ws !== this.ws || this.closedByUser) return;
    this.display.reset();
    const why = reason || this.lastStatusText || FATAL_CLOSE_CODES.get(code) || RETRY_CLOSE_REASONS.get(code) || `closed (${code})`;
    if (FATAL_CLOSE_CODES.has(code) || this.attempt >= MAX_ATTEMPTS) {
      this.state('disconnected', why);
      return;
    }
    this.attempt += 1;
    this.state('reconnecting', why);
    const delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (this.attempt - 1));
    await new Promise((r) => setTimeout(r, delay));
    if (this.closedByUser) return;
    const res = await this.ui.api('POST', `/api/sessions/${encodeURIComponent(this.session.sessionId)}/token`);
    if (res.status === 401) { this.state('disconnected', 'login expired'); this.ui.onLeave?.('login'); return; }
    if (res.status === 404) { this.state('disconnected', 'the session has ended'); return; }
    if (!res.ok) { this.closed(ws, 1006, `token refresh failed (${res.status})`); return; }
    this.connect((await res.json()).token);
  }

  /** Fits the canvas to the window, keeping the desktop's aspect ratio. */
  fit() {
    const c = this.ui.canvas;
    const area = c.parentElement.getBoundingClientRect();
    const scale = Math.min(area.width / c.width, area.height / c.height);
    c.style.width = `${Math.floor(c.width * scale)}px`;
    c.style.height = `${Math.floor(c.height * scale)}px`;
  }

  /** Leaves the viewer; the desktop keeps running for a later reconnect. */
  close() {
    this.closedByUser = true;
    this.detachInput();
    window.removeEventListener('resize', this.onWindowResize);
    if (this.ws) this.ws.close(1000, 'viewer closed');
    this.state('disconnected', 'closed');
  }
}
