import { isIP } from 'node:net';
import { connect } from 'node:tls';
import type { Logger } from 'pino';
import type { EtcdAccess } from '../../config/etcd-access.js';

// After the handshake, how long to wait for etcd to reject our client certificate: under
// TLS 1.3 that alert comes after the client has already seen the handshake complete.
const REJECTION_WAIT_MS = 1000;

/** Why a TLS handshake with `endpoint` failed; null: it succeeded; 'unreachable': no TCP connection (etcd not up yet). */
function handshake(endpoint: string, credentials: EtcdAccess['credentials']): Promise<string | null> {
  const { hostname, port } = new URL(endpoint);
  const host = hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    let connected = false;
    const socket = connect({ host, port: Number(port), servername: isIP(host) ? undefined : host, ca: credentials?.rootCertificate, cert: credentials?.certChain, key: credentials?.privateKey });
    const done = (result: string | null) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => (connected = true));
    socket.once('secureConnect', () => setTimeout(() => done(null), REJECTION_WAIT_MS).unref());
    socket.once('error', (err) => done(connected ? err.message : 'unreachable'));
  });
}

/**
 * Tells the log why TLS to etcd fails. grpc reports a refused certificate only as
 * "UNAVAILABLE: No connection established", so each endpoint is shaken hands with once
 * here with the same credentials, retried every `everyMs` while it is unreachable; a
 * handshake error is logged, a success is not. No credentials: the system's CAs, as etcd3
 * uses for https:// endpoints then. Returns a stop function.
 */
export function probeEtcdTls(endpoints: readonly string[], credentials: EtcdAccess['credentials'], everyMs: number, log: Logger): () => void {
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const probe = async (endpoint: string): Promise<void> => {
    const reason = await handshake(endpoint, credentials);
    if (stopped || reason === null) return;
    if (reason === 'unreachable') {
      const timer = setTimeout(() => {
        timers.delete(timer);
        void probe(endpoint);
      }, everyMs);
      timers.add(timer);
      return;
    }
    log.error({ endpoint, reason }, 'TLS to etcd failed: check [master] etcd_ca_file, etcd_cert_file and etcd_key_file');
  };
  for (const e of endpoints) void probe(e);
  return () => {
    stopped = true;
    for (const timer of timers) clearTimeout(timer);
  };
}
