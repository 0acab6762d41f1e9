// Sizes in words, one way for every program: `gfs` (ls -h, du -h, stat, servers, the progress
// bar) and the master's console API (its refusals), so a size reads the same in both. The
// console page's own bytes() (src/master/console/static) says it the same way in the browser.
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Bytes as people read them: `512 B`, `2.5 MiB`; whole bytes below 1 KiB (a rate may be fractional). */
export function humanBytes(n: number): string {
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${UNITS[i]}`;
}
