// The one door of storage: nothing outside src/storage/ imports any other file of it.
export { BLOCK_BYTES, describeMismatch, sumsOfBuffer, type Mismatch } from './checksums/block-sums.js';
export { ChunkStore, DEFAULT_WAL_BYTES, type StoreOpenReport, type StoreOptions } from './chunk-store.js';
export type { ChunkChange, ChunkSummary } from './chunks/types.js';
export { QUARANTINE_DIR } from './integrity/quarantine.js';
export { startScrubber, type Scrubber, type ScrubberOptions } from './integrity/scrubber.js';
export type { VerifiedChunk } from './integrity/verified-chunk.js';
export { DirSyncer } from './io/dir-syncer.js';
export { fileBodyOf, readFully, READ_AHEAD_BLOCKS, READ_BLOCK_BYTES } from './io/file-body.js';
export { charge, chargeDelta, DISK_MARGIN_BYTES, FILE_OVERHEAD_BYTES, largestFitting, txCharge } from './space/charges.js';
export { SpaceAccount, type Reservation } from './space/space-account.js';
export { recordedPort, recordServer, type ServerInfoEntry } from './startup/server-info.js';
export type { TxKind } from './transactions/prepared-area.js';
export type { PreparedTx } from './transactions/prepared-tx.js';
export type { CommitResult, RollbackResult, Transactions } from './transactions/transactions.js';
