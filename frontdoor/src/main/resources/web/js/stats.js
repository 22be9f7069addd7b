// The viewer's latency and bandwidth indicator (hidden until asked for: Ctrl+Alt+Shift+I or the overlay's "i"):
// frames drawn per second, kbit/s received on the stream, and the round trip of a small HTTP request to the portal.
// Pure: every event carries its time in milliseconds; nothing here reads a clock.

/** The window frames/s and kbit/s are averaged over. */
export const WINDOW_MS = 2000;
/** Round-trip samples kept; the indicator shows their median (one slow request does not move it). */
export const RTT_SAMPLES = 5;

export class StreamStats {
  constructor(windowMs = WINDOW_MS) {
    this.windowMs = windowMs;
    this.bytes = []; // [timeMs, bytes]
    this.frames = []; // timeMs
    this.rtts = [];
  }

  /** A stream message of {@code n} bytes arrived. */
  received(n, nowMs) {
    this.bytes.push([nowMs, n]);
    this.trim(nowMs);
  }

  /** A frame was drawn. */
  frameDrawn(nowMs) {
    this.frames.push(nowMs);
    this.trim(nowMs);
  }

  /** A round trip of {@code ms} was measured. */
  roundTrip(ms) {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.rtts.push(ms);
    if (this.rtts.length > RTT_SAMPLES) this.rtts.shift();
  }

  trim(nowMs) {
    const from = nowMs - this.windowMs;
    while (this.bytes.length && this.bytes[0][0] <= from) this.bytes.shift();
    while (this.frames.length && this.frames[0] <= from) this.frames.shift();
  }

  /**
   * {fps, kbps, rttMs} over the last window: frames and bits in it divided by its length (so the first
   * seconds under-report rather than spike); rttMs is the median of the last samples, or null before the first.
   */
  snapshot(nowMs) {
    this.trim(nowMs);
    const seconds = this.windowMs / 1000;
    let total = 0;
    for (const [, n] of this.bytes) total += n;
    const sorted = [...this.rtts].sort((a, b) => a - b);
    return {
      fps: this.frames.length / seconds,
      kbps: (total * 8) / 1000 / seconds,
      rttMs: sorted.length ? sorted[Math.floor(sorted.length / 2)] : null,
    };
  }
}

/** The indicator's one line of text. */
export function formatStats({ fps, kbps, rttMs }) {
  const rtt = rttMs === null ? '–' : `${Math.round(rttMs)} ms`;
  const rate = kbps >= 10_000 ? `${(kbps / 1000).toFixed(1)} Mbit/s` : `${Math.round(kbps)} kbit/s`;
  return `rtt ${rtt} · ${fps.toFixed(fps < 10 ? 1 : 0)} fps · ${rate}`;
}
