// Seeded inputs for fuzzing the wire protocol: random bytes, random msgpack, mutations of
// valid requests, frames that break the stream, extension types and announced sizes. Inputs
// are drawn from one generator in a fixed order, so a seed always makes the same frames.
import { Packr } from 'msgpackr';
import { chunkServerCommands } from '../../src/chunk-server/commands/index.js';
import { encodeBody } from '../../src/wire/codec.js';
import { MIB } from './data.js';
import { lengthPrefixed } from './frames.js';

/** Replay a failure with FUZZ_SEED=<the seed a fuzz test prints in its name>. */
export const SEED = Number(process.env.FUZZ_SEED ?? 20240611);
export const MAX_FRAME_BYTES = 256 * 1024;
// Every path-like id the fuzzer sends carries this, so a file it escaped to can be found.
export const MARKER = 'fuzzescape';

/** mulberry32: small, seedable, good enough to spread inputs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = prng(SEED);
export const int = (n: number): number => Math.floor(rand() * n);
export const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
export const chance = (p: number): boolean => rand() < p;
export function randomBytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
}

export const FIELDS = ['chunk_id', 'transaction_id', 'data', 'size', 'offset', 'file_path', 'chunk_index', 'client_id', 'replica_servers', 'current_replica'];
// replicate_chunk connects to the addresses its request names; fuzzing it could send traffic
// off this machine, so it is left to test/e2e/cluster/chain.test.ts.
const FUZZED_COMMANDS = chunkServerCommands.names.filter((c) => c !== 'replicate_chunk');

const IDS = ['f1', 'f2', 'x.y', '-a', 'A_b'];
const TX_IDS = ['1700000000000', '1700000000001', 't'];
const BAD_IDS = [`../${MARKER}`, `../../${MARKER}`, `/tmp/${MARKER}`, `.${MARKER}`, '.', '..', '', `a/${MARKER}`, `${MARKER}\0x`, 'x'.repeat(129), 'é', ' '];

/** A valid request of any command, on a few ids so that stores, appends and transactions meet. */
function validRequest(): Record<string, unknown> {
  const command = pick(FUZZED_COMMANDS);
  const chunk_id = pick(IDS);
  const transaction_id = pick(TX_IDS);
  const data = randomBytes(pick([0, 1, 100, 5000, 70_000]));
  switch (command) {
    case 'store_chunk':
      return { command, chunk_id, data, file_path: '/f', ...(chance(0.5) ? { replica_servers: true } : {}) };
    case 'append_chunk':
      return { command, chunk_id, data, offset: int(10), file_path: '/f' };
    case 'check_space':
      return { command, size: pick([0, 1, 1 << 20, 2 ** 40]) };
    case 'prepare_chunk':
      return { command, chunk_id, transaction_id, data, file_path: '/f' };
    case 'prepare_append':
      return { command, chunk_id, transaction_id, data, offset: pick([0, 1, 100, 5000, 10 ** 6]) };
    case 'retrieve_chunk':
    case 'delete_chunk':
      return { command, chunk_id };
    default:
      return { command, chunk_id, transaction_id };
  }
}

/** A value of some other type than a field expects: the mutations of valid requests. */
function evilValue(depth = 0): unknown {
  switch (int(depth > 3 ? 12 : 15)) {
    case 0: return null;
    case 1: return chance(0.5);
    case 2: return pick([-1, -(2 ** 31), 2 ** 32, 2 ** 53, 0.5, NaN, Infinity, -Infinity, -0]);
    case 3: return pick([(1n << 64n) - 1n, 1n << 63n, -(1n << 63n), 2n ** 53n + 1n]);
    case 4: return randomBytes(int(40));
    case 5: return pick(BAD_IDS);
    case 6: return 'x'.repeat(int(300));
    case 7: return Buffer.from(pick(IDS));
    case 8: return randomBytes(int(4)).toString('latin1');
    case 9: return int(1000);
    case 10: return pick(['store_chunk', 'commit_append', '__proto__', 'constructor', 'toString']);
    case 11: return String(int(100));
    case 12: return Array.from({ length: int(5) }, () => evilValue(depth + 1));
    case 13: return Object.fromEntries(Array.from({ length: int(5) }, () => [pick([...FIELDS, 'command', 'x']), evilValue(depth + 1)]));
    default: return nested(1 + int(chance(0.1) ? 3000 : 40));
  }
}

/** Maps inside maps, `depth` deep. */
function nested(depth: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = chance(0.7) ? { command: 'check_space', size: v } : [v];
  return v;
}

