// Checks web/js/reconnect.js: when the viewer reconnects, with what backoff, and when it gives up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const { ReconnectPolicy, isFatalClose, closeText, MAX_ATTEMPTS } = await import(
  path.join(here, '../../main/resources/web/js/reconnect.js'));

test('a gateway that completes the upgrade and then refuses (4502) is given up on after MAX_ATTEMPTS', () => {
  const p = new ReconnectPolicy();
  let now = 0;
  const delays = [];
  for (;;) {
    p.opened(now);
    now += 5;
    const next = p.closed(4502, 'gateway full', '', now);
    if (!next.retry) {
      assert.equal(next.why, `gateway full (gave up after ${MAX_ATTEMPTS} attempts)`);
      break;
    }
    delays.push(next.delayMs);
    now += next.delayMs;
    assert.ok(delays.length <= MAX_ATTEMPTS, 'the loop stops');
  }
  assert.equal(delays.length, MAX_ATTEMPTS);
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
});

test('a 4401 right after a freshly fetched token counts as an attempt', () => {
  const p = new ReconnectPolicy({ maxAttempts: 2 });
  p.opened(0);
  assert.equal(p.closed(4401, 'invalid or expired token', '', 1).attempt, 1);
  p.opened(600);
  assert.equal(p.closed(4401, 'invalid or expired token', '', 601).attempt, 2);
  p.opened(2000);
  const last = p.closed(4401, '', '', 2001);
  assert.equal(last.retry, false);
  assert.match(last.why, /token expired \(gave up after 2 attempts\)/);
});

test('the first drawable down message restarts the count; a STATUS alone does not', () => {
  const p = new ReconnectPolicy({ maxAttempts: 3 });
  p.opened(0); p.closed(1006, '', '', 1);
  p.opened(10); p.received('status'); assert.equal(p.closed(1006, '', '', 11).attempt, 2);
  p.opened(20); p.received('tile'); assert.equal(p.attempt, 0);
  const next = p.closed(1006, '', '', 21);
  assert.deepEqual([next.retry, next.attempt, next.delayMs], [true, 1, 500]);
});

test('a connection that stayed open for STABLE_MS restarts the count even without a message', () => {
  const p = new ReconnectPolicy({ maxAttempts: 8, stableMs: 15_000 });
  p.opened(0); p.closed(1006, '', '', 1);
  p.opened(10); p.closed(1006, '', '', 20);
  p.opened(100);
  assert.equal(p.closed(1006, '', '', 14_000).attempt, 3);
  p.opened(20_000);
  assert.equal(p.closed(1006, '', '', 35_000).attempt, 1);
});

test('close 1000 "replaced ..." is fatal: another viewer took the session, its reason is shown', () => {
  const p = new ReconnectPolicy();
  p.opened(0); p.received('tile');
  const next = p.closed(1000, 'replaced by a newer connection to this session', '', 5);
  assert.deepEqual(next, { retry: false, why: 'replaced by a newer connection to this session' });
  assert.equal(isFatalClose(1000, 'replaced by a newer connection to this session'), true);
  assert.equal(isFatalClose(1000, 'bye'), false);
});

test('fatal close codes stop at once; retryable ones retry', () => {
  for (const code of [4400, 4403, 4404, 4410, 1002, 1009, 4503]) {
    const p = new ReconnectPolicy();
    p.opened(0);
    assert.equal(p.closed(code, '', '', 1).retry, false, `code ${code}`);
  }
  for (const code of [1001, 1006, 1011, 4401, 4502]) {
    const p = new ReconnectPolicy();
    p.opened(0);
    assert.equal(p.closed(code, '', '', 1).retry, true, `code ${code}`);
  }
});

test('the shown reason prefers the close reason, then the last STATUS text, then the code', () => {
  assert.equal(closeText(4410, 'the desktop stream ended', 'x'), 'the desktop stream ended');
  assert.equal(closeText(1006, '', 'desktop unreachable'), 'desktop unreachable');
  assert.equal(closeText(4410, '', ''), 'the session has ended');
  assert.equal(closeText(4999, '', ''), 'closed (4999)');
});

test('a failed token fetch (reported as 1006 without a connection) counts as an attempt', () => {
  const p = new ReconnectPolicy({ maxAttempts: 1 });
  p.opened(0);
  assert.equal(p.closed(1006, '', '', 1).retry, true);
  assert.equal(p.closed(1006, 'token refresh failed (503)', '', 600).retry, false);
});
