import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { FrameHasher } from '../../auth/frame-hasher.js';
import { guarded } from '../../auth/member.js';
import { provenSpills } from '../../auth/spill-gate.js';
import { memberOnlyIn } from '../../commands/registry.js';
import type { ChunkServerConfig } from '../../config/chunk-server.js';
import type { Dispatch } from '../../net/connection.js';
import { listen, type RunningServer } from '../../net/server.js';
import type { ChunkStore } from '../../storage/index.js';
import type { BufferPool } from '../../wire/buffer-pool.js';
import { chunkServerCommands } from '../commands/index.js';
import { MIB, type Layout } from './layout.js';

/**
 * The listener's way to the handlers. Their context needs this server's address, known only
 * once the port is bound, so the router is opened right after listen() resolves, in the same
 * turn of the event loop: no socket is accepted or read before (those are I/O callbacks,
 * which wait for that turn to end).
 */
export class Router {
  private serve: Dispatch | null = null;
  private watch: ((socket: Socket) => void) | null = null;
  private members: ((address: string) => boolean) | null = null;

  readonly dispatch: Dispatch = (decoded, digest) =>
    this.serve === null ? Promise.reject(new Error('request before the handlers were ready')) : this.serve(decoded, digest);

  readonly onSocket = (socket: Socket): void => this.watch?.(socket);

  /** Whether `address` is a cluster member (none before the cluster side is up). */
  readonly isMember = (address: string): boolean => this.members?.(address) ?? false;

  open(serve: Dispatch, watch: ((socket: Socket) => void) | null, members: (address: string) => boolean): void {
    this.serve = serve;
    this.watch = watch;
    this.members = members;
  }
}

/** Binds the client port: the one configured, else the one recorded for this server_id, else a free one. */
export function startListener(
  config: ChunkServerConfig,
  o: { layout: Layout; port: number; store: ChunkStore; pool: BufferPool; router: Router; log: Logger },
): Promise<RunningServer> {
  return listen({
    host: config.host,
    port: o.port,
    limits: {
      maxFrameBytes: o.layout.maxFrameBytes,
      idleTimeoutMs: config.idleTimeoutS * 1000,
      frameTimeoutMs: config.frameTimeoutS * 1000,
      writeTimeoutMs: config.writeTimeoutS * 1000,
    },
    frameMemoryBytes: Math.floor(config.frameMemoryMb * MIB),
    maxConnections: config.maxConnections,
    dispatch: guarded(config.security, { policy: chunkServerCommands.policy, log: o.log }, o.router.dispatch),
    onSocket: o.router.onSocket,
    observeFrames: config.security ? () => new FrameHasher(o.layout.maxFrameBytes) : undefined,
    pool: o.pool,
    // A store waiting for room gives up at half its frame's time, leaving the other half for
    // the rest of its bytes to arrive, so its client reads insufficient_space, not a frame timeout.
    stream: {
      spill: provenSpills(config.security, o.store.spillProvider(o.pool, (config.frameTimeoutS * 1000) / 2), { isMember: o.router.isMember, log: o.log }),
      minFrameBytes: Math.max(1, Math.floor(config.streamThresholdMb * MIB)),
    },
    takesSpilled: chunkServerCommands.takesSpilled,
    tls: config.tls && { settings: config.tls, memberOnly: memberOnlyIn(chunkServerCommands.policy) },
    log: o.log,
  });
}
