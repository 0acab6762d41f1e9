import type { Reservation } from '../space/space-account.js';
import type { TxKind } from './prepared-area.js';

export interface PreparedTx {
  readonly kind: TxKind;
  readonly chunkId: string;
  readonly transactionId: string;
  /** Bytes of the prepared file, i.e. of the whole new version. */
  readonly size: number;
  /** Its charge (txCharge), held until it ends: a commit settles it, a rollback releases it. */
  readonly reservation: Reservation;
  /** Milliseconds since the epoch; expiry counts from here, across restarts. */
  readonly createdAt: number;
  readonly stem: string;
  /** Appends: the ChunkStore version the new bytes were built on (see ChunkStore.versionOf). */
  readonly baseVersion: number;
  /** 2: a prepared append holding only its record; 1: a whole new version. */
  readonly format: 1 | 2;
  /** Format 2: where the record goes, and the CRC32 of its bytes. */
  readonly offset: number;
  readonly crc: number;
}

/** Outcome of a transaction that has ended, as later repeats of commit and rollback see it. */
export type Outcome = 'committed' | 'rolled_back';

export interface RecoveryReport {
  preparedTransactions: number;
  preparedBytes: number;
  /** Sidecars whose data had already been renamed onto the chunk: commits that finished. */
  recoveredCommits: number;
  /** Half-written prepared files and stale sidecars removed. */
  removedPreparedFiles: number;
}

// Never equal to any version a chunk can have: marks an append whose base is gone.
export const STALE_VERSION = -1;
// Ended transactions remembered for idempotent repeats; oldest forgotten first.
const MAX_OUTCOMES = 10_000;


/** Bounded memory of ended transactions, so repeated commits and rollbacks answer consistently. */
export class Outcomes {
  private readonly map = new Map<string, Outcome>();

  get(key: string): Outcome | undefined {
    return this.map.get(key);
  }

  set(key: string, outcome: Outcome): void {
    this.map.delete(key);
    this.map.set(key, outcome);
    if (this.map.size > MAX_OUTCOMES) this.map.delete(this.map.keys().next().value!);
  }

  delete(key: string): void {
    this.map.delete(key);
  }
}
