import type { Logger } from 'pino';
import type { Rpc } from '../cluster/rpc.js';
import type { MetadataStore, PendingChunk } from './metadata.js';
import type { Nodes } from './nodes.js';

export interface ReplicatorOptions {
  readonly meta: MetadataStore;
  readonly nodes: Nodes;
  readonly rpc: Rpc;
  readonly replicationFactor: number;
  readonly intervalMs: number;
  /** For check_space, in ms. */
  readonly controlTimeoutMs: number;
  readonly log: Logger;
  /** Sees each copy to a target start and end (bytes moved, or null when it failed): metrics. */
  readonly onCopy?: (phase: 'start' | 'end', bytes: number | null) => void;
}

/**
 * Background re-replication, as the reference master meant it: for each chunk marked
 * pending, copy it from a live holder (retrieve_chunk) to live servers that lack it and
 * have room (store_chunk with `replica_servers: True`) until replication_factor servers
 * hold it. One pass at a time, one chunk at a time: the master holds at most one chunk in
 * memory.
 */
export class Replicator {
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ReplicatorOptions) {}

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass().finally(() => this.schedule());
    }, this.opts.intervalMs);
  }

  /** One pass over every pending chunk; never rejects. */
  async pass(): Promise<void> {
    for (const chunk of this.opts.meta.pending()) {
      if (this.stopped) return;
      try {
        await this.replicate(chunk);
      } catch (err) {
        this.opts.log.error({ err, chunk_id: chunk.chunk_id }, 're-replication failed');
      }
    }
  }

  private async replicate(chunk: PendingChunk): Promise<void> {
    const { nodes, rpc, log } = this.opts;
    let missing = this.opts.replicationFactor - chunk.locations.length;
    const sources = chunk.locations.filter((a) => nodes.isLive(a));
    const targets = nodes
      .live()
      .map((s) => s.address)
      .filter((a) => !chunk.locations.includes(a));
    if (missing <= 0 || sources.length === 0 || targets.length === 0) return;

    let data: Buffer | null = null;
    for (const target of targets) {
      if (missing === 0) break;
      if (!(await this.hasRoom(target, chunk.size))) continue;
      data ??= await this.fetch(chunk, sources);
      if (data === null) return;
      this.opts.onCopy?.('start', 0);
      try {
        const reply = await rpc.request(target, { command: 'store_chunk', chunk_id: chunk.chunk_id, file_path: chunk.file_path, data, replica_servers: true });
        if (reply.status !== 'ok') {
          this.opts.onCopy?.('end', null);
          log.warn({ chunk_id: chunk.chunk_id, target, message: reply.message }, 're-replication target refused the chunk');
          continue;
        }
      } catch (err) {
        this.opts.onCopy?.('end', null);
        log.warn({ chunk_id: chunk.chunk_id, target, err: (err as Error).message }, 're-replication target unreachable');
        continue;
      }
      this.opts.onCopy?.('end', data.length);
      await this.opts.meta.addLocation(chunk.file_path, chunk.chunk_id, target);
      missing--;
      log.info({ chunk_id: chunk.chunk_id, file_path: chunk.file_path, target, missing }, 're-replicated chunk');
    }
  }

  private async hasRoom(target: string, size: number): Promise<boolean> {
    try {
      const reply = await this.opts.rpc.request(target, { command: 'check_space', size }, this.opts.controlTimeoutMs);
      return reply.status === 'ok';
    } catch {
      return false;
    }
  }

  /** The chunk's bytes from the first live holder that gives them. */
  private async fetch(chunk: PendingChunk, sources: string[]): Promise<Buffer | null> {
    for (const source of sources) {
      try {
        const reply = await this.opts.rpc.request(source, { command: 'retrieve_chunk', chunk_id: chunk.chunk_id });
        if (reply.status === 'ok' && Buffer.isBuffer(reply.data)) return reply.data;
        this.opts.log.warn({ chunk_id: chunk.chunk_id, source, message: reply.message }, 're-replication source could not give the chunk');
      } catch (err) {
        this.opts.log.warn({ chunk_id: chunk.chunk_id, source, err: (err as Error).message }, 're-replication source unreachable');
      }
    }
    return null;
  }
}
