// The benchmark table as printed: one row a figure, with its baseline, ratio and target.
import { cpus } from 'node:os';
import type { BenchRow } from './row.js';

function fmt(n: number): string {
  if (!Number.isFinite(n)) return '-';
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

export function printTable(rows: BenchRow[], seconds: number): void {
  const header = ['figure', 'value', 'unit', 'baseline', 'ratio', 'target', 'detail'];
  const body = rows.map((r) => [
    r.figure,
    fmt(r.value),
    r.unit,
    r.baseline ? `${fmt(r.baselineValue!)} (${r.baseline})` : '',
    r.ratio === undefined ? '' : `${(r.ratio * 100).toFixed(0)} %`,
    r.target ? `${r.target} ${r.met ? 'MET' : 'NOT MET'}` : '',
    r.detail ?? '',
  ]);
  const out = [header, header.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`);
  process.stdout.write(`${out.join('\n')}\n\n${cpus().length} CPUs, Node ${process.version}, ${seconds.toFixed(0)} s\n`);
}
