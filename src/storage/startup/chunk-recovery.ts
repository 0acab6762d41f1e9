import { open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BufferPool } from '../../wire/buffer-pool.js';
import { identityOf, sumsOfFile, type FileIdentity } from '../checksums/block-sums.js';
import type { ChunkFiles } from '../chunks/files.js';
import { TEMP_PREFIX, TEMP_SUFFIX } from '../chunks/files.js';
import type { ChunkRecord, ChunkRecords } from '../chunks/records.js';
import { isSafeId } from '../../safe-name.js';
import { charge } from '../space/charges.js';
import { chunkOfTagged } from '../chunks/data-names.js';
import { legacySums, removeLegacyMeta } from './upgrade.js';

export interface RecoveredChunks {
  chunks: Map<string, ChunkRecord>;
  /** Bytes of every file in the chunk directory once cut back (chunks and strays alike). */
  usedBytes: number;
  /** Chunks whose committed bytes are not all there (a file shorter than its record, damaged v1 sums): to quarantine. */
  damaged: Array<{ chunkId: string; reason: string }>;
  report: {
    chunks: number;
    removedTempFiles: number;
    /** Tagged data files no record names (a large store that never published, a replaced version not yet removed). */
    removedDataFiles: number;
    /** Chunks read whole because their record was missing or named another file (upgrade from v1, a crash mid-store). */
    recomputedSums: number;
    /** Chunks cut back to their committed length (an append that never committed). */
    truncated: number;
    /** Overwrites replayed from the redo log. */
    replayed: number;
    /** Records of v1 `.meta/*.crc` files taken over without reading the chunk. */
    upgradedSums: number;
  };
}

function identitySame(r: { ino: bigint; btimeNs: bigint }, id: FileIdentity): boolean {
  return r.ino === id.ino && r.btimeNs === id.btimeNs;
}

/**
 * Start-up: makes the metadata store and the data files agree, reading a chunk whole only
 * when its record is missing or names another file.
 * - Redo records (overwrites logged but maybe not in place) are written again and committed.
 * - A file longer than its committed length is cut back (an append whose commit never came).
 * - A file whose record names another inode was renamed in by a store that crashed before
 *   its commit: its sums are computed from it, with the next version.
 * - A file without a record takes v1's `.meta/<id>.crc` if that names this very file, else
 *   sums computed from it; version 1.
 * - A tagged data file (a large store's version, `<id>~<tag>`) is the chunk's when its record
 *   names it; a plain file beside it is the old version it replaced (the record says which
 *   inode) whose removal a crash cut short: removed; any other plain file was renamed in
 *   after it, uncommitted, and is taken as the next version (as below), the tagged one
 *   removed. A tagged file no record names never published (or was replaced): removed.
 * - A record without a file is a delete that crashed before its commit: dropped.
 */
