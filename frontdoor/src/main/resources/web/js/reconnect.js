// When the viewer reconnects after its WebSocket closed, and when it gives up. Pure: fed events with the
// time as an input, it owns no socket and no timer (viewer.js does the I/O), so node --test checks it.
//
// A gateway completes the WebSocket upgrade before it refuses a connection (4401 bad token, 4502 gateway
// full), so an open socket proves nothing: the attempt counter restarts only once a down message other
// than STATUS has arrived, or the connection stayed open for STABLE_MS. Every connection uses a freshly
// fetched single-use stream token; a 4401 right after one still counts as an attempt.

/** WebSocket close codes after which reconnecting cannot help (io.deskgate.common.Status wsCloseCode). */
export const FATAL_CLOSE_CODES = new Map([
  [4400, 'bad request'], [4403, 'not allowed'], [4404, 'session not found'], [4410, 'the session has ended'],
  [1002, 'protocol error'], [1009, 'message too large'], [4503, 'no desktop available'],
]);
export const RETRY_CLOSE_REASONS = new Map([
  [1001, 'the gateway went away'], [1006, 'connection lost'], [1011, 'server error'], [4401, 'token expired'],
  [4502, 'an upstream service is unavailable'],
]);
/** Close 1000 with a reason starting so: another viewer attached to the session; fighting back is futile. */
export const REPLACED_REASON_PREFIX = 'replaced';

export const MAX_ATTEMPTS = 8;
export const FIRST_BACKOFF_MS = 500;
export const MAX_BACKOFF_MS = 10_000;
/** A connection open this long counts as established even if the desktop sent nothing. */
export const STABLE_MS = 15_000;

/** True when a close with this code and reason must not be answered by reconnecting. */
export function isFatalClose(code, reason = '') {
  return FATAL_CLOSE_CODES.has(code) || (code === 1000 && reason.startsWith(REPLACED_REASON_PREFIX));
}

/** The text shown for a close: the gateway's reason, else the last STATUS text, else the code's meaning. */
export function closeText(code, reason = '', lastStatusText = '') {
  return reason || lastStatusText || FATAL_CLOSE_CODES.get(code) || RETRY_CLOSE_REASONS.get(code) || `closed (${code})`;
}

/**
 * The reconnect policy of one viewer. Not thread-safe (the browser has one thread); times are
 * milliseconds from any monotonic clock (performance.now()).
 */
export class ReconnectPolicy {
  constructor({ maxAttempts = MAX_ATTEMPTS, firstBackoffMs = FIRST_BACKOFF_MS, maxBackoffMs = MAX_BACKOFF_MS,
    stableMs = STABLE_MS } = {}) {
    this.maxAttempts = maxAttempts;
    this.firstBackoffMs = firstBackoffMs;
    this.maxBackoffMs = maxBackoffMs;
    this.stableMs = stableMs;
    /** Failed connections since the last established one. */
    this.attempt = 0;
    this.openedAtMs = null;
    this.established = false;
  }

  /** A WebSocket opened (upgrade done); the gateway may still refuse it. */
  opened(nowMs) {
    this.openedAtMs = nowMs;
    this.established = false;
  }

  /** A down message of the given type ('tile', 'status', ...) arrived on the open connection. */
  received(type) {
    if (type !== 'status' && !this.established) {
      this.established = true;
      this.attempt = 0;
    }
  }

  /**
   * The connection closed (or could not be made: a failed token fetch reports code 1006).
   * @return {{retry: false, why: string} | {retry: true, why: string, delayMs: number, attempt: number}}
   */
  closed(code, reason, lastStatusText, nowMs) {
    if (!this.established && this.openedAtMs !== null && nowMs - this.openedAtMs >= this.stableMs) this.attempt = 0;
    this.openedAtMs = null;
    this.established = false;
    const why = closeText(code, reason, lastStatusText);
    if (isFatalClose(code, reason)) return { retry: false, why };
    if (this.attempt >= this.maxAttempts) {
      return { retry: false, why: `${why} (gave up after ${this.maxAttempts} attempts)` };
    }
    this.attempt += 1;
    const delayMs = Math.min(this.maxBackoffMs, this.firstBackoffMs * 2 ** (this.attempt - 1));
    return { retry: true, why, delayMs, attempt: this.attempt };
  }
}
