// How the page says sizes, times and shares: the same words everywhere on it.
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function bytes(n) {
  if (n === null || n === undefined) return '?';
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${UNITS[i]}`;
}

/** A share of a total as a whole percent (`96 %`), or null when the total is not known. */
export function percent(part, total) {
  if (!total || part === null || part === undefined) return null;
  return Math.round((100 * part) / total);
}

const pad = (n) => String(n).padStart(2, '0');

/** The browser's local time of day, HH:MM:SS. */
export function clock(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A span of seconds as people say it: `4 s`, `3 min`, `2 h 5 min`. */
export function duration(s) {
  s = Math.max(0, Math.round(s));
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return m ? `${h} h ${m} min` : `${h} h`;
}

/** Time since `ms` (the master's clock; clamped at 0 should the browser's run behind). */
export const ago = (ms) => `${duration((Date.now() - ms) / 1000)} ago`;
