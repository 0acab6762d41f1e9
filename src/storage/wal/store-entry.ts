import type { FileIdentity } from '../checksums/block-sums.js';
import type { ChunkRecord } from '../chunks/records.js';

/**
 * A small store as the log holds it: the whole new version (bytes, sums, version) and the
 * identity of the file it was written to, stated against the record it replaced (none: a
 * new chunk). Replay writes the bytes into a new file, which has another identity: it maps
 * the logged one to it, so that later entries naming the logged file (an append after the
 * store) apply to the new one.
 */
export interface StoreEntry {
  readonly kind: 'store';
  readonly chunkId: string;
  readonly data: Buffer;
  /** The record replaced: its version and file (null: the chunk did not exist). */
  readonly base: { readonly version: number; readonly identity: FileIdentity } | null;
  readonly version: number;
  readonly crcs: Uint32Array;
  readonly identity: FileIdentity;
}

/**
 * A chunk deleted while a store of it was only in the log: replay must not bring it back
 * (a store of a new chunk applies wherever the metadata store has no record of it).
 */
export interface DeleteEntry {
  readonly kind: 'delete';
  readonly chunkId: string;
}

export interface StoredDelete {
  k: 'd';
  c: string;
}

export interface StoredStore {
  k: 's';
  c: string;
  d: Uint8Array;
  bv?: number;
  bi?: string;
  bb?: string;
  v: number;
  s: Uint8Array;
  i: string;
  b: string;
}

export function storedOf(e: StoreEntry): StoredStore {
  const s = Buffer.from(e.crcs.buffer, e.crcs.byteOffset, e.crcs.byteLength);
  const base = e.base ? { bv: e.base.version, bi: e.base.identity.ino.toString(), bb: e.base.identity.btimeNs.toString() } : {};
  return { k: 's', c: e.chunkId, d: e.data, ...base, v: e.version, s, i: e.identity.ino.toString(), b: e.identity.btimeNs.toString() };
}

export function storeEntryOf(s: StoredStore): StoreEntry {
  // Copied: a Uint32Array needs 4-byte alignment, which a decoded Buffer need not have.
  const crcs = new Uint32Array(s.s.byteLength / 4);
  Buffer.from(crcs.buffer).set(s.s);
  const base = s.bv !== undefined && s.bi !== undefined && s.bb !== undefined ? { version: s.bv, identity: { ino: BigInt(s.bi), btimeNs: BigInt(s.bb) } } : null;
  return { kind: 'store', chunkId: s.c, data: Buffer.from(s.d), base, version: s.v, crcs, identity: { ino: BigInt(s.i), btimeNs: BigInt(s.b) } };
}

/** The record a store leaves (its file identity as given: the logged one, or replay's new file). */
export function recordOfStore(e: StoreEntry, identity: FileIdentity): ChunkRecord {
  return { size: e.data.length, version: e.version, crcs: e.crcs, ino: identity.ino, btimeNs: identity.btimeNs };
}
