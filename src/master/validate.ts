import { badRequest } from '../errors.js';
import { chunkId, optStr, optUint, str, strList, uint, type Fields } from '../wire/validate.js';
import type { MasterCommand, MasterRequestOf } from './messages.js';
import type { Location, SpaceInfo } from './nodes.js';

const ADDRESS = /^.+:\d{1,5}$/;

function present(f: Fields, name: string): boolean {
  return Object.hasOwn(f, name) && f[name] !== null && f[name] !== undefined;
}

function address(f: Fields, name: string): string {
  const v = str(f, name);
  if (!ADDRESS.test(v)) throw badRequest(name);
  return v;
}

function addressList(f: Fields, name: string): string[] {
  const v = strList(f, name);
  if (!v.every((a) => ADDRESS.test(a))) throw badRequest(name);
  return v;
}

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** `[x, y]` (a Python tuple arrives as an array). */
function location(f: Fields, name: string): Location {
  const v = f[name];
  if (!Array.isArray(v) || v.length !== 2 || !finite(v[0]) || !finite(v[1])) throw badRequest(name);
  return [v[0], v[1]];
}

function optLocation(f: Fields, name: string): Location | null {
  return present(f, name) ? location(f, name) : null;
}

function optSpaceInfo(f: Fields, name: string): SpaceInfo | null {
  if (!present(f, name)) return null;
  const v = f[name];
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Buffer.isBuffer(v)) throw badRequest(name);
  const total = uint(v as Fields, 'total');
  const used = uint(v as Fields, 'used');
  return { total, used };
}

/** The reference accepts one address or a collection of them; nil means none. */
function excluding(f: Fields): Set<string> {
  const v = f.excluding;
  if (v === undefined || v === null) return new Set();
  if (typeof v === 'string') return new Set([v]);
  return new Set(strList(f, 'excluding'));
}

function optBool(f: Fields, name: string): boolean {
  const v = f[name];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw badRequest(name);
  return v;
}

type MasterValidator<C extends MasterCommand> = (f: Fields) => MasterRequestOf<C>;

export const masterValidators: { [C in MasterCommand]: MasterValidator<C> } = {
  register_chunk_server: (f) => ({ command: 'register_chunk_server', address: address(f, 'address'), location: optLocation(f, 'location') }),
  heartbeat: (f) => ({
    command: 'heartbeat',
    address: address(f, 'address'),
    location: optLocation(f, 'location'),
    space_info: optSpaceInfo(f, 'space_info'),
    corrupt_chunks: present(f, 'corrupt_chunks') ? strList(f, 'corrupt_chunks') : [],
  }),
  get_replica_locations: (f) => ({ command: 'get_replica_locations', excluding: excluding(f), client_id: optStr(f, 'client_id') }),
  update_file_metadata: (f) => ({
    command: 'update_file_metadata',
    file_path: str(f, 'file_path'),
    chunk_id: chunkId(f),
    chunk_locations: addressList(f, 'chunk_locations'),
    chunk_size: present(f, 'chunk_size') ? uint(f, 'chunk_size') : 0,
    chunk_index: optUint(f, 'chunk_index'),
    pending_replication: optBool(f, 'pending_replication'),
  }),
  register_client: (f) => ({ command: 'register_client', client_id: str(f, 'client_id'), location: location(f, 'location') }),
  client_heartbeat: (f) => ({ command: 'client_heartbeat', client_id: str(f, 'client_id'), location: optLocation(f, 'location') }),
  get_chunk_servers: (f) => ({ command: 'get_chunk_servers', client_id: optStr(f, 'client_id') }),
  get_file_metadata: (f) => ({ command: 'get_file_metadata', file_path: str(f, 'file_path') }),
  get_chunk_locations: (f) => ({ command: 'get_chunk_locations', file_path: str(f, 'file_path'), chunk_id: chunkId(f) }),
  list_files: () => ({ command: 'list_files' }),
  add_file: (f) => {
    const ids = strList(f, 'chunk_ids');
    for (const id of ids) chunkId({ chunk_id: id });
    return { command: 'add_file', file_path: str(f, 'file_path'), total_size: uint(f, 'total_size'), chunk_ids: ids };
  },
  update_chunk_offset: (f) => ({ command: 'update_chunk_offset', file_path: str(f, 'file_path'), chunk_id: chunkId(f), offset: uint(f, 'offset') }),
  get_graph_data: () => ({ command: 'get_graph_data' }),
};
