// One viewer of one session: the WebSocket to the gateway, the canvas, the state overlay, and
// reconnection after a drop (no new launch). Stream tokens are single-use: the launch's token serves the
// first connection, every later one fetches a fresh token (POST /api/sessions/{id}/token) first.
import { decode, frameAck, refreshRequest, ProtocolError, StatusCode } from './protocol.js';
import { Display } from './display.js';
import { attachInput } from './input.js';
import { ReconnectPolicy } from './reconnect.js';

export class Viewer {
  /**
   * @param {object} ui canvas, status (overlay element), api (fetch wrapper), onLeave(reason)
   * @param {object} launch the POST /api/sessions answer: sessionId, gatewayUrl, token, width, height (or the
   *     POST /api/sessions/{id}/connections answer, which adds instanceId)
   */
  constructor(ui, launch) {
    this.ui = ui;
    this.session = launch;
    this.policy = new ReconnectPolicy();
    this.closedByUser = false;
    this.lastStatusText = '';
    this.display = new Display(ui.canvas, {
      onFrameEnd: (m) => this.frameDrawn(m),
      onResize: () => this.fit(),
      onStatus: (m) => { this.lastStatusText = m.text; if (m.code !== StatusCode.OK) this.state('reconnecting', m.text); },
      onClipboard: () => {},
      onOverflow: () => this.send(refreshRequest()),
    });
    this.display.resize(launch.width || 1024, launch.height || 768);
    this.input = attachInput(ui.canvas, (bytes) => this.send(bytes));
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
      this.ui.canvas.focus();
      this.input.connected();
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
      this.display.push(msg, e.data.byteLength);
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
    window.deskgate.framesDrawn += 1;
  }

  async closed(ws, code, reason) {
    if (ws !== this.ws || this.closedByUser) return;
    this.display.reset();
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
    this.input.detach();
    window.removeEventListener('resize', this.onWindowResize);
    if (this.ws) this.ws.close(1000, 'viewer closed');
    this.state('disconnected', 'closed');
  }
}
