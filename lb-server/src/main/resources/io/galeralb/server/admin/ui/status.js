// galera-lb's status page: polls GET /status and draws each listener with its servers. Elements
// are kept between polls (keyed by listener and server) so that focus and selection survive an
// update. Every value from /status is written with textContent, never as HTML.
'use strict';

const POLL_MS = 2000;
const TOKEN_KEY = 'galera-lb-admin-token';
const sections = new Map();
let lastSuccess = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') {
      e.className = v;
    } else {
      e.setAttribute(k, v);
    }
  }
  for (const c of children) {
    e.append(c);
  }
  return e;
}

// Puts child at index i of parent unless it is there already: moving a node would take the
// keyboard focus away from the button inside it.
function place(parent, child, i) {
  if (parent.children[i] !== child) {
    parent.insertBefore(child, parent.children[i] || null);
  }
}

function setText(e, text) {
  if (e.textContent !== text) {
    e.textContent = text;
  }
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Number(n) || 0;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return (i === 0 ? String(v) : v.toFixed(1)) + ' ' + units[i];
}

function ago(iso) {
  if (!iso) {
    return '-';
  }
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) {
    return s + ' s ago';
  }
  if (s < 3600) {
    return Math.floor(s / 60) + ' min ago';
  }
  if (s < 86400) {
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min ago';
  }
  return Math.floor(s / 86400) + ' d ago';
}

function showMessage(text, ok) {
  const m = document.getElementById('message');
  m.className = 'message ' + (ok ? 'ok' : 'error');
  m.textContent = text;
  m.hidden = false;
}

// The token, asked once per tab: a dialog, resolved with the token or null when cancelled.
function askToken() {
  const dialog = document.getElementById('token-dialog');
  const form = document.getElementById('token-form');
  const input = document.getElementById('token-input');
  const cancel = document.getElementById('token-cancel');
  return new Promise(resolve => {
    const done = value => {
      form.removeEventListener('submit', submit);
      cancel.removeEventListener('click', cancelled);
      dialog.removeEventListener('cancel', cancelled);
      dialog.close();
      input.value = '';
      resolve(value);
    };
    const submit = e => {
      e.preventDefault();
      done(input.value.trim() || null);
    };
    const cancelled = e => {
      e.preventDefault();
      done(null);
    };
    form.addEventListener('submit', submit);
    cancel.addEventListener('click', cancelled);
    dialog.addEventListener('cancel', cancelled);
    dialog.showModal();
    input.focus();
  });
}

