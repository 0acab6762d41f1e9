// Text output of the gfs command, for people; --json output is the library's objects.
import type { FileEntry, FileStat, ServerEntry } from '../../client/index.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${UNITS[u]}`;
}

/** One line per file: size in bytes, chunk count, path (tab-separated, for cut and awk). */
export function formatList(files: FileEntry[]): string {
  return files.map((f) => `${f.size}\t${f.chunks}\t${f.path}\n`).join('');
}

export function formatStat(s: FileStat): string {
  const lines = [`path    ${s.path}`, `size    ${s.size} bytes (${formatBytes(s.size)})`, `chunks  ${s.chunks.length}`];
  for (const c of s.chunks) {
    const holders = c.holders.length === 0 ? 'no holder' : c.holders.map((h) => `${h.address} (${h.live ? 'live' : 'down'})`).join(', ');
    lines.push(`  ${c.index}\t${c.chunk_id}\t${c.size}\t${holders}`);
  }
  return lines.join('\n') + '\n';
}

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd() + '\n').join('');
}

export function formatServers(servers: ServerEntry[]): string {
  const rows = [['ADDRESS', 'LOCATION', 'USED', 'TOTAL', 'CHUNKS', 'STATE']];
  for (const s of servers) {
    rows.push([
      s.address,
      s.location ? `${s.location[0]},${s.location[1]}` : '-',
      s.used === null ? '-' : formatBytes(s.used),
      s.total === null ? '-' : formatBytes(s.total),
      s.chunks === null ? '-' : String(s.chunks),
      s.state,
    ]);
  }
  return pad(rows);
}
