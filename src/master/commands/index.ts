import { dispatchTo } from '../../chunk-server/dispatch.js';
import type { MasterCommand, MasterRequestOf } from '../messages.js';
import { masterValidators } from '../validate.js';
import { registerChunkServer, heartbeat } from './chunk-servers.js';
import { clientHeartbeat, registerClient } from './clients.js';
import type { MasterContext } from './context.js';
import { clusterStatus, decommissionServer } from './cluster.js';
import { addFile, deleteFile, getChunkLocations, getFileMetadata, listFiles, updateChunkOffset, updateFileMetadata } from './files.js';
import { getChunkServers, getGraphData, getReplicaLocations } from './placement.js';

export type MasterHandler<C extends MasterCommand> = (req: MasterRequestOf<C>, ctx: MasterContext) => Promise<Record<string, unknown>>;

export const masterHandlers: { [C in MasterCommand]: MasterHandler<C> } = {
  register_chunk_server: registerChunkServer,
  heartbeat,
  get_replica_locations: getReplicaLocations,
  update_file_metadata: updateFileMetadata,
  register_client: registerClient,
  client_heartbeat: clientHeartbeat,
  get_chunk_servers: getChunkServers,
  get_file_metadata: getFileMetadata,
  get_chunk_locations: getChunkLocations,
  list_files: listFiles,
  add_file: addFile,
  update_chunk_offset: updateChunkOffset,
  get_graph_data: getGraphData,
  delete_file: deleteFile,
  decommission_server: decommissionServer,
  cluster_status: clusterStatus,
};

export const MASTER_COMMANDS = Object.keys(masterHandlers) as MasterCommand[];

function isMasterCommand(name: string): name is MasterCommand {
  return Object.hasOwn(masterHandlers, name);
}

/** Decoded frame -> reply; never throws (same contract as the chunk server's dispatch). */
export function dispatchMaster(decoded: unknown, ctx: MasterContext): Promise<Record<string, unknown>> {
  return dispatchTo(decoded, ctx, isMasterCommand, run);
}

function run<C extends MasterCommand>(command: C, fields: Record<string, unknown>, ctx: MasterContext): Promise<Record<string, unknown>> {
  const req = masterValidators[command](fields);
  return (masterHandlers[command] as MasterHandler<C>)(req, ctx);
}
