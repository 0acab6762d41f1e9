import { createHash } from 'node:crypto';
import { badRequest, MSG, RequestError } from '../errors.js';
import { isSafeId } from '../safe-name.js';
import type { Command, Request } from './messages.js';
import { isSpilledBin, type Payload } from './spill.js';

export type Fields = Record<string, unknown>;

/** Checks the frame's outer shape: a map with a string `command`. */
export function readEnvelope(decoded: unknown): { command: string; fields: Fields } {
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded) || Buffer.isBuffer(decoded)) {
    throw badRequest('body is not a map');
  }
  const fields = decoded as Fields;
  if (!Object.hasOwn(fields, 'command')) throw badRequest('missing command');
  if (typeof fields.command !== 'string') throw badRequest('command is not a string');
  return { command: fields.command, fields };
}

function has(f: Fields, name: string): boolean {
  return Object.hasOwn(f, name) && f[name] !== null && f[name] !== undefined;
}

export function str(f: Fields, name: string): string {
  const v = f[name];
  if (!Object.hasOwn(f, name) || typeof v !== 'string') throw badRequest(name);
  return v;
}

export function optStr(f: Fields, name: string): string | null {
  return has(f, name) ? str(f, name) : null;
}

export function bin(f: Fields, name: string): Buffer {
  const v = f[name];
  if (!Object.hasOwn(f, name) || !(v instanceof Uint8Array)) throw badRequest(name);
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.length);
}

/** A bin field that may have been spilled to disk while a large frame arrived. */
export function payload(f: Fields, name: string): Payload {
  const v = f[name];
  return Object.hasOwn(f, name) && isSpilledBin(v) ? v : bin(f, name);
}

export function uint(f: Fields, name: string): number {
  const v = f[name];
  if (!Object.hasOwn(f, name) || typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw badRequest(name);
  return v;
}

export function strList(f: Fields, name: string): string[] {
  const v = f[name];
  if (!Object.hasOwn(f, name) || !Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw badRequest(name);
  return v as string[];
}

export function optUint(f: Fields, name: string): number | null {
  return has(f, name) ? uint(f, name) : null;
}

function id(f: Fields, name: string, invalid: string): string {
  const v = str(f, name);
  if (!isSafeId(v)) throw new RequestError(invalid);
  return v;
}

export const chunkId = (f: Fields): string => id(f, 'chunk_id', MSG.invalidChunkId);
export const transactionId = (f: Fields): string => id(f, 'transaction_id', MSG.invalidTransactionId);

/**
 * The reference tests `replica_servers` for truth: a primary forwards with `True`, the
 * master re-replicates with `True`. nil, false and an empty list mean "act as primary".
 */
export function isReplicaFlag(f: Fields): boolean {
  const v = f.replica_servers;
  if (v === undefined || v === null || v === false) return false;
  return !(Array.isArray(v) && v.length === 0);
}

export type Validator<C extends Command> = (f: Fields) => Extract<Request, { command: C }>;

export const validators: { [C in Command]: Validator<C> } = {
  store_chunk: (f) => ({
    command: 'store_chunk',
    chunk_id: chunkId(f),
    data: payload(f, 'data'),
    file_path: optStr(f, 'file_path'),
    chunk_index: optUint(f, 'chunk_index'),
    client_id: optStr(f, 'client_id'),
    isReplica: isReplicaFlag(f),
    version: optUint(f, 'version'),
  }),
  retrieve_chunk: (f) => ({ command: 'retrieve_chunk', chunk_id: chunkId(f) }),
  delete_chunk: (f) => ({ command: 'delete_chunk', chunk_id: chunkId(f) }),
  check_space: (f) => ({ command: 'check_space', size: uint(f, 'size') }),
  prepare_chunk: (f) => ({
    command: 'prepare_chunk',
    chunk_id: chunkId(f),
    transaction_id: transactionId(f),
    data: bin(f, 'data'),
    file_path: optStr(f, 'file_path'),
  }),
  prepare_append: (f) => ({
    command: 'prepare_append',
    chunk_id: chunkId(f),
    transaction_id: transactionId(f),
    data: bin(f, 'data'),
    offset: uint(f, 'offset'),
  }),
  append_chunk: (f) => ({
    command: 'append_chunk',
    chunk_id: chunkId(f),
    data: bin(f, 'data'),
    offset: optUint(f, 'offset'),
    file_path: optStr(f, 'file_path'),
    isReplica: isReplicaFlag(f),
    version: optUint(f, 'version'),
  }),
  commit_chunk: (f) => ({ command: 'commit_chunk', chunk_id: chunkId(f), transaction_id: transactionId(f) }),
  rollback_chunk: (f) => ({ command: 'rollback_chunk', chunk_id: chunkId(f), transaction_id: transactionId(f) }),
  commit_append: (f) => ({ command: 'commit_append', chunk_id: chunkId(f), transaction_id: transactionId(f) }),
  rollback_append: (f) => ({ command: 'rollback_append', chunk_id: chunkId(f), transaction_id: transactionId(f) }),
  replicate_chunk: (f) => {
    const data = bin(f, 'data');
    return {
      command: 'replicate_chunk',
      chunk_id: has(f, 'chunk_id') ? chunkId(f) : createHash('sha256').update(data).digest('hex'),
      data,
      file_path: optStr(f, 'file_path'),
      chunk_index: optUint(f, 'chunk_index'),
      replica_servers: strList(f, 'replica_servers'),
      current_replica: uint(f, 'current_replica'),
      version: optUint(f, 'version'),
    };
  },
};
