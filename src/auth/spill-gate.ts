import type { Logger } from 'pino';
import { AuthFailedError, UnverifiedTooLargeError } from '../errors.js';
import { MemoryBudget } from '../wire/memory-budget.js';
import type { FrameHead, SpilledBin, SpillProvider, SpillTarget } from '../wire/payload.js';
import { ClientKeys } from './keys.js';
import { MEMBER_PREFIX } from './proof.js';
import type { SecuritySettings } from './settings.js';

export interface SpillGateOptions {
  /** Whether `address` is a member this server knows of now (a miss may start a refresh of the list). */
  readonly isMember: (address: string) => boolean;
  readonly log: Logger;
}

/**
 * Prove before you hold (PROTOCOL.md section 7, "Where auth_id goes"): under client_auth a
 * large value is staged against the space limit only when its frame named a signer this
 * server knows before the value (auth_id first). A frame naming an unknown client is refused
 * at once; one naming nobody yet (unsigned, or an old sender that signs with auth_id last)
 * or a member not in the list keeps its value in memory against the small unverified budget
 * shared by all such frames, so it can never take the space a signed store needs.
 */
export function provenSpills(security: SecuritySettings | undefined, inner: SpillProvider, o: SpillGateOptions): SpillProvider {
  if (security === undefined || security.clientAuth === 'off' || security.clientKeysDir === null) return inner;
  const keys = new ClientKeys(security.clientKeysDir);
  const budget = new MemoryBudget(security.unverifiedBytes);
  return {
    open(size: number, head?: FrameHead): SpillTarget {
      const id = head?.text('auth_id');
      if (id !== undefined && !id.startsWith(MEMBER_PREFIX)) {
        if (keys.get(id) === null) throw new AuthFailedError('unknown_key');
        return inner.open(size, head);
      }
      if (id === MASTER || (id !== undefined && o.isMember(id.slice(MEMBER_PREFIX.length)))) return inner.open(size, head);
      if (size > budget.limitBytes) throw new UnverifiedTooLargeError();
      o.log.debug({ auth_id: id, size, held: budget.held }, 'large value before a known signer: unverified budget');
      return new UnverifiedValue(size, budget);
    },
  };
}

const MASTER = `${MEMBER_PREFIX}master`;

/** A value kept in memory, charged to the unverified budget as its bytes arrive (an announced size holds nothing). */
class UnverifiedValue implements SpillTarget {
  readonly backlogBytes = 0;
  private pieces: Buffer[] = [];
  private charged = 0;
  private failed = false;

  constructor(
    private readonly size: number,
    private readonly budget: MemoryBudget,
  ) {}

  write(piece: Buffer): void {
    if (this.failed) return;
    try {
      this.budget.take(piece.length);
    } catch {
      this.failed = true;
      this.release();
      return;
    }
    this.charged += piece.length;
    this.pieces.push(piece);
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }

  async finish(): Promise<SpilledBin | Buffer> {
    if (this.failed) throw new UnverifiedTooLargeError();
    if (this.charged !== this.size) throw new Error(`received ${this.charged} of ${this.size} bytes`);
    if (this.pieces.length > 1) this.pieces = [Buffer.concat(this.pieces, this.size)];
    return this.pieces[0] ?? Buffer.alloc(0);
  }

  async discard(): Promise<void> {
    this.release();
  }

  private release(): void {
    this.budget.give(this.charged);
    this.charged = 0;
    this.pieces = [];
  }
}
