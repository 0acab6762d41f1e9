// The console page: one state object from /api/events (or /api/state when the stream is
// down) drawn into the map and the server table, and the namespace a folder page at a time.
// No framework, no build step. When the master cannot be reached the page says so, and
// from when the data it still shows is.
import { $, api, fileUrl, say } from './dom.js';
import { bytes, clock } from './format.js';
import { drawFileDetail, drawFiles, files, folderOf, initFiles, load, open } from './files.js';
import { drawMap, drawServerTable } from './servers.js';

const POLL_MS = 2000;

let state = null;
/** When the state shown arrived (the browser's clock). */
let stateAt = null;
let reachable = true;
let selectedServer = null;

function select(address) {
  selectedServer = address;
  render();
}

// What each part was last drawn from: a part is redrawn only when its inputs change, so a
// control the user is about to click is not replaced under the pointer.
const drawn = { map: '', servers: '', files: '', detail: '', listing: '' };

function redraw(part, inputs, draw) {
  const key = JSON.stringify(inputs);
  if (drawn[part] === key) return;
  drawn[part] = key;
  draw();
}

function drawReachability() {
  const banner = $('stale');
  banner.hidden = reachable;
  document.body.classList.toggle('stale', !reachable);
  if (!reachable) banner.textContent = stateAt === null ? 'Master unreachable, no data yet.' : `Master unreachable, showing data from ${clock(stateAt)}.`;
  const name = state ? `GFS console · ${state.master}` : 'GFS console';
  document.title = reachable ? name : `(unreachable) ${name}`;
  if (state) $('cluster-name').textContent = state.master;
  drawRole();
}

// Several masters over etcd (master_status): which one leads. A standby's page shows no
// servers (they report to the leader), so it names the leader to go to instead.
function drawRole() {
  const role = $('master-role');
  role.hidden = !state || state.role === 'single' || state.role === undefined;
  if (role.hidden) return;
  if (state.role === 'leader') role.textContent = `leader since ${clock(state.leader_since)}`;
  else role.textContent = state.leader ? `standby: the leader is ${state.leader}` : 'standby: no leader (an election is under way)';
}

function render() {
  drawReachability();
  if (!state) return;
  const t = state.totals;
  const leaving = t.servers.decommissioning ? `${t.servers.decommissioning} decommissioning, ` : '';
  $('summary').textContent = `${t.servers.live} live, ${leaving}${t.servers.dead} dead servers · ${t.files} files, ${t.chunks} chunks` +
    ` (${t.chunksByHealth.under_replicated} under-replicated, ${t.chunksByHealth.lost} lost) · ${bytes(t.capacity.free)} free of ${bytes(t.capacity.total)}`;
  redraw('map', [state.servers, state.clients, selectedServer], () => drawMap(state, selectedServer, select));
  // The heartbeat column says "n s ago": redrawn every second as well.
  redraw('servers', [state.servers, selectedServer, Math.floor(Date.now() / 1000)], () => drawServerTable(state, selectedServer, select));
  // The namespace is read again when what the state says of it changes.
  redraw('listing', [t.files, t.chunks, t.chunksByHealth, t.capacity.used, state.servers.map((s) => [s.address, s.state])], () => void load());
  const entry = files.page?.entries.find((e) => e.path === files.selected);
  redraw('files', [files.page, files.selected, files.confirming], () => drawFiles(remove));
  redraw('detail', [files.selected, entry, state.servers.map((x) => x.state)], () => void drawFileDetail(state.replication_factor));
}

function fresh(next) {
  state = next;
  stateAt = Date.now();
  reachable = true;
  render();
}

function upload(file, path) {
  const bar = $('upload-progress');
  const status = $('upload-status');
  bar.hidden = false;
  bar.value = 0;
  status.textContent = `sending ${file.name} (${bytes(file.size)})…`;
  // XMLHttpRequest, not fetch: only it reports upload progress.
  const xhr = new XMLHttpRequest();
  xhr.open('PUT', fileUrl('/api/file', path) + `&upload_id=${encodeURIComponent(path)}`);
  // The proof that a change comes from this page (docs/security.md, "The HTTP side").
  xhr.setRequestHeader('x-gfs-console', '1');
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
  xhr.onload = () => {
    let body = null;
    try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
    if (xhr.status >= 200 && xhr.status < 300) {
      bar.value = 1;
      status.textContent = `${path} stored`;
      say(`Uploaded ${path} (${bytes(file.size)}).`, true);
      files.selected = path;
      void open(folderOf(path));
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
    void load();
    void refresh();
  } catch (err) {
    say(`Append to ${path} failed: ${err.message}`);
  }
}

async function remove(path) {
  try {
    await api('DELETE', fileUrl('/api/file', path));
    say(`Deleted ${path}.`, true);
    if (files.selected === path) files.selected = null;
    void load();
    void refresh();
  } catch (err) {
    say(`Delete of ${path} failed: ${err.message}`);
    render();
  }
}

async function refresh() {
  try {
    fresh(await api('GET', '/api/state'));
  } catch {
    reachable = false;
    render();
  }
}

let pollTimer = null;
function listen() {
  const source = new EventSource('/api/events');
  source.addEventListener('state', (e) => {
    $('live-status').textContent = 'live updates: on';
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
    fresh(JSON.parse(e.data));
  });
  source.addEventListener('progress', (e) => {
    const p = JSON.parse(e.data);
    if (p.total > 0) $('upload-status').textContent = `stored ${bytes(p.stored)} of ${bytes(p.total)} on the chunk servers`;
  });
  source.onerror = () => {
    // EventSource reconnects by itself; until it does, poll, starting now: a master that is
    // gone is said so at once, not after a poll interval.
    $('live-status').textContent = 'live updates: reconnecting (polling)';
    if (!pollTimer) {
      pollTimer = setInterval(refresh, POLL_MS);
      void refresh();
    }
  };
}

$('upload-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const file = $('upload-file').files[0];
  if (!file) return say('Choose a file to upload first.');
  const path = $('upload-path').value.trim() || `${files.folder}${file.name}`;
  upload(file, path);
});
$('append-form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (files.selected) void append(files.selected, $('append-file').files[0]);
});
initFiles(render);
setInterval(render, 1000);
void refresh();
listen();
