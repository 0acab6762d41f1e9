// Named steps where a test can have the master's store refuse a write, as a full disk or a
// failed commit would (etcd's failpoints, as the chunk server's crash points):
// MASTER_FAIL_AT=<name>. Read once, at load; unset in production, where each call is one
// string comparison. The names are listed in docs/development.md.
const armed = process.env.MASTER_FAIL_AT ?? '';

/** `namespace.commit`: every change of a file or chunk record fails at its commit, nothing written. */
export type FailPoint = 'namespace.commit';

export class FailPointError extends Error {
  constructor(readonly point: FailPoint) {
    super(`fail point ${point}`);
    this.name = 'FailPointError';
  }
}

export function failsAt(name: FailPoint): boolean {
  return armed === name;
}
