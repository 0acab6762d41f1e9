// The chunk servers: on the map (where, how big, how full) and in the table (heartbeat, use,
// decommission progress). A server's fill is said in words as well as drawn, so a nearly
// full one cannot pass for an empty one.
import { $, el } from './dom.js';
import { ago, bytes, clock, duration, percent } from './format.js';

// A server at or above this share of its space is marked full on the map and in the table.
export const FULL_PERCENT = 90;

const clamp = (v) => Math.max(0, Math.min(100, Number(v) || 0));

/** What a decommission has left, from the master's progress fields when it has them. */
export function decommissionText(s) {
  if (s.state !== 'decommissioning') return '';
  const d = s.decommission ?? null;
  const left = typeof d?.chunks_left === 'number' ? d.chunks_left : s.decommission_remaining;
  if (left === undefined) return 'under way';
  if (left === 0) return 'done: may be stopped';
  const eta = typeof d?.eta_s === 'number' ? ` · about ${duration(d.eta_s)} left` : '';
  return `${left} chunk(s) to copy elsewhere${eta}`;
}

function usedText(s) {
  const p = percent(s.used, s.total);
  return p === null ? 'unknown' : `${p} %`;
}

export function drawMap(state, selected, select) {
  const svg = $('map');
  svg.replaceChildren();
  for (let v = 0; v <= 100; v += 20) {
    svg.append(el('svg:line', { class: 'grid', x1: v, y1: 0, x2: v, y2: 100 }), el('svg:line', { class: 'grid', x1: 0, y1: v, x2: 100, y2: v }));
  }
  const placed = state.servers.filter((s) => s.x !== null);
  const largest = Math.max(1, ...placed.map((s) => s.total ?? 0));
  for (const s of placed) {
    const r = 2.5 + 5.5 * Math.sqrt((s.total ?? 0) / largest);
    const pct = percent(s.used, s.total);
    const full = pct !== null && pct >= FULL_PERCENT;
    const title = `${s.address} (${s.state})\nchunks: ${s.chunks}\nused: ${bytes(s.used)} of ${bytes(s.total)} (${usedText(s)})`;
    svg.append(el('svg:g', {
      class: `server ${s.state}${full ? ' full' : ''}${selected === s.address ? ' selected' : ''}`,
      'data-address': s.address,
      'data-state': s.state,
      'data-used-percent': pct,
      transform: `translate(${clamp(s.x)} ${100 - clamp(s.y)})`,
      onclick: () => select(s.address),
    },
    el('svg:title', { text: title }),
    full ? el('svg:circle', { class: 'ring', r: r + 1 }) : '',
    el('svg:circle', { class: 'body', r }),
    el('svg:circle', { class: 'fill', r: r * Math.sqrt(Math.min(1, (pct ?? 0) / 100)) }),
    el('svg:text', { class: 'percent', y: 1, 'text-anchor': 'middle', text: pct === null ? '' : `${pct}%` }),
    el('svg:text', { y: r + 3.2, 'text-anchor': 'middle', text: s.address })));
  }
  for (const c of state.clients) {
    svg.append(el('svg:rect', { class: 'client', x: clamp(c.x) - 1.2, y: 100 - clamp(c.y) - 1.2, width: 2.4, height: 2.4 }, el('svg:title', { text: `client ${c.client_id}` })));
  }
  drawDetail(state, selected);
}

function drawDetail(state, selected) {
  const detail = $('server-detail');
  const s = state.servers.find((x) => x.address === selected);
  detail.hidden = !s;
  if (!s) return;
  detail.replaceChildren(
    el('strong', { text: s.address }), ' ', el('span', { class: `health ${s.state}`, text: s.state }),
    el('div', { text: `position: ${s.x === null ? 'unknown (never registered here)' : `(${s.x}, ${s.y})`}` }),
    el('div', { text: `chunks: ${s.chunks} · used ${bytes(s.used)} of ${bytes(s.total)} (${usedText(s)})` }),
  );
  if (s.state === 'decommissioning' && s.decommission_remaining !== undefined) {
    detail.append(el('div', { class: 'decommission', text: s.decommission_remaining === 0
      ? 'decommissioned: every chunk has its copies elsewhere; the server may be stopped'
      : `decommissioning: ${s.decommission_remaining} chunk(s) still to be copied elsewhere` }));
  }
}

export function drawServerTable(state, selected, select) {
  const tbody = $('servers').querySelector('tbody');
  tbody.replaceChildren();
  for (const s of state.servers) {
    const pct = percent(s.used, s.total);
    const full = pct !== null && pct >= FULL_PERCENT;
    const beat = s.last_heartbeat_ms === null || s.last_heartbeat_ms === undefined ? 'never' : `${clock(s.last_heartbeat_ms)} (${ago(s.last_heartbeat_ms)})`;
    tbody.append(el('tr', { 'data-address': s.address, class: `${full ? 'full ' : ''}${selected === s.address ? 'selected' : ''}`, onclick: () => select(s.address) },
      el('td', { class: 'address', text: s.address }),
      el('td', { class: 'state' }, el('span', { class: `health ${s.state}`, text: s.state })),
      el('td', { class: 'heartbeat', text: beat }),
      el('td', { class: 'used' },
        el('meter', { min: 0, max: 100, low: 75, high: FULL_PERCENT, optimum: 0, value: pct ?? 0 }), ' ',
        el('span', { class: 'percent', text: usedText(s) })),
      el('td', { class: 'space', text: `${bytes(s.used)} of ${bytes(s.total)}` }),
      el('td', { class: 'chunks', text: s.chunks }),
      el('td', { class: 'decommission', text: decommissionText(s) })));
  }
}
