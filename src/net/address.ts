import { PeerError } from './peer-errors.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * `host:port` -> its parts, or null when `address` is not one (no host, or a port outside
 * 1-65535). An IPv6 host is bracketed (`[::1]:5000`); the brackets are not part of the host.
 */
export function splitAddress(address: string): HostPort | null {
  const at = address.lastIndexOf(':');
  const port = Number(address.slice(at + 1));
  let host = address.slice(0, at);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (at <= 0 || host === '' || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host, port };
}

/** splitAddress for a peer's address; throws a PeerError when it is not one. */
export function parseAddress(address: string): HostPort {
  const parts = splitAddress(address);
  if (parts === null) throw new PeerError(address, 'not a host:port address');
  return parts;
}

/** The inverse of splitAddress: an IPv6 host gets its brackets back. */
export function joinAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
