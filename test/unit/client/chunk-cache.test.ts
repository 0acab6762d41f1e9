// The library's read cache: bounded in bytes, least recently used dropped first, an entry
// served only at its version and while the master vouches for its proof.
import t from 'tap';
import { ChunkCache } from '../../../src/client/chunk-cache.js';

const at = (version: number, digests: Array<{ length: number; digest: string }> = []) => ({ version, digests });

t.test('bound and order', async (t) => {
  const cache = new ChunkCache(250);
  cache.put('a', 1, Buffer.alloc(100, 1), 'sha256');
  cache.put('b', 1, Buffer.alloc(100, 2), 'sha256');
  t.ok(cache.get('a', 100, at(1)), 'a is used, so b is now the oldest');
  cache.put('c', 1, Buffer.alloc(100, 3), 'sha256');
  t.equal(cache.get('b', 100, at(1)), null, 'b was dropped to keep the bound');
  t.ok(cache.get('a', 100, at(1)));
  t.ok(cache.get('c', 100, at(1)));
  cache.put('big', 1, Buffer.alloc(251), 'sha256');
  t.equal(cache.get('big', 251, at(1)), null, 'larger than the bound: not kept');
  t.match(cache.stats(), { entries: 2, bytes: 200, maxBytes: 250, hits: 3, misses: 2 });
});

t.test('served only at its version, size and proof', async (t) => {
  const cache = new ChunkCache(1000);
  const proof = { length: 120, digest: 'd1' };
  cache.put('x', 2, Buffer.alloc(100), proof);
  t.equal(cache.get('x', 100, at(3, [proof])), null, 'another version');
  t.equal(cache.get('x', 110, at(2, [proof])), null, 'the file grew');
  t.equal(cache.get('x', 100, at(2, [{ length: 120, digest: 'd2' }])), null, 'the master no longer vouches for that digest');
  t.ok(cache.get('x', 100, at(2, [proof])));
});
