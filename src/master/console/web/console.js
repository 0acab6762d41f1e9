// The console page: one state object from /api/events (or /api/state when the stream is
// down), drawn into the map and the file list. No framework, no build step; every string
// from the cluster goes in through textContent, never as markup.
const SVG = 'http://www.w3.org/2000/svg';
const POLL_MS = 2000;

let state = null;
let selectedServer = null;
let selectedFile = null;

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children) node.append(c);
  return node;
}

function bytes(n) {
  if (n === null || n === undefined) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

function say(text, ok = false) {
  const m = $('message');
  m.textContent = text;
  m.className = ok ? 'ok' : '';
  m.hidden = false;
}

/** Fetch that turns an HTTP error into the API's own words. */
async function api(method, url, body) {
  // The proof that a change comes from this page (docs/security.md, "The HTTP side").
  const res = await fetch(url, { method, body, headers: { 'x-gfs-console': '1' } });
  const data = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (!res.ok) throw new Error(data?.message ?? `${method} ${url}: HTTP ${res.status}`);
  return data;
}

const fileUrl = (route, path) => `${route}?path=${encodeURIComponent(path)}`;

function drawMap() {
  const svg = $('map');
  svg.replaceChildren();
  for (let v = 0; v <= 100; v += 20) {
    svg.append(el('svg:line', { class: 'grid', x1: v, y1: 0, x2: v, y2: 100 }), el('svg:line', { class: 'grid', x1: 0, y1: v, x2: 100, y2: v }));
  }
  const placed = state.servers.filter((s) => s.x !== null);
  const largest = Math.max(1, ...placed.map((s) => s.total ?? 0));
  for (const s of placed) {
    const r = 2.5 + 5.5 * Math.sqrt((s.total ?? 0) / largest);
    const usedShare = s.total ? Math.min(1, (s.used ?? 0) / s.total) : 0;
    const title = `${s.address} (${s.state})\nchunks: ${s.chunks}\nused: ${bytes(s.used)} of ${bytes(s.total)}`;
    const g = el('svg:g', {
      class: `server ${s.state}${selectedServer === s.address ? ' selected' : ''}`,
      'data-address': s.address,
      'data-state': s.state,
      transform: `translate(${clamp(s.x)} ${100 - clamp(s.y)})`,
      onclick: () => { selectedServer = s.address; render(); },
    },
    el('svg:title', { text: title }),
    el('svg:circle', { class: 'body', r }),
    el('svg:circle', { class: 'fill', r: r * Math.sqrt(usedShare) }),
    el('svg:text', { y: r + 3.2, 'text-anchor': 'middle', text: s.address }));
    svg.append(g);
  }
  for (const c of state.clients) {
    svg.append(el('svg:rect', { class: 'client', x: clamp(c.x) - 1.2, y: 100 - clamp(c.y) - 1.2, width: 2.4, height: 2.4 }, el('svg:title', { text: `client ${c.client_id}` })));
  }
  const detail = $('server-detail');
  const s = state.servers.find((x) => x.address === selectedServer);
  detail.hidden = !s;
  if (s) {
    detail.replaceChildren(
      el('strong', { text: s.address }), ' ', el('span', { class: `health ${s.state}`, text: s.state }),
      el('div', { text: `position: ${s.x === null ? 'unknown (never registered here)' : `(${s.x}, ${s.y})`}` }),
      el('div', { text: `chunks: ${s.chunks} · used ${bytes(s.used)} of ${bytes(s.total)}` }),
    );
    if (s.state === 'decommissioning' && s.decommission_remaining !== undefined) {
      detail.append(el('div', { class: 'decommission', text: s.decommission_remaining === 0
        ? 'decommissioned: every chunk has its copies elsewhere; the server may be stopped'
        : `decommissioning: ${s.decommission_remaining} chunk(s) still to be copied elsewhere` }));
    }
  }
}

const clamp = (v) => Math.max(0, Math.min(100, Number(v) || 0));

function drawFiles() {
  const prefix = $('file-filter').value;
  const tbody = $('files').querySelector('tbody');
  tbody.replaceChildren();
  for (const f of state.files.filter((x) => x.path.startsWith(prefix))) {
    const actions = el('td', {},
      el('a', { href: fileUrl('/api/file/data', f.path), download: '', class: 'download', text: 'download', onclick: (e) => e.stopPropagation() }), ' ',
      el('button', { type: 'button', class: 'delete', text: 'delete', onclick: (e) => { e.stopPropagation(); remove(f.path); } }));
    tbody.append(el('tr', { 'data-path': f.path, class: selectedFile === f.path ? 'selected' : '', onclick: () => { selectedFile = f.path; render(); } },
      el('td', { class: 'path', text: f.path }), el('td', { text: bytes(f.size) }), el('td', { text: f.chunks }),
      el('td', {}, el('span', { class: `health ${f.health}`, text: f.health.replace('_', ' ') })), actions));
  }
}

async function drawFileDetail() {
  const box = $('file-detail');
  if (!selectedFile || !state.files.some((f) => f.path === selectedFile)) {
    box.hidden = true;
    return;
  }
  let file;
  try {
    file = await api('GET', fileUrl('/api/file', selectedFile));
  } catch {
    box.hidden = true;
    return;
  }
  const rows = file.chunks.map((c) => el('tr', { 'data-chunk': c.chunk_id },
    el('td', { text: c.index }), el('td', {}, el('code', { text: c.chunk_id.slice(0, 16) + '…' })), el('td', { text: bytes(c.size) }),
    el('td', { class: 'holders' }, ...c.holders.flatMap((h) => [el('span', { class: `health ${h.state}`, 'data-holder': h.address, text: h.address }), ' '])),
    el('td', {}, el('span', { class: `health ${c.health}`, text: `${c.health.replace('_', ' ')} (${c.live_copies}/${state.replication_factor})` }))));
  $('file-detail-body').replaceChildren(
    el('strong', { text: file.path }), ` · ${bytes(file.size)} · ${file.chunks.length} chunk(s)`,
    el('table', { id: 'chunks' }, el('thead', {}, el('tr', {}, ...['#', 'Chunk', 'Size', 'Holders', 'Health'].map((h) => el('th', { text: h })))), el('tbody', {}, ...rows)),
  );
  box.hidden = false;
}

// What each part was last drawn from: a part is redrawn only when its inputs change, so a
// control the user is about to click is not replaced under the pointer.
const drawn = { map: '', files: '', detail: '' };

function redraw(part, inputs, draw) {
  const key = JSON.stringify(inputs);
  if (drawn[part] === key) return;
  drawn[part] = key;
  draw();
}

function render() {
  if (!state) return;
  const t = state.totals;
  const leaving = t.servers.decommissioning ? `${t.servers.decommissioning} decommissioning, ` : '';
  $('summary').textContent = `${t.servers.live} live, ${leaving}${t.servers.dead} dead servers · ${t.files} files, ${t.chunks} chunks` +
    ` (${t.chunksByHealth.under_replicated} under-replicated, ${t.chunksByHealth.lost} lost) · ${bytes(t.capacity.free)} free of ${bytes(t.capacity.total)}`;
  redraw('map', [state.servers, state.clients, selectedServer], drawMap);
  redraw('files', [state.files, selectedFile, $('file-filter').value], drawFiles);
  redraw('detail', [selectedFile, state.files.find((f) => f.path === selectedFile), state.servers.map((x) => x.state)], () => void drawFileDetail());
}

function upload(file, path) {
  const bar = $('upload-progress');
  const status = $('upload-status');
  bar.hidden = false;
  bar.value = 0;
  status.textContent = `sending ${file.name}…`;
  // XMLHttpRequest, not fetch: only it reports upload progress.
  const xhr = new XMLHttpRequest();
  xhr.open('PUT', fileUrl('/api/file', path) + `&upload_id=${encodeURIComponent(path)}`);
  xhr.setRequestHeader('x-gfs-console', '1');
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
  xhr.onload = () => {
    let body = null;
    try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
    if (xhr.status >= 200 && xhr.status < 300) {
      bar.value = 1;
      status.textContent = `${path} stored`;
      say(`Uploaded ${path} (${bytes(file.size)}).`, true);
      selectedFile = path;
      void refresh();
    } else {
      status.textContent = 'upload failed';
      say(`Upload of ${path} failed: ${body?.message ?? `HTTP ${xhr.status}`}`);
    }
  };
  xhr.onerror = () => { status.textContent = 'upload failed'; say(`Upload of ${path} failed: the master could not be reached.`); };
  xhr.send(file);
}

async function append(path, file) {
  if (!file) return say('Choose a file whose bytes to append first.');
  try {
    await api('POST', fileUrl('/api/file/append', path), file);
    say(`Appended ${bytes(file.size)} to ${path}.`, true);
    void refresh();
  } catch (err) {
    say(`Append to ${path} failed: ${err.message}`);
  }
}

async function remove(path) {
  try {
    await api('DELETE', fileUrl('/api/file', path));
    say(`Deleted ${path}.`, true);
    if (selectedFile === path) selectedFile = null;
    void refresh();
  } catch (err) {
    say(`Delete of ${path} failed: ${err.message}`);
  }
}

async function refresh() {
  try {
    state = await api('GET', '/api/state');
    render();
  } catch (err) {
    $('summary').textContent = `cannot reach the master: ${err.message}`;
  }
}

let pollTimer = null;
function listen() {
  const source = new EventSource('/api/events');
  source.addEventListener('state', (e) => {
    state = JSON.parse(e.data);
    $('live-status').textContent = 'live updates: on';
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
    render();
  });
  source.addEventListener('progress', (e) => {
    const p = JSON.parse(e.data);
    if (p.total > 0) $('upload-status').textContent = `stored ${bytes(p.stored)} of ${bytes(p.total)} on the chunk servers`;
  });
  source.onerror = () => {
    // EventSource reconnects by itself; until it does, poll.
    $('live-status').textContent = 'live updates: reconnecting (polling)';
    pollTimer ??= setInterval(refresh, POLL_MS);
  };
}

$('upload-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const file = $('upload-file').files[0];
  if (!file) return say('Choose a file to upload first.');
  const path = $('upload-path').value.trim() || `/${file.name}`;
  upload(file, path);
});
$('file-filter').addEventListener('input', () => render());
$('append-form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (selectedFile) void append(selectedFile, $('append-file').files[0]);
});
void refresh();
listen();
