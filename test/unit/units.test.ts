import t from 'tap';
import { humanBytes } from '../../src/units.js';

// gfs and the console API print these; their tests match the words, so they are pinned here.
t.test('sizes in words', async (t) => {
  const cases: Array<[number, string]> = [
    [0, '0 B'],
    [512, '512 B'],
    [1023, '1023 B'],
    [1023.6, '1024 B'],
    [1024, '1.0 KiB'],
    [2.5 * 1024 * 1024, '2.5 MiB'],
    [12 * 1024 * 1024, '12.0 MiB'],
    [3 * 1024 ** 3, '3.0 GiB'],
    [1024 ** 4, '1.0 TiB'],
    [2 * 1024 ** 5, '2.0 PiB'],
    [4096 * 1024 ** 5, '4096.0 PiB'],
  ];
  for (const [n, words] of cases) t.equal(humanBytes(n), words, String(n));
});
