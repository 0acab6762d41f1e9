// A real etcd (Debian's etcd-server, /usr/bin/etcd) for tests of several masters: one or
// three members on free 127.0.0.1 ports, data in the test's temp dir, SIGKILLed at teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { freePort } from './configs.js';
import type { Teardown } from './temp.js';
import { DEADLINE_MS, waitUntil } from './waits.js';

export const ETCD_BIN = '/usr/bin/etcd';

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly proc: ChildProcess;
  readonly log: () => string;
}

export interface EtcdCluster {
  readonly members: EtcdMember[];
  /** Every member's client URL, as [master] etcd_endpoints takes them. */
  readonly endpoints: string[];
  /** A TOML array of the endpoints. */
  readonly toml: string;
}

/** Whether etcd answers a read through `endpoints`. */
async function answers(endpoints: string[]): Promise<boolean> {
  const client = new Etcd3({ hosts: endpoints, defaultCallOptions: () => ({ deadline: Date.now() + 2000 }) });
  try {
    await client.get('probe').string();
    return true;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

/** Starts `size` etcd members in `dir`; resolves once the cluster answers reads. */
export async function startEtcd(t: Teardown, dir: string, size: 1 | 3 = 1): Promise<EtcdCluster> {
  const ports: { client: number; peer: number }[] = [];
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), peer: await freePort() });
  const names = ports.map((_, i) => `e${i + 1}`);
  const initial = ports.map((p, i) => `${names[i]}=http://127.0.0.1:${p.peer}`).join(',');
  const members = ports.map((p, i): EtcdMember => {
    const clientUrl = `http://127.0.0.1:${p.client}`;
    const proc = spawn(
      ETCD_BIN,
      [
        '--name', names[i]!,
        '--data-dir', join(dir, `etcd-${names[i]}`),
        '--listen-client-urls', clientUrl,
        '--advertise-client-urls', clientUrl,
        '--listen-peer-urls', `http://127.0.0.1:${p.peer}`,
        '--initial-advertise-peer-urls', `http://127.0.0.1:${p.peer}`,
        '--initial-cluster', initial,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', `test-${ports[0]!.client}`,
        '--log-level', 'warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    proc.stderr!.on('data', (c) => (log += c));
    t.teardown(() => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    });
    return { name: names[i]!, clientUrl, proc, log: () => log };
  });
  const endpoints = members.map((m) => m.clientUrl);
  await waitUntil(`etcd at ${endpoints.join(',')}`, () => answers(endpoints), DEADLINE_MS, 200);
  return { members, endpoints, toml: `[${endpoints.map((e) => JSON.stringify(e)).join(', ')}]` };
}
