// Text output of the gfs command, for people; --json output is the library's objects.
import type { FileStat, MasterState, ServerEntry } from '../../client/index.js';
import { humanBytes } from '../../units.js';

export function formatStat(s: FileStat): string {
  const lines = [`path    ${s.path}`, `size    ${s.size} bytes (${humanBytes(s.size)})`, `chunks  ${s.chunks.length}`];
  for (const c of s.chunks) {
    const holders = c.holders.length === 0 ? 'no holder' : c.holders.map((h) => `${h.address} (${h.state})`).join(', ');
    lines.push(`  ${c.index}\t${c.chunk_id}\t${c.size}\t${holders}`);
  }
  return lines.join('\n') + '\n';
}

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd() + '\n').join('');
}

/** "12 chunks left, ETA 2m30s"; "done" once nothing there is needed. */
function decommissionLeft(d: NonNullable<ServerEntry['decommission']>): string {
  if (d.chunks_left === 0) return 'done: can be stopped';
  const s = d.eta_s;
  const eta = s === null ? 'ETA --' : `ETA ${s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`}`;
  return `${d.chunks_left} chunk${d.chunks_left === 1 ? '' : 's'} left, ${eta}`;
}

/** gfs masters: one row per master given, the leader's with since when it leads. */
export function formatMasters(masters: MasterState[], now = Date.now()): string {
  const rows = [['ADDRESS', 'ROLE', 'LEADER', 'LEADING FOR']];
  for (const m of masters) {
    rows.push([m.address, m.role, m.leader ?? '-', m.since === null ? '-' : `${Math.max(0, Math.round((now - m.since) / 1000))} s`]);
  }
  return pad(rows);
}

export function formatServers(servers: ServerEntry[]): string {
  const rows = [['ADDRESS', 'LOCATION', 'USED', 'TOTAL', 'CHUNKS', 'STATE']];
  for (const s of servers) {
    rows.push([
      s.address,
      s.location ? `${s.location[0]},${s.location[1]}` : '-',
      s.used === null ? '-' : humanBytes(s.used),
      s.total === null ? '-' : humanBytes(s.total),
      s.chunks === null ? '-' : String(s.chunks),
      s.decommission ? `${s.state} (${decommissionLeft(s.decommission)})` : s.state,
    ]);
  }
  return pad(rows);
}
