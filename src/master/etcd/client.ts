import { Etcd3 } from 'etcd3';
import type { EtcdAccess } from '../../config/etcd-access.js';

/**
 * The etcd client of a master. Every call has a deadline of one lease TTL: a leader that
 * cannot reach etcd for that long is no longer leader anyway, and a request must fail
 * rather than hang. `access` carries the TLS credentials and etcd user, if any.
 */
export function openEtcd(endpoints: readonly string[], ttlS: number, access: EtcdAccess = {}): Etcd3 {
  return new Etcd3({
    ...access,
    hosts: [...endpoints],
    dialTimeout: ttlS * 1000,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + ttlS * 1000 }),
  });
}
