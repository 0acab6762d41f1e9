import { createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import type { Rpc } from '../cluster/rpc.js';
import type { Nodes } from '../master/nodes.js';
import type { NamespaceReader } from './cluster-view.js';
import { HttpError } from './http-server.js';

/** What the console's actions need from the cluster; errors thrown are HttpErrors with words for people. */
export interface ConsoleIO {
  put(path: string, body: Readable, onProgress: (doneBytes: number) => void): Promise<void>;
  get(path: string, out: Writable): Promise<void>;
  append(path: string, data: Buffer): Promise<void>;
  /** The master's `delete_file`, run in this process. */
  remove(path: string): Promise<void>;
}

export interface MasterIOOptions {
  readonly nodes: Nodes;
  readonly meta: NamespaceReader;
  readonly rpc: Rpc;
  /** Bytes per chunk of an upload. */
  readonly chunkBytes: number;
  /** A master command run in this process (no socket): how namespace changes and delete_file are reached. */
  readonly command: (body: Record<string, unknown>) => Promise<Record<string, unknown>>;
}

/**
 * The console's reads and writes, done by the master itself in the reference client's way:
 * each chunk is stored on a primary (the live server with most room), which replicates it
 * and records it in the namespace; reads take each chunk from a live holder.
 */
export function masterIO(o: MasterIOOptions): ConsoleIO {
  const primaries = (size: number): string[] =>
    o.nodes
      .live()
      .filter((s) => !s.space || s.space.total - s.space.used >= size)
      .sort((a, b) => free(b.space) - free(a.space))
      .map((s) => s.address);

  const storeChunk = async (path: string, index: number, data: Buffer): Promise<void> => {
    const chunkId = createHash('sha256').update(data).digest('hex');
    const candidates = primaries(data.length);
    if (candidates.length === 0) throw new HttpError(503, 'no_live_servers', 'no live chunk server has room for the next chunk');
    let last = '';
    for (const primary of candidates) {
      try {
        const reply = await o.rpc.request(primary, { command: 'store_chunk', chunk_id: chunkId, file_path: path, data, chunk_index: index });
        if (reply.status === 'ok') return;
        last = `${primary} answered ${String(reply.message)}`;
      } catch (err) {
        last = `${primary}: ${(err as Error).message}`;
      }
    }
    throw new HttpError(502, 'store_failed', `chunk ${index} could not be stored (${last})`);
  };

  return {
    async put(path, body, onProgress) {
      let index = 0;
      let done = 0;
      for await (const data of chunked(body, o.chunkBytes)) {
        await storeChunk(path, index++, data);
        onProgress((done += data.length));
      }
      // An empty file still gets its entry, as `add_file` declares one.
      if (index === 0) {
        const reply = await o.command({ command: 'add_file', file_path: path, total_size: 0, chunk_ids: [] });
        if (reply.status !== 'ok') throw new HttpError(502, 'store_failed', `the master did not record the empty file: ${String(reply.message)}`);
      }
    },

    async get(path, out) {
      const meta = o.meta.get(path);
      if (!meta) throw new HttpError(404, 'file_not_found', `no such file: ${path}`);
      for (const [index, chunkId] of meta.chunk_ids.entries()) {
        const holders = meta.chunk_locations[chunkId] ?? [];
        const data = await fetchChunk(o, chunkId, [...holders.filter((a) => o.nodes.isLive(a)), ...holders.filter((a) => !o.nodes.isLive(a))]);
        if (!data) throw new HttpError(502, 'chunk_unavailable', `chunk ${index} of ${path} could not be read from any holder`);
        if (!out.write(data)) await new Promise((resolve) => out.once('drain', resolve));
      }
    },

    async append(path, data) {
      const meta = o.meta.get(path);
      if (!meta) throw new HttpError(404, 'file_not_found', `no such file: ${path}`);
      const last = meta.last_chunk_id;
      const lastSize = last === null ? 0 : (meta.chunk_offsets[last] ?? 0);
      if (last === null || lastSize + data.length > o.chunkBytes) {
        // No room in the last chunk: the bytes go into new chunks of their own.
        let index = meta.chunk_ids.length;
        for (let at = 0; at < data.length; at += o.chunkBytes) await storeChunk(path, index++, data.subarray(at, at + o.chunkBytes));
        return;
      }
      const holders = (meta.chunk_locations[last] ?? []).filter((a) => o.nodes.isLive(a));
      if (holders.length === 0) throw new HttpError(502, 'chunk_unavailable', `the last chunk of ${path} has no live holder`);
      const reply = await o.rpc.request(holders[0]!, { command: 'append_chunk', chunk_id: last, data, offset: lastSize, file_path: path });
      if (reply.status !== 'ok') throw new HttpError(502, 'append_failed', `${holders[0]} refused the append: ${String(reply.message)}`);
      const offset = await o.command({ command: 'update_chunk_offset', file_path: path, chunk_id: last, offset: reply.new_offset });
      if (offset.status !== 'ok') throw new HttpError(502, 'append_failed', `the master did not record the new end: ${String(offset.message)}`);
    },

    async remove(path) {
      const reply = await o.command({ command: 'delete_file', file_path: path });
      if (reply.status === 'ok') return;
      if (reply.message === 'file_not_found') throw new HttpError(404, 'file_not_found', `no such file: ${path}`);
      if (String(reply.message).startsWith('unknown_command')) {
        throw new HttpError(501, 'delete_unsupported', 'this master has no delete_file command yet');
      }
      throw new HttpError(502, 'delete_failed', `delete_file failed: ${String(reply.message)}`);
    },
  };
}

function free(space: { total: number; used: number } | null): number {
  return space ? space.total - space.used : 0;
}

async function fetchChunk(o: MasterIOOptions, chunkId: string, holders: string[]): Promise<Buffer | null> {
  for (const holder of holders) {
    try {
      const reply = await o.rpc.request(holder, { command: 'retrieve_chunk', chunk_id: chunkId });
      if (reply.status === 'ok' && Buffer.isBuffer(reply.data)) return reply.data;
    } catch {
      // The next holder may answer.
    }
  }
  return null;
}

/** The stream cut into Buffers of exactly `size` bytes, the last one shorter. */
async function* chunked(body: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let held = 0;
  for await (const piece of body as AsyncIterable<Buffer>) {
    let rest = piece;
    while (held + rest.length >= size) {
      const take = size - held;
      parts.push(rest.subarray(0, take));
      yield Buffer.concat(parts, size);
      rest = rest.subarray(take);
      parts = [];
      held = 0;
    }
    if (rest.length > 0) {
      parts.push(rest);
      held += rest.length;
    }
  }
  if (held > 0) yield Buffer.concat(parts, held);
}
