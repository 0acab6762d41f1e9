import { badRequest } from '../errors.js';
import { isSafeId } from '../safe-name.js';
import { chunkId, optStr, optUint, str, strList, uint, type Fields } from '../wire/validate.js';
import type { ChunkSummary } from './chunk-map.js';
import type { ChunkChange, MasterCommand, MasterRequestOf } from './messages.js';
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

// A chunk longer than this is not a chunk (the largest frame is 4 GiB).
const MAX_CHUNK_BYTES = 2 ** 32;
const DIGEST = /^[0-9a-f]{1,128}$/;

function obj(v: unknown, name: string): Fields {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Buffer.isBuffer(v)) throw badRequest(name);
  return v as Fields;
}

function list(f: Fields, name: string, max: number): unknown[] {
  const v = f[name];
  if (!Array.isArray(v) || v.length > max) throw badRequest(name);
  return v;
}

function summary(v: unknown, name: string): ChunkSummary {
  const e = obj(v, name);
  const id = e.chunk_id;
  if (typeof id !== 'string' || !isSafeId(id)) throw badRequest(`${name} chunk_id`);
  const length = e.length;
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0 || length > MAX_CHUNK_BYTES) throw badRequest(`${name} length`);
  const version = e.version ?? 0;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) throw badRequest(`${name} version`);
  if (typeof e.digest !== 'string' || !DIGEST.test(e.digest)) throw badRequest(`${name} digest`);
  return { chunk_id: id, length, version, digest: e.digest };
}

function change(v: unknown, name: string): ChunkChange {
  const e = obj(v, name);
  if (e.deleted === true) {
    chunkId({ chunk_id: e.chunk_id });
    return { chunk_id: e.chunk_id as string, deleted: true };
  }
  return summary(e, name);
}

function failedCopy(v: unknown): { chunk_id: string; target: string } {
  const e = obj(v, 'failed_copies');
  return { chunk_id: chunkId(e), target: address(e, 'target') };
}

/** Heartbeat extensions; a bad entry refuses the whole heartbeat (the server logs and retries). */
export function reportFields(f: Fields): { chunk_report: ChunkSummary[] | null; chunk_changes: ChunkChange[]; failed_copies: { chunk_id: string; target: string }[] } {
  return {
    chunk_report: present(f, 'chunk_report') ? list(f, 'chunk_report', 50_000_000).map((e) => summary(e, 'chunk_report')) : null,
    chunk_changes: present(f, 'chunk_changes') ? list(f, 'chunk_changes', 50_000_000).map((e) => change(e, 'chunk_changes')) : [],
    failed_copies: present(f, 'failed_copies') ? list(f, 'failed_copies', 1_000_000).map(failedCopy) : [],
  };
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
    ...reportFields(f),
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
    version: optUint(f, 'version') ?? 0,
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
  update_chunk_offset: (f) => ({
    command: 'update_chunk_offset',
    file_path: str(f, 'file_path'),
    chunk_id: chunkId(f),
    offset: uint(f, 'offset'),
    version: optUint(f, 'version') ?? 0,
    chunk_locations: present(f, 'chunk_locations') ? addressList(f, 'chunk_locations') : null,
  }),
  get_graph_data: () => ({ command: 'get_graph_data' }),
  delete_file: (f) => ({ command: 'delete_file', file_path: str(f, 'file_path') }),
  decommission_server: (f) => ({ command: 'decommission_server', address: address(f, 'address') }),
  cluster_status: () => ({ command: 'cluster_status' }),
};