/** An own field, even for `__proto__` (plain assignment would set the prototype). */
function setField(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function mutatedRequest(): Buffer {
  const req = validRequest();
  for (let n = 1 + int(3); n > 0; n--) {
    const keys = Object.keys(req);
    switch (int(5)) {
      case 0: delete req[pick(keys)]; break;
      case 1:
      case 2: setField(req, pick(keys), evilValue()); break;
      case 3: setField(req, pick([...FIELDS, 'replica_servers', 'extra', '__proto__', 'hasOwnProperty']), evilValue()); break;
      default: req.command = pick([...FUZZED_COMMANDS, 'nope', '', 'STORE_CHUNK', 'heartbeat']);
    }
  }
  return encodeBody(chance(0.03) ? evilValue() : req);
}

// Raw msgpack, to reach what no encoder would write: keys of any type, extension types,
// declared lengths far beyond the body.
function rawValue(depth: number): Buffer {
  const r = int(depth > 4 ? 10 : 13);
  const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
  switch (r) {
    case 0: return Buffer.from([pick([0xc0, 0xc2, 0xc3, int(0x80), 0xe0 | int(32)])]);
    case 1: return Buffer.concat([Buffer.from([pick([0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xca, 0xcb])]), randomBytes(8)]).subarray(0, 9);
    case 2: { const s = randomBytes(int(20)); return Buffer.concat([Buffer.from([0xa0 | s.length]), s]); }
    case 3: { const b = randomBytes(int(200)); return Buffer.concat([Buffer.from([0xc4, b.length]), b]); }
    case 4: return Buffer.concat([Buffer.from([pick([0xc6, 0xdb, 0xdd, 0xdf, 0xc9])]), u32(pick([0xffffffff, 0x7fffffff, 1 << 30, 1000])), randomBytes(int(8))]);
    case 5: return Buffer.concat([Buffer.from([pick([0xd4, 0xd5, 0xd6, 0xd7, 0xd8]), pick([0xff, 0x00, 0x01, 0x7f])]), randomBytes(16)]).subarray(0, 2 + pick([1, 2, 4, 8, 16]));
    case 6: return Buffer.concat([Buffer.from([0xc7, int(10), pick([0xff, 0x01])]), randomBytes(10)]);
    case 7: return Buffer.from([0xc1]);
    case 8: return Buffer.from('a7636f6d6d616e64', 'hex');
    case 9: return encodeBody(pick(IDS));
    case 10: { const n = int(4); return Buffer.concat([Buffer.from([0x90 | n]), ...Array.from({ length: n }, () => rawValue(depth + 1))]); }
    default: {
      const n = int(5);
      const parts: Buffer[] = [Buffer.from([0x80 | n])];
      for (let i = 0; i < n; i++) parts.push(chance(0.6) ? encodeBody(pick([...FIELDS, 'command'])) : rawValue(depth + 1), rawValue(depth + 1));
      return Buffer.concat(parts);
    }
  }
}

function rawRequest(): Buffer {
  const n = int(6);
  const parts: Buffer[] = [Buffer.from([0x80 | (n + 1)]), encodeBody('command'), chance(0.7) ? encodeBody(pick(FUZZED_COMMANDS)) : rawValue(1)];
  for (let i = 0; i < n; i++) parts.push(chance(0.5) ? encodeBody(pick(FIELDS)) : rawValue(1), rawValue(1));
  return Buffer.concat(parts);
}

/** A well-formed request map, valid or mutated: always decodable, so always answered. */
export function requestFrame(): Buffer {
  return lengthPrefixed(chance(0.45) ? encodeBody(validRequest()) : mutatedRequest());
}

/** Anything framed; raw and random bodies are mostly undecodable, which ends the connection. */
export function anyFrame(): Buffer {
  const r = rand();
  if (r < 0.5) return requestFrame();
  if (r < 0.85) return lengthPrefixed(rawRequest());
  return lengthPrefixed(randomBytes(int(100)));
}

/** Last frame of a batch, after which the client also half-closes. */
export function breakingFrame(): Buffer {
  switch (int(4)) {
    case 0: { const b = Buffer.alloc(4); b.writeUInt32BE(MAX_FRAME_BYTES + 1 + int(2 ** 31)); return Buffer.concat([b, randomBytes(int(50))]); }
    case 1: { const whole = lengthPrefixed(encodeBody(validRequest())); return whole.subarray(0, int(whole.length)); }
    case 2: return randomBytes(1 + int(3));
    default: return randomBytes(int(300));
  }
}

/** A frame holding one msgpack extension value: structured-clone references, records, sets, timestamps, or random ext types. */
export function extensionFrame(): Buffer {
  const which = int(5);
  if (which === 0) {
    let v: unknown = { a: int(100) };
    for (let i = 0; i < 30 + int(20); i++) v = [v, v];
    return lengthPrefixed(new Packr({ structuredClone: true }).pack({ command: pick(FUZZED_COMMANDS), size: v }));
  }
  if (which === 1) return lengthPrefixed(new Packr({ useRecords: true }).pack([{ command: 'check_space', size: 1 }, { command: 'check_space', size: 2 }]));
  if (which === 2) return lengthPrefixed(new Packr({ moreTypes: true }).pack({ command: 'check_space', size: new Set([1, 2, 3]) }));
  const type = int(256);
  const payload = randomBytes(pick([1, 2, 4, 8, 16]));
  const ext = Buffer.concat([Buffer.from([{ 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 }[payload.length]!, type]), payload]);
  return lengthPrefixed(Buffer.concat([Buffer.from([0x82]), encodeBody('command'), encodeBody('check_space'), encodeBody('size'), ext]));
}

/** A prefix announcing a large body, and only its first bytes. */
export function announcement(): Buffer {
  const b = Buffer.alloc(9);
  b.writeUInt32BE(pick([2 * MIB, 40 * MIB, 80 * MIB]));
  b[4] = pick([0xdd, 0xdf, 0x83, 0xc6]);
  b.writeUInt32BE(int(2 ** 32), 5);
  return b;
}
