import { Packr } from 'msgpackr';
import type { ChunkRecord } from '../chunks/records.js';
import { storedOf, storeEntryOf, type DeleteEntry, type StoredDelete, type StoreEntry, type StoredStore } from './store-entry.js';

/**
 * An append as the log holds it: the bytes, where they go, and what the chunk's record
 * becomes, stated against the record it was made on (identity, version, length), so that
 * replay applies it only on top of exactly that record and skips it once the metadata store
 * is already past it. Of the block sums only those from the first touched block on are
 * kept: the ones before are the base record's.
 */
export interface AppendEntry {
  readonly chunkId: string;
  readonly offset: number;
  readonly data: Buffer;
  readonly baseVersion: number;
  readonly version: number;
  readonly firstBlock: number;
  readonly tailCrcs: Uint32Array;
  readonly ino: bigint;
  readonly btimeNs: bigint;
  readonly lastTx?: string | undefined;
}

interface StoredEntry {
  k: 'a';
  c: string;
  o: number;
  d: Uint8Array;
  bv: number;
  v: number;
  f: number;
  t: Uint8Array;
  i: string;
  b: string;
  x?: string;
}

/** First frame of every log file: which generation it holds (replay goes in generation order). */
interface StoredHeader {
  k: 'h';
  g: number;
}

const packr = new Packr({ mapsAsObjects: true, int64AsType: 'number', useRecords: false });

export function packHeader(generation: number): Buffer {
  return packr.pack({ k: 'h', g: generation } satisfies StoredHeader);
}

export function packEntry(e: AppendEntry): Buffer {
  const t = Buffer.from(e.tailCrcs.buffer, e.tailCrcs.byteOffset, e.tailCrcs.byteLength);
  const stored: StoredEntry = { k: 'a', c: e.chunkId, o: e.offset, d: e.data, bv: e.baseVersion, v: e.version, f: e.firstBlock, t, i: e.ino.toString(), b: e.btimeNs.toString(), ...(e.lastTx ? { x: e.lastTx } : {}) };
  return packr.pack(stored);
}

export function packStore(e: StoreEntry): Buffer {
  return packr.pack(storedOf(e));
}

export function packDelete(chunkId: string): Buffer {
  return packr.pack({ k: 'd', c: chunkId } satisfies StoredDelete);
}

/** Every kind of record the log holds beside its headers, in the order they were acknowledged. */
export type LogEntry = AppendEntry | StoreEntry | DeleteEntry;

export type Unpacked = { kind: 'header'; generation: number } | { kind: 'append'; entry: AppendEntry } | { kind: 'store'; entry: StoreEntry } | { kind: 'delete'; entry: DeleteEntry } | { kind: 'unknown' };

export function unpack(body: Buffer): Unpacked {
  const s = packr.unpack(body) as StoredHeader | StoredEntry | StoredStore | StoredDelete;
  if (s.k === 'h') return { kind: 'header', generation: s.g };
  if (s.k === 's') return { kind: 'store', entry: storeEntryOf(s) };
  if (s.k === 'd') return { kind: 'delete', entry: { kind: 'delete', chunkId: s.c } };
  if (s.k !== 'a') return { kind: 'unknown' };
  // Copied: a Uint32Array needs 4-byte alignment, which a decoded Buffer need not have.
  const tailCrcs = new Uint32Array(s.t.byteLength / 4);
  Buffer.from(tailCrcs.buffer).set(s.t);
  return {
    kind: 'append',
    entry: { chunkId: s.c, offset: s.o, data: Buffer.from(s.d), baseVersion: s.bv, version: s.v, firstBlock: s.f, tailCrcs, ino: BigInt(s.i), btimeNs: BigInt(s.b), lastTx: s.x },
  };
}

/** Does `entry` apply on top of `base` (the record it was made on)? */
export function appliesTo(entry: AppendEntry, base: ChunkRecord | undefined): base is ChunkRecord {
  return base !== undefined && base.ino === entry.ino && base.btimeNs === entry.btimeNs && base.version === entry.baseVersion && base.size === entry.offset;
}

/** The record `entry` leaves on top of `base`. */
export function recordAfter(entry: AppendEntry, base: ChunkRecord): ChunkRecord {
  const crcs = new Uint32Array(entry.firstBlock + entry.tailCrcs.length);
  crcs.set(base.crcs.subarray(0, entry.firstBlock));
  crcs.set(entry.tailCrcs, entry.firstBlock);
  return { ...base, size: entry.offset + entry.data.length, version: entry.version, crcs, lastTx: entry.lastTx };
}
