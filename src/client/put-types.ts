// What a put needs and what it answers: shared by the classic put (put.ts) and the small one (small-put.ts).
import type { Logger } from 'pino';
import type { MasterApi } from './master-api.js';
import type { Caller } from './store.js';

export interface PutDeps {
  readonly master: MasterApi;
  readonly call: Caller;
  readonly chunkSize: number;
  readonly concurrency: number;
  readonly log?: Logger;
}

export interface PutResult {
  readonly size: number;
  readonly chunks: number;
  /** Copies each chunk got as the put stored it (the primary's and its replicas'), in file order. */
  readonly copies: number[];
  /** The master's replication_factor, or null when it does not say (a reference master). */
  readonly factor: number | null;
}
