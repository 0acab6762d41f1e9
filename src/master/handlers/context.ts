import type { Logger } from 'pino';
import type { MetadataStore } from '../metadata.js';
import type { Nodes } from '../nodes.js';

/** What a master handler may use. */
export interface MasterContext {
  readonly nodes: Nodes;
  readonly meta: MetadataStore;
  readonly replicationFactor: number;
  readonly log: Logger;
}
