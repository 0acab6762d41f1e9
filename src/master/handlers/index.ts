import { errorToReply, unknownCommand } from '../../errors.js';
import { readEnvelope } from '../../wire/validate.js';
import type { MasterCommand, MasterRequestOf } from '../messages.js';
import { masterValidators } from '../validate.js';
import { registerChunkServer, heartbeat } from './chunk-servers.js';
import { clientHeartbeat, registerClient } from './clients.js';
import type { MasterContext } from './context.js';
import { addFile, getChunkLocations, getFileMetadata, listFiles, updateChunkOffset, updateFileMetadata } from './files.js';
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
};

export const MASTER_COMMANDS = Object.keys(masterHandlers) as MasterCommand[];

function isMasterCommand(name: string): name is MasterCommand {
  return Object.hasOwn(masterHandlers, name);
}

/** Decoded frame -> reply; never throws (same contract as the chunk server's dispatch). */
export async function dispatchMaster(decoded: unknown, ctx: MasterContext): Promise<Record<string, unknown>> {
  let command: string | undefined;
  try {
    const envelope = readEnvelope(decoded);
    command = envelope.command;
    if (!isMasterCommand(command)) throw unknownCommand(command);
    return await run(command, envelope.fields, ctx);
  } catch (err) {
    const { reply, expected } = errorToReply(err);
    if (!expected) ctx.log.error({ err, command }, 'request failed');
    else ctx.log.debug({ command, message: reply.message }, 'request refused');
    return reply;
  }
}

function run<C extends MasterCommand>(command: C, fields: Record<string, unknown>, ctx: MasterContext): Promise<Record<string, unknown>> {
  const req = masterValidators[command](fields);
  return (masterHandlers[command] as MasterHandler<C>)(req, ctx);
}
