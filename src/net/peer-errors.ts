// What went wrong on a call this process made to another one: the transport failed
// (PeerError), or the peer answered an error, read as its code and detail.

/** Transport failures on outbound calls (master, peers); never sent to a client as-is. */
export class PeerError extends Error {
  constructor(
    readonly address: string,
    message: string,
  ) {
    super(`${address}: ${message}`);
    this.name = 'PeerError';
  }
}

/** A peer's error reply as code and detail (`code: detail`), for matching what another server answered. */
export function replyCode(message: unknown): { code: string; detail: string | null } | null {
  if (typeof message !== 'string') return null;
  const at = message.indexOf(': ');
  return at < 0 ? { code: message, detail: null } : { code: message.slice(0, at), detail: message.slice(at + 2) };
}
