// Fields both servers take, each with its bound (protocol/PROTOCOL.md, "Bounds of fields").
import { InvalidChunkIdError, InvalidPathError, InvalidTransactionIdError } from '../errors.js';
import { MAX_PATH_BYTES, pathProblem } from '../paths.js';
import { isSafeId } from '../safe-name.js';
import { fail, isNil, list, str, type Field } from './shape.js';

/** The largest bin a frame can carry (its 4-byte length prefix); each server's frame limit is lower. */
export const MAX_BIN_BYTES = 2 ** 32 - 1;
const MAX_CLIENT_ID_BYTES = 256;
const MAX_ADDRESS_BYTES = 300;
/** More addresses than chunk servers a master registers (master/nodes.ts MAX_SERVERS) is no real list. */
const MAX_ADDRESSES = 1000;

/** A safe id (storage/safe-name.ts): a str of another form is answered with the id's own error. */
function safeId(invalid: () => Error): Field<string> {
  return {
    check: (v, label) => {
      if (typeof v !== 'string') return fail(label);
      if (!isSafeId(v)) throw invalid();
      return v;
    },
  };
}

export const chunkId = (): Field<string> => safeId(() => new InvalidChunkIdError());
export const transactionId = (): Field<string> => safeId(() => new InvalidTransactionIdError());
export const filePath = (): Field<string> => str({ maxBytes: MAX_PATH_BYTES });
/**
 * A name a command creates: it must keep the path rule (src/paths.ts), answered
 * `invalid_path: <why>`; a value that is no str (or too long) is `bad_request: <field>`.
 */
export const newPath = (): Field<string> => {
  const any = filePath();
  return {
    check: (v, label) => {
      const s = any.check(v, label);
      const why = pathProblem(s);
      if (why !== null) throw new InvalidPathError(why);
      return s;
    },
  };
};
export const clientId = (): Field<string> => str({ maxBytes: MAX_CLIENT_ID_BYTES });

const ADDRESS = /^.+:\d{1,5}$/;
/** `host:port`; `checked` false: any str of an address's length (what the reference never checked). */
export const address = ({ checked = true } = {}): Field<string> => str({ maxBytes: MAX_ADDRESS_BYTES, test: checked ? (s) => ADDRESS.test(s) : undefined });
export const addresses = (o?: { checked?: boolean }): Field<string[]> => list(address(o), { max: MAX_ADDRESSES });

export type Location = [number, number];
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** `[x, y]` (a Python tuple arrives as an array). */
export function location(): Field<Location> {
  return { check: (v, label) => (Array.isArray(v) && v.length === 2 && finite(v[0]) && finite(v[1]) ? [v[0], v[1]] : fail(label)) };
}

/**
 * `replica_servers` tested for truth, as the reference does: a primary forwards with `True`,
 * the master re-replicates with `True`; nil, false and an empty list mean "act as primary".
 */
export function isReplicaFlag(v: unknown): boolean {
  return !(isNil(v) || v === false || (Array.isArray(v) && v.length === 0));
}

export const replicaFlag = (): Field<boolean> => ({ from: 'replica_servers', check: isReplicaFlag });

/** Every entry a str first, then every one a valid id: a list with both faults is answered `bad_request: <label>`, as it always was. */
export function chunkIds({ max }: { max: number }): Field<string[]> {
  const strings = list<string>({ check: (v, label) => (typeof v === 'string' ? v : fail(label)) }, { max });
  const id = chunkId();
  return { check: (v, label) => strings.check(v, label).map((s) => id.check(s, label)) };
}
