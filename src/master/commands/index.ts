// The master's commands (protocol/PROTOCOL.md, "Master commands"), one module each.
import { defineCommands } from '../../commands/registry.js';
import addFile from './add-file.js';
import allocateChunk from './allocate-chunk.js';
import clientHeartbeat from './client-heartbeat.js';
import clusterStatus from './cluster-status.js';
import createFile from './create-file.js';
import decommissionServer from './decommission-server.js';
import deleteFile from './delete-file.js';
import forgetServer from './forget-server.js';
import getChunkLocations from './get-chunk-locations.js';
import getChunkServers from './get-chunk-servers.js';
import getFileMetadata from './get-file-metadata.js';
import getGraphData from './get-graph-data.js';
import getLease from './get-lease.js';
import getReplicaLocations from './get-replica-locations.js';
import heartbeat from './heartbeat.js';
import listFiles from './list-files.js';
import masterStatus from './master-status.js';
import registerChunkServer from './register-chunk-server.js';
import registerClient from './register-client.js';
import renameFile from './rename-file.js';
import reportCorruptChunk from './report-corrupt-chunk.js';
import updateChunkOffset from './update-chunk-offset.js';
import updateFileMetadata from './update-file-metadata.js';

export const masterCommands = defineCommands([
  registerChunkServer,
  heartbeat,
  getReplicaLocations,
  updateFileMetadata,
  registerClient,
  clientHeartbeat,
  getChunkServers,
  getFileMetadata,
  getChunkLocations,
  listFiles,
  addFile,
  updateChunkOffset,
  getGraphData,
  deleteFile,
  decommissionServer,
  forgetServer,
  clusterStatus,
  renameFile,
  reportCorruptChunk,
  getLease,
  allocateChunk,
  masterStatus,
  createFile,
]);