export async function recoverChunks(files: ChunkFiles, records: ChunkRecords, pool: BufferPool, log: Logger): Promise<RecoveredChunks> {
  const dir = files.dir;
  const stored = records.all();
  const onDisk = new Map<string, { size: number; identity: FileIdentity; file?: string }>();
  const taggedFiles: Array<{ chunkId: string; name: string; size: number; identity: FileIdentity }> = [];
  /** Tagged versions a plain file renamed in after them replaces: removed once the records say so. */
  const stale: string[] = [];
  const report = { chunks: 0, removedTempFiles: 0, removedDataFiles: 0, recomputedSums: 0, truncated: 0, replayed: 0, upgradedSums: 0 };
  let usedBytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(dir, entry.name);
    if (entry.name.startsWith(TEMP_PREFIX) && entry.name.endsWith(TEMP_SUFFIX)) {
      await unlink(path);
      report.removedTempFiles++;
      continue;
    }
    const st = await stat(path, { bigint: true });
    const tagged = chunkOfTagged(entry.name);
    if (tagged !== null) {
      taggedFiles.push({ chunkId: tagged, name: entry.name, size: Number(st.size), identity: identityOf(st) });
      continue;
    }
    if (!isSafeId(entry.name)) {
      usedBytes += charge(Number(st.size));
      continue;
    }
    onDisk.set(entry.name, { size: Number(st.size), identity: identityOf(st) });
  }
  // A large store's tagged file is the chunk once a record names it; any other is a store
  // that never published, or a replaced version whose removal a crash cut short.
  for (const t of taggedFiles) {
    if (stored.get(t.chunkId)?.file !== t.name) {
      await unlink(join(dir, t.name));
      report.removedDataFiles++;
      continue;
    }
    const plain = onDisk.get(t.chunkId);
    const replaced = stored.get(t.chunkId)?.replaced;
    if (plain && !(replaced && identitySame(replaced, plain.identity))) {
      // Renamed in after the tagged version (commit_chunk, a smaller store), its commit cut
      // short: that is the newer version, as when it replaces a plain one (below).
      stale.push(t.name);
      continue;
    }
    if (plain) {
      await unlink(files.plainPath(t.chunkId));
      report.removedDataFiles++;
    }
    onDisk.set(t.chunkId, { size: t.size, identity: t.identity, file: t.name });
  }

  const updates = new Map<string, ChunkRecord>();
  for (const redo of records.redos()) {
    const file = onDisk.get(redo.chunkId);
    if (!file || !identitySame(redo.after, file.identity)) {
      await records.dropRedo(redo.chunkId);
      continue;
    }
    await files.writeAt(redo.chunkId, redo.offset, redo.data, 'replay.written', 'replay.written');
    await records.finishRedo(redo.chunkId, redo.after);
    stored.set(redo.chunkId, redo.after);
    file.size = Math.max(file.size, redo.offset + redo.data.length);
    report.replayed++;
  }

  const damaged: RecoveredChunks['damaged'] = [];
  const chunks = new Map<string, ChunkRecord>();
  for (const [chunkId, file] of onDisk) {
    const record = stored.get(chunkId);
    if (record && identitySame(record, file.identity)) {
      if (file.size > record.size) {
        await files.truncate(chunkId, record.size);
        report.truncated++;
      } else if (file.size < record.size) {
        damaged.push({ chunkId, reason: `file holds ${file.size} of ${record.size} committed bytes` });
      }
      chunks.set(chunkId, record);
      usedBytes += charge(record.size);
      continue;
    }
    const legacy = record ? null : await legacySums(dir, chunkId, file.identity, file.size);
    if (legacy === 'damaged') {
      // Unverifiable: never blessed with fresh sums; the store quarantines it right away.
      damaged.push({ chunkId, reason: 'checksum file damaged' });
      chunks.set(chunkId, { size: file.size, version: 1, crcs: new Uint32Array(0), ino: file.identity.ino, btimeNs: file.identity.btimeNs });
      usedBytes += charge(file.size);
      continue;
    }
    let crcs: Uint32Array;
    if (legacy instanceof Uint32Array) {
      crcs = legacy;
      report.upgradedSums++;
    } else {
      const fh = await open(join(dir, file.file ?? chunkId), 'r');
      try {
        crcs = await sumsOfFile(fh, file.size, pool);
      } finally {
        await fh.close();
      }
      report.recomputedSums++;
      log[record ? 'warn' : 'debug']({ chunk_id: chunkId, why: record ? 'record names another file' : 'no record' }, 'checksums computed from the chunk as it is');
    }
    const fresh: ChunkRecord = { size: file.size, version: (record?.version ?? 0) + 1, crcs, ino: file.identity.ino, btimeNs: file.identity.btimeNs, file: file.file };
    chunks.set(chunkId, fresh);
    updates.set(chunkId, fresh);
    usedBytes += charge(file.size);
  }
  const gone = [...stored.keys()].filter((id) => !onDisk.has(id));
  for (const id of gone) files.nameData(id, undefined);
  for (const [id, r] of chunks) files.nameData(id, r.file);
  if (updates.size > 0 || gone.length > 0) await records.putMany(updates, gone);
  for (const name of stale) {
    await unlink(join(dir, name));
    report.removedDataFiles++;
  }
  await removeLegacyMeta(dir);
  report.chunks = chunks.size;
  return { chunks, usedBytes, damaged, report };
}
