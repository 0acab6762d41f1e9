// The reference's two-phase append (prepare_append on every holder, then commit_append),
// made safe for many producers (issue 23; PROTOCOL.md, prepare_append and commit_append):
// - a holder refuses a prepare below its committed end with `conflict` naming that end, so a
//   producer working from a stale offset never overwrites another's record: it prepares
//   again at the end named (bounded, jittered retries);
// - every producer commits on the holders in the master's order (the reference client does
//   too), so of the prepares racing for one offset the first holder lets exactly one commit;
//   the others conflict there before any holder changed, and roll back;
// - the append counts once every holder it names as current committed it. A holder that
//   failed after the first one committed is named stale to the master (update_chunk_offset
//   with the holders that have the record), never counted.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { MSG } from '../errors.js';
import { PeerError, replyCode } from '../net/peer-errors.js';
import type { Reply } from '../net/rpc.js';
import { GfsError } from './errors.js';
import type { MasterApi } from './master-api.js';
import type { ChunkPiece } from './source.js';
import type { Caller } from './store.js';

// Each lost race means another producer's record went in, so a producer needs about as many
// attempts as there are producers racing; the bound only stops a holder that never catches up.
const MAX_ATTEMPTS = 100;
// Back-off before attempt n: a random time up to min(MAX, BASE * 2^n) ms, so losers spread out.
const BACKOFF_BASE_MS = 2;
const BACKOFF_MAX_MS = 100;

export interface TwoPhaseDeps {
  readonly master: MasterApi;
  readonly call: Caller;
  readonly chunkSize: number;
  readonly log?: Logger | undefined;
}

export interface TwoPhaseTarget {
  readonly remote: string;
  readonly chunkId: string;
  /** Where the master last recorded the chunk's end: the first offset tried. */
  readonly offset: number;
}

export interface Committed {
  /** Where the record went. */
  readonly offset: number;
  /** The holders that have it (the master was told the others are stale). */
  readonly holders: readonly string[];
}

type Outcome = { ok: true; reply: Reply } | { ok: false; reply: Reply | null; why: string };

async function send(call: Caller, address: string, body: Reply): Promise<Outcome> {
  try {
    const reply = await call(address, body);
    return reply.status === 'ok' ? { ok: true, reply } : { ok: false, reply, why: `${address}: ${String(reply.message)}` };
  } catch (err) {
    return { ok: false, reply: null, why: err instanceof PeerError ? err.message : `${address}: ${(err as Error).message}` };
  }
}

const codeOf = (o: Outcome): string | undefined => (o.ok || !o.reply ? undefined : replyCode(o.reply.message)?.code);
const sizeOf = (o: Outcome): number | null => (!o.ok && typeof o.reply?.size === 'number' ? o.reply.size : null);

/** Unique across processes: two producers preparing under one id would replace each other's record. */
function transactionId(): string {
  return `${Date.now()}-${randomBytes(6).toString('hex')}`;
}

async function holdersOf(master: MasterApi, remote: string, chunkId: string): Promise<string[]> {
  const live = new Set(await master.liveServers());
  // A holder the master no longer counts live cannot take part; readers refuse its copy
  // once it is shorter than the recorded length.
  const holders = (await master.chunkLocations(remote, chunkId)).filter((a) => live.has(a));
  if (holders.length === 0) throw new GfsError('chunk_unavailable', `no live holder of the last chunk of ${remote} (${chunkId})`);
  return holders;
}

/**
 * A commit whose reply was lost may or may not have applied: a rollback tells (it answers
 * already_committed for one that did). null: still unknown.
 */
async function settle(call: Caller, holder: string, tx: Reply, first: Outcome): Promise<boolean | null> {
  if (first.ok) return true;
  if (first.reply) return false;
  const r = await send(call, holder, { command: 'rollback_append', ...tx });
  if (r.ok) return false;
  return codeOf(r) === MSG.alreadyCommitted ? true : null;
}

/** Appends `piece` to the chunk at its committed end, on every holder; see the file's head. */
export async function twoPhaseAppend(deps: TwoPhaseDeps, target: TwoPhaseTarget, piece: ChunkPiece): Promise<Committed> {
  const { remote, chunkId } = target;
  const holders = await holdersOf(deps.master, remote, chunkId);
  let offset = target.offset;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    if (offset + piece.size > deps.chunkSize) {
      throw new GfsError('chunk_unavailable', `the last chunk of ${remote} filled up under other appends before this one (${piece.size} bytes at ${offset}); nothing was appended`);
    }
    const tx = { chunk_id: chunkId, transaction_id: transactionId() };
    const rollback = (hs: readonly string[]): Promise<unknown> => Promise.all(hs.map((h) => send(deps.call, h, { command: 'rollback_append', ...tx })));
    const prepared = await Promise.all(holders.map((h) => send(deps.call, h, { command: 'prepare_append', ...tx, data: piece.body(), offset })));
    const refused = prepared.filter((o) => !o.ok);
    if (refused.length > 0) {
      await rollback(holders.filter((_, i) => prepared[i]!.ok));
      // conflict: the end moved past `offset`; bad_offset: a holder has not applied a commit
      // that another holder has (another producer is between its commits). Both pass.
      const races = refused.every((o) => codeOf(o) === MSG.conflict || (codeOf(o) === MSG.badOffset && (sizeOf(o) ?? offset) < offset));
      if (!races) {
        const full = refused.some((o) => codeOf(o) === MSG.insufficientSpace);
        throw new GfsError(full ? 'cluster_full' : 'chunk_unavailable', `append to ${remote} refused (${refused.map((o) => (o.ok ? '' : o.why)).join('; ')}); nothing was changed`);
      }
      offset = Math.max(offset, ...refused.filter((o) => codeOf(o) === MSG.conflict).map((o) => sizeOf(o) ?? offset));
      await sleep(Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt));
      continue;
    }
    const [first, ...rest] = holders as [string, ...string[]];
    const head = await send(deps.call, first, { command: 'commit_append', ...tx });
    const applied = await settle(deps.call, first, tx, head);
    if (applied !== true) {
      await rollback(rest);
      if (applied === null || codeOf(head) !== MSG.conflict) {
        const why = head.ok ? '' : head.why;
        throw new GfsError('chunk_unavailable', `append to ${remote} was not committed (${why})${applied === null ? '; the first holder may hold it' : '; nothing was changed'}`);
      }
      offset = Math.max(offset, sizeOf(head) ?? offset);
      await sleep(Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt));
      continue;
    }
    const tail = await Promise.all(rest.map(async (h) => ({ h, ok: (await settle(deps.call, h, tx, await send(deps.call, h, { command: 'commit_append', ...tx }))) === true })));
    const have = [first, ...tail.filter((x) => x.ok).map((x) => x.h)];
    const stale = tail.filter((x) => !x.ok).map((x) => x.h);
    const end = offset + piece.size;
    if (stale.length === 0) {
      await deps.master.updateChunkOffset(remote, chunkId, end);
    } else {
      deps.log?.warn({ remote, chunk_id: chunkId, stale }, 'commit_append failed on some holders after the first committed; they are reported stale');
      // Every holder committed on the same base, so the first one's version is theirs (0: not known).
      const version = head.ok ? Number(head.reply.version ?? 0) : 0;
      await deps.master.updateChunkOffset(remote, chunkId, end, { version, holders: have });
    }
    return { offset, holders: have };
  }
  throw new GfsError('chunk_unavailable', `append to ${remote} lost the race for the chunk's end ${MAX_ATTEMPTS} times; nothing was appended`);
}
