// The portal: login, the user's desktops, and the viewer. Plain ES modules, no framework.
import { Viewer } from './viewer.js';

// Counters since the page loaded (read by tests and `deskgate bench client`): frames drawn, bytes received on the
// stream's WebSocket (binary messages' payloads, every connection of the page).
window.deskgate = { framesDrawn: 0, bytesReceived: 0 };

const $ = (sel) => document.querySelector(sel);
const views = ['#login-view', '#desktops-view', '#viewer-view'];
let viewer = null;

function show(view) {
  for (const v of views) $(v).hidden = v !== view;
}

async function api(method, path, body) {
  const init = { method, headers: {}, credentials: 'same-origin' };
  // The API refuses a state-changing call without a JSON content type (a cross-site form cannot send one).
  if (method !== 'GET' && method !== 'HEAD') {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body === undefined ? {} : body);
  }
  return fetch(path, init);
}

async function errorText(res) {
  try {
    return (await res.json()).error || `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

async function start() {
  $('#login-form').addEventListener('submit', onLogin);
  $('#logout').addEventListener('click', onLogout);
  $('#refresh').addEventListener('click', loadDesktops);
  $('#new-desktop').addEventListener('click', () => open(null, null));
  $('#leave').addEventListener('click', () => leave());
  $('#end').addEventListener('click', () => endSession());
  // A link may name the organization (tenant): https://portal/?tenant=acme fills the field.
  const linked = new URLSearchParams(location.search).get('tenant');
  if (linked) $('#tenant').value = linked;
  const me = await api('GET', '/api/me');
  if (me.ok) {
    await enter(await me.json());
  } else {
    show('#login-view');
    $('#username').focus();
  }
}

async function onLogin(e) {
  e.preventDefault();
  const error = $('#login-error');
  error.textContent = '';
  const res = await api('POST', '/api/login',
    { tenant: $('#tenant').value.trim(), username: $('#username').value, password: $('#password').value });
  if (res.ok) {
    $('#password').value = '';
    await enter(await res.json());
  } else {
    error.textContent = res.status === 401 ? 'Invalid organization, username or password' : await errorText(res);
  }
}

async function onLogout() {
  await api('POST', '/api/logout');
  show('#login-view');
}

// `who`: the answer of /api/me or /api/login ({username, tenant}); the tenant is shown unless it is the default.
async function enter(who) {
  $('#whoami').textContent = who.tenant && who.tenant !== 'default' ? `${who.username} (${who.tenant})` : who.username;
  show('#desktops-view');
  await loadDesktops();
}

// One section per pool the user is entitled to: its desktops they may open (free ones and their own) and a
// button for any free desktop of that pool.
async function loadDesktops() {
  const list = $('#desktops');
  const message = $('#desktops-error');
  message.textContent = '';
  // The list on screen is stale until the new one arrives: its buttons may name a session that has changed since.
  list.setAttribute('aria-busy', 'true');
  for (const b of list.querySelectorAll('button')) b.disabled = true;
  const res = await api('GET', '/api/pools');
  if (res.status === 401) { show('#login-view'); return; }
  if (!res.ok) { message.textContent = await errorText(res); return; }
  const { pools } = await res.json();
  list.replaceChildren();
  list.setAttribute('aria-busy', 'false');
  let count = 0;
  for (const pool of pools) {
    const header = document.createElement('li');
    header.className = 'pool';
    header.dataset.pool = pool.name;
    const title = document.createElement('span');
    title.className = 'pool-name';
    title.textContent = pool.name;
    const any = document.createElement('button');
    any.className = 'open-pool';
    any.type = 'button';
    any.textContent = 'Any desktop';
    any.addEventListener('click', () => open(null, pool.name));
    header.append(title, any);
    list.append(header);
    for (const d of pool.desktops) {
      list.append(desktopItem(d, pool.name));
      count++;
    }
  }
  if (pools.length === 0) message.textContent = 'You are not entitled to any pool of desktops.';
  else if (count === 0) message.textContent = 'No desktop is available right now.';
}

function desktopItem(d, poolName) {
  const li = document.createElement('li');
  li.className = 'desktop';
  li.dataset.id = d.id;
  li.dataset.pool = poolName;
  li.dataset.state = d.state.toLowerCase();
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = d.width > 0 ? `${d.id} (${d.width}×${d.height})` : d.id; // a sharded broker lists no sizes
  const state = document.createElement('span');
  state.className = 'state';
  state.textContent = d.state.toLowerCase().replace('_', ' ');
  const button = document.createElement('button');
  button.className = 'open';
  button.type = 'button';
  button.textContent = d.mine ? 'Reconnect' : 'Open';
  button.addEventListener('click', () => open(d.id, poolName, d.sessionId));
  li.append(name, state, button);
  return li;
}

// The statuses of POST /api/sessions/{id}/connections after which the portal launches on the desktop instead: the
// session has ended (404, 410) or its engine or gateway no longer runs (502).
const CONNECTION_GONE = [404, 410, 502];

// Without a pool the portal picks the default pool (or the user's only one). A desktop the user already has a
// session on (the list names its sessionId: it is open in another tab, or was left) opens as another connection of
// that session, POST /api/sessions/{id}/connections: its own transcoding instance on the session's engine, its own
// stream token and gateway. The first open (and an open after that session ended) launches: POST /api/sessions.
async function open(desktopId, pool, sessionId) {
  const message = $('#desktops-error');
  message.textContent = 'Starting…';
  const body = {};
  if (desktopId) body.desktopId = desktopId;
  if (pool) body.pool = pool;
  let res = null;
  if (sessionId) {
    res = await api('POST', `/api/sessions/${encodeURIComponent(sessionId)}/connections`);
    if (CONNECTION_GONE.includes(res.status)) res = null;
  }
  if (res === null) res = await api('POST', '/api/sessions', body);
  if (res.status === 401) { show('#login-view'); return; }
  if (!res.ok) { message.textContent = await errorText(res); return; }
  message.textContent = '';
  const launch = await res.json();
  // What this tab opened, for tests and support: the session and, for a further connection, its instance.
  window.deskgate.opened = { sessionId: launch.sessionId, desktopId: launch.desktopId, instanceId: launch.instanceId || '' };
  show('#viewer-view');
  viewer = new Viewer({
    canvas: $('#screen'),
    status: $('#status'),
    paste: $('#clip-paste'),
    copy: $('#clip-copy'),
    statsToggle: $('#stats-toggle'),
    indicator: $('#indicator'),
    api,
    onLeave: (why) => { leave(); if (why === 'login') show('#login-view'); },
  }, launch);
}

function leave() {
  if (viewer) viewer.close();
  viewer = null;
  show('#desktops-view');
  loadDesktops();
}

async function endSession() {
  if (!viewer) return;
  const id = viewer.session.sessionId;
  viewer.close();
  viewer = null;
  await api('DELETE', `/api/sessions/${encodeURIComponent(id)}`);
  show('#desktops-view');
  loadDesktops();
}

start();
