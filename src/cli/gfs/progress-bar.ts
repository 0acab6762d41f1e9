// A transfer's progress on stderr: a bar with bytes, rate and ETA (cli-progress), drawn
// only when stderr is a terminal; for input of unknown length, bytes and rate only.
import cliProgress from 'cli-progress';
import type { ProgressFn } from '../../client/index.js';
import { humanBytes } from '../../units.js';

export interface ProgressDisplay {
  readonly onProgress: ProgressFn | undefined;
  /** Stops drawing and leaves the cursor on a fresh line. */
  stop(): void;
}

const NONE: ProgressDisplay = { onProgress: undefined, stop() {} };

function eta(left: number, rate: number): string {
  if (rate <= 0 || !Number.isFinite(left / rate)) return '--';
  const s = Math.round(left / rate);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

export function progressDisplay(label: string, stream: NodeJS.WriteStream, enabled: boolean): ProgressDisplay {
  if (!enabled || !stream.isTTY) return NONE;
  let bar: cliProgress.SingleBar | null = null;
  const started = Date.now();
  const payload = (done: number, total: number | undefined) => {
    const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
    return {
      label,
      done: humanBytes(done),
      size: total === undefined ? '?' : humanBytes(total),
      rate: `${humanBytes(rate)}/s`,
      left: total === undefined ? '--' : eta(total - done, rate),
    };
  };
  return {
    onProgress(done, total) {
      if (!bar) {
        const format = total === undefined ? '{label} {done} | {rate}' : '{label} [{bar}] {percentage}% | {done} of {size} | {rate} | ETA {left}';
        bar = new cliProgress.SingleBar({ stream, format, hideCursor: true, clearOnComplete: false, barsize: 30, fps: 10 }, cliProgress.Presets.legacy);
        bar.start(total ?? 0, 0, payload(done, total));
      }
      bar.update(Math.max(0, done), payload(done, total));
    },
    stop() {
      bar?.stop();
    },
  };
}