// POSTs with the token; a refused token is forgotten, so the next action asks again.
async function post(path, body, what) {
  let token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    token = await askToken();
    if (!token) {
      showMessage(what + ': cancelled, nothing changed.', false);
      return;
    }
  }
  let response;
  try {
    response = await fetch(path, {
      method: 'POST',
      headers: {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'},
      body: JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (e) {
    showMessage(what + ': the admin API did not answer (' + e.message + ').', false);
    return;
  }
  const type = response.headers.get('Content-Type') || '';
  const text = await response.text();
  let message = text.trim();
  if (type.startsWith('application/json')) {
    try {
      message = JSON.parse(text).message || message;
    } catch (e) {
      // keep the raw text
    }
  }
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    showMessage(what + ': the admin token was refused; nothing changed. ' + message, false);
    return;
  }
  if (!response.ok || message.split('\n').pop().startsWith('failed:')) {
    showMessage(what + ': ' + message, false);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  showMessage(what + ': ' + message, true);
  refresh();
}

async function act(button, path, body, what, confirmText) {
  if (confirmText && !window.confirm(confirmText)) {
    return;
  }
  button.disabled = true;
  try {
    await post(path, body, what);
  } finally {
    button.disabled = false;
  }
}

function serverRow(listener, name) {
  const cells = {};
  const row = el('tr', {'data-server': name});
  cells.name = el('th', {scope: 'row'});
  cells.address = el('td');
  cells.state = el('span', {class: 'state'});
  cells.slowstart = el('span', {class: 'slowstart'});
  cells.reason = el('td', {class: 'reason'});
  cells.sessions = el('td', {class: 'num sessions'});
  cells.bytes = el('td', {class: 'num'});
  cells.changed = el('time');
  const path = '/servers/' + encodeURIComponent(listener) + '/' + encodeURIComponent(name) + '/state';
  const actions = el('td', {class: 'actions'});
  for (const [state, label, confirmText] of [
    ['drain', 'Drain', null],
    ['ready', 'Ready', null],
    ['maint', 'Maint', 'Put ' + name + ' of ' + listener + ' in MAINT? Its open sessions are closed.'],
  ]) {
    const b = el('button', {type: 'button', 'data-action': state, 'aria-label': label + ' ' + name + ' of ' + listener},
      label);
    b.addEventListener('click', () => act(b, path, {state: state}, listener + '/' + name + ' ' + state, confirmText));
    actions.append(b);
  }
  row.append(cells.name, cells.address, el('td', {}, cells.state, ' ', cells.slowstart), cells.reason, cells.sessions, cells.bytes,
    el('td', {}, cells.changed), actions);
  return {row, cells};
}

function listenerSection(name) {
  const s = {servers: new Map()};
  s.section = el('section', {'data-listener': name, 'aria-labelledby': 'listener-' + name});
  s.title = el('h2', {id: 'listener-' + name});
  s.meta = el('p', {class: 'listener-meta'});
  s.writer = el('p', {class: 'writer', hidden: ''});
  s.switchover = el('div', {class: 'switchover', hidden: ''});
  const select = el('select', {id: 'switchover-' + name});
  const button = el('button', {type: 'button', 'data-action': 'switchover'}, 'Switch over');
  button.addEventListener('click', () => act(button, '/listeners/' + encodeURIComponent(name) + '/switchover',
    {to: select.value, timeout: '30s'}, name + ' switchover to ' + select.value,
    'Move the writer of ' + name + ' to ' + select.value + '?'));
  s.switchover.append(el('label', {for: 'switchover-' + name}, 'New writer: '), select, ' ', button);
  s.select = select;
  s.body = el('tbody');
  const head = el('tr');
  for (const h of ['Server', 'Address', 'State', 'Reason', 'Sessions now / max', 'Bytes in / out', 'Last change',
    'Actions']) {
    head.append(el('th', {scope: 'col'}, h));
  }
  s.section.append(s.title, s.meta, s.writer, s.switchover,
    el('table', {}, el('caption', {class: 'visually-hidden'}, 'Servers of ' + name), el('thead', {}, head), s.body));
  return s;
}

function renderWriter(s, l) {
  const w = l.writer;
  s.writer.hidden = !w;
  s.switchover.hidden = !w;
  if (!w) {
    return;
  }
  let text = w.server ? 'Writer: ' + w.server + ' since ' + ago(w.since) + ' (' + w.reason + ')'
    : 'NO WRITER: ' + w['no-writer-reason'];
  if (w.lease) {
    text += '. Lease: ' + w.lease.writer + ', epoch ' + w.lease.epoch + ', set ' + ago(w.lease.changed) + ' by '
      + w.lease.holder;
  }
  if (w['lease-error']) {
    text += '. Lease error: ' + w['lease-error'];
  }
  setText(s.writer, text);
  s.writer.className = 'writer' + (w.server ? '' : ' none');
  const names = l.servers.map(x => x.name);
  const current = Array.from(s.select.options).map(o => o.value);
  if (names.join('\n') !== current.join('\n')) {
    const chosen = s.select.value;
    s.select.replaceChildren(...names.map(n => el('option', {value: n}, n)));
    if (names.includes(chosen)) {
      s.select.value = chosen;
    }
  }
}

function render(status) {
  const pending = status['reload-pending'];
  const process = document.getElementById('process');
  process.replaceChildren(
    'galera-lb ' + status.version + ', PID ' + status.pid + ', up since ' + status.started
    + '. Config ' + status.config + ', generation ' + status.generation + ', sha256 '
    + String(status.sha256).slice(0, 12) + ', loaded ' + ago(status.loaded) + '. ');
  if (pending === true) {
    process.append(el('span', {class: 'pending'}, 'Reload pending: the file on disk differs.'));
  } else if (pending === null) {
    process.append(el('span', {class: 'pending'}, 'The file on disk cannot be read.'));
  }
  const main = document.getElementById('listeners');
  const seen = new Set();
  status.listeners.forEach((l, li) => {
    seen.add(l.name);
    let s = sections.get(l.name);
    if (!s) {
      s = listenerSection(l.name);
      sections.set(l.name, s);
    }
    place(main, s.section, li);
    setText(s.title, 'Listener ' + l.name);
    setText(s.meta, l.bind + ', balance ' + l.balance + ', ' + l.sessions + ' session(s) of at most '
      + l['max-connections']);
    renderWriter(s, l);
    const seenServers = new Set();
    l.servers.forEach((srv, si) => {
      seenServers.add(srv.name);
      let r = s.servers.get(srv.name);
      if (!r) {
        r = serverRow(l.name, srv.name);
        s.servers.set(srv.name, r);
      }
      place(s.body, r.row, si);
      const c = r.cells;
      setText(c.name, srv.name);
      const to = srv['connects-to'];
      setText(c.address, to && !srv.address.startsWith(to.substring(0, to.lastIndexOf(':')) + ':')
        ? srv.address + ' (' + to + ')' : srv.address);
      setText(c.state, srv.state);
      c.state.className = 'state state-' + srv.state;
      const share = srv['weight-share'];
      setText(c.slowstart, share < 1 ? 'slow start: ' + Math.round(share * 100) + '% of its weight' : '');
      setText(c.reason, (srv.reason || '') + (srv['address-problem'] ? '; ' + srv['address-problem'] : ''));
      setText(c.sessions, srv.sessions + ' / ' + srv['max-sessions']);
      setText(c.bytes, bytes(srv['bytes-in']) + ' / ' + bytes(srv['bytes-out']));
      setText(c.changed, ago(srv['last-change']));
      if (srv['last-change']) {
        c.changed.setAttribute('datetime', srv['last-change']);
        c.changed.title = srv['last-change'];
      }
    });
    for (const [name, r] of s.servers) {
      if (!seenServers.has(name)) {
        r.row.remove();
        s.servers.delete(name);
      }
    }
  });
  for (const [name, s] of sections) {
    if (!seen.has(name)) {
      s.section.remove();
      sections.delete(name);
    }
  }
}

function showFreshness(error) {
  const f = document.getElementById('freshness');
  if (error) {
    f.className = 'freshness stale';
    setText(f, 'Not updated' + (lastSuccess ? ' since ' + lastSuccess.toLocaleTimeString() : '') + ': ' + error);
  } else {
    f.className = 'freshness';
    setText(f, 'Updated ' + lastSuccess.toLocaleTimeString());
  }
}

let timer = null;
let inFlight = false;

// One poll at a time; a change made on the page asks for one at once.
async function refresh() {
  if (inFlight) {
    return;
  }
  inFlight = true;
  clearTimeout(timer);
  try {
    const r = await fetch('/status', {cache: 'no-store'});
    if (!r.ok) {
      throw new Error('GET /status answered ' + r.status);
    }
    render(await r.json());
    lastSuccess = new Date();
    showFreshness(null);
  } catch (e) {
    showFreshness(e.message);
  } finally {
    inFlight = false;
    timer = setTimeout(refresh, POLL_MS);
  }
}

document.addEventListener('DOMContentLoaded', refresh);
