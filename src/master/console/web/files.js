// The namespace a folder page at a time (/api/folder), with the chosen file's chunks. A
// delete asks first, in the row itself: a click alone never removes a file.
import { $, api, el, fileUrl, say } from './dom.js';
import { bytes } from './format.js';

export const PAGE_ENTRIES = 100;

export const files = {
  folder: '/',
  offset: 0,
  page: null,
  selected: null,
  /** The path whose delete waits for a second click. */
  confirming: null,
};

let loading = null;
let onChange = () => {};

/** `redraw` is called after every change the files part makes on its own. */
export function initFiles(redraw) {
  onChange = redraw;
  $('file-filter').addEventListener('input', () => open(files.folder));
  $('page-prev').addEventListener('click', () => load(Math.max(0, files.offset - PAGE_ENTRIES)));
  $('page-next').addEventListener('click', () => load(files.offset + PAGE_ENTRIES));
}

/** The folder that holds `path`. */
export const folderOf = (path) => path.slice(0, path.lastIndexOf('/') + 1) || '/';

export function open(folder) {
  files.folder = folder;
  files.confirming = null;
  return load(0);
}

/** Reads a page of the current folder again (the cluster changed, or the user moved). */
export async function load(offset = files.offset) {
  const url = `/api/folder?path=${encodeURIComponent(files.folder)}&offset=${offset}&limit=${PAGE_ENTRIES}&match=${encodeURIComponent($('file-filter').value)}`;
  const mine = (loading = api('GET', url));
  try {
    const page = await mine;
    if (mine !== loading) return;
    files.page = page;
    files.offset = page.offset;
  } catch (err) {
    if (mine === loading) say(`Listing ${files.folder} failed: ${err.message}`);
    return;
  }
  onChange();
}

function drawCrumbs() {
  const crumbs = $('crumbs');
  const parts = files.folder.split('/').filter(Boolean);
  const links = [el('a', { href: '#', 'data-folder': '/', text: 'root', onclick: (e) => { e.preventDefault(); void open('/'); } })];
  parts.forEach((name, i) => {
    const path = `/${parts.slice(0, i + 1).join('/')}/`;
    links.push(' / ', el('a', { href: '#', 'data-folder': path, text: name, onclick: (e) => { e.preventDefault(); void open(path); } }));
  });
  crumbs.replaceChildren(...links);
}

function actions(f, remove) {
  const stop = (fn) => (e) => { e.stopPropagation(); fn(); };
  if (files.confirming === f.path) {
    return el('td', { class: 'confirm' },
      el('span', { text: 'delete for good? ' }),
      el('button', { type: 'button', class: 'confirm-delete danger', text: 'delete', onclick: stop(() => { files.confirming = null; remove(f.path); }) }), ' ',
      el('button', { type: 'button', class: 'cancel-delete', text: 'keep', onclick: stop(() => { files.confirming = null; onChange(); }) }));
  }
  return el('td', {},
    el('a', { href: fileUrl('/api/file/data', f.path), download: '', class: 'download', text: 'download', onclick: (e) => e.stopPropagation() }), ' ',
    el('button', { type: 'button', class: 'delete', text: 'delete', onclick: stop(() => { files.confirming = f.path; onChange(); }) }));
}

export function drawFiles(remove) {
  drawCrumbs();
  const tbody = $('files').querySelector('tbody');
  tbody.replaceChildren();
  const page = files.page;
  if (!page) return;
  for (const e of page.entries) {
    if (e.kind === 'folder') {
      tbody.append(el('tr', { class: 'folder', 'data-folder': e.path, onclick: () => void open(e.path) },
        el('td', { class: 'path', text: `${e.name}/` }), el('td', { class: 'muted', text: `${e.files.toLocaleString('en')} file(s)` }), el('td'), el('td'), el('td')));
      continue;
    }
    tbody.append(el('tr', { 'data-path': e.path, title: e.path, class: files.selected === e.path ? 'selected' : '', onclick: () => { files.selected = e.path; onChange(); } },
      el('td', { class: 'path', text: e.name }), el('td', { title: `${e.size} bytes`, text: bytes(e.size) }), el('td', { text: e.chunks }),
      el('td', {}, el('span', { class: `health ${e.health}`, text: e.health.replace('_', ' ') })), actions(e, remove)));
  }
  const first = page.total === 0 ? 0 : page.offset + 1;
  const last = page.offset + page.entries.length;
  $('page-info').textContent = page.total === 0 ? 'empty folder' : `${first.toLocaleString('en')}–${last.toLocaleString('en')} of ${page.total.toLocaleString('en')}`;
  $('page-prev').disabled = page.offset === 0;
  $('page-next').disabled = last >= page.total;
}

export async function drawFileDetail(replicationFactor) {
  const box = $('file-detail');
  if (!files.selected) {
    box.hidden = true;
    return;
  }
  let file;
  try {
    file = await api('GET', fileUrl('/api/file', files.selected));
  } catch {
    box.hidden = true;
    return;
  }
  const rows = file.chunks.map((c) => el('tr', { 'data-chunk': c.chunk_id },
    el('td', { text: c.index }), el('td', {}, el('code', { text: c.chunk_id.slice(0, 16) + '…' })), el('td', { text: bytes(c.size) }),
    el('td', { class: 'holders' }, ...c.holders.flatMap((h) => [el('span', { class: `health ${h.state}`, 'data-holder': h.address, text: h.address }), ' '])),
    el('td', {}, el('span', { class: `health ${c.health}`, text: `${c.health.replace('_', ' ')} (${c.live_copies}/${replicationFactor})` }))));
  $('file-detail-body').replaceChildren(
    el('strong', { text: file.path }), ` · ${bytes(file.size)} · ${file.chunks.length} chunk(s)`,
    el('table', { id: 'chunks' }, el('thead', {}, el('tr', {}, ...['#', 'Chunk', 'Size', 'Holders', 'Health'].map((h) => el('th', { text: h })))), el('tbody', {}, ...rows)),
  );
  box.hidden = false;
}
