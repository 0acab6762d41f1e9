// The chunk server's commands (protocol/PROTOCOL.md, "Chunk server commands"), one module each.
import { defineCommands } from '../../commands/registry.js';
import appendChunk from './append-chunk.js';
import checkSpace from './check-space.js';
import commitAppend from './commit-append.js';
import commitChunk from './commit-chunk.js';
import deleteChunk from './delete-chunk.js';
import prepareAppend from './prepare-append.js';
import prepareChunk from './prepare-chunk.js';
import recordAppend from './record-append.js';
import replicateChunk from './replicate-chunk.js';
import retrieveChunk from './retrieve-chunk.js';
import rollbackAppend from './rollback-append.js';
import rollbackChunk from './rollback-chunk.js';
import storeChunk from './store-chunk.js';

export const chunkServerCommands = defineCommands([
  storeChunk,
  retrieveChunk,
  deleteChunk,
  checkSpace,
  prepareChunk,
  commitChunk,
  rollbackChunk,
  appendChunk,
  prepareAppend,
  commitAppend,
  rollbackAppend,
  replicateChunk,
  recordAppend,
]);
