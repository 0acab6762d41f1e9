// A new leader names no other primary while a lease the old leader granted may be in force
// (real etcd, two masters, two chunk servers): a record_append goes through a primary, the
// leader is killed -9, and until that lease's end every reply of the new leader to
// get_lease (asked by the other holder) and get_chunk_locations names that primary or none.
import t from 'tap';
import { GfsClient } from '../../../src/client/index.js';
import { waitForReports } from '../../support/cluster-probes.js';
import { bytes } from '../../support/data.js';
import { leaderOf, startEtcdMasters } from '../../support/etcd-cluster.js';
import { call, type Reply } from '../../support/frames.js';
import { waitFor } from '../../support/waits.js';

// Long enough that the failover (a 2 s etcd lease) ends well inside it on a loaded machine.
const LEASE_S = 20;
const FILE = '/log';

/** The primary a reply names: a grant's, a not_primary's, or get_chunk_locations'; null for none. */
function named(r: Reply | null): string | null {
  return r !== null && typeof r.primary === 'string' ? r.primary : null;
}

t.test('a new leader waits out the old leader\'s chunk lease before naming another primary', async (t) => {
  const c = await startEtcdMasters(t, {
    masters: 2,
    servers: 2,
    master: `replication_factor = 2\nlease_s = ${LEASE_S}\netcd_safe_mode_s = 1\n`,
    chunk: '[master]\nreplication_factor = 2\n',
  });
  const first = await leaderOf(c.masters);
  const standby = c.masters.find((m) => m !== first)!;
  const addresses = c.servers.map((s) => s.address);
  await waitForReports(first.port, addresses);

  const client = new GfsClient({ master: `${first.address},${standby.address}`, chunkSize: 100_000 });
  t.teardown(() => client.close());
  await client.put(bytes(10_000, 5), FILE);
  const meta = (await call(first.port, { command: 'get_file_metadata', file_path: FILE })).metadata as Reply;
  const chunkId = meta.last_chunk_id as string;
  // Every leader, the first one too, grants no lease for lease_s after taking office.
  await waitFor('the first leader to name a primary', async () => named(await call(first.port, { command: 'get_chunk_locations', file_path: FILE, chunk_id: chunkId })) ?? undefined, 120_000, 200);
  await client.append(FILE, bytes(1_000, 6));
  const before = await call(first.port, { command: 'get_chunk_locations', file_path: FILE, chunk_id: chunkId });
  const primary = named(before)!;
  const leaseEnd = before.lease_end as number;
  t.ok(addresses.includes(primary) && leaseEnd > Date.now(), `the old leader names a primary (${primary}) with a lease in force`);
  const other = addresses.find((a) => a !== primary)!;

  first.proc.kill('SIGKILL');
  const second = await leaderOf([standby]);
  await waitForReports(second.port, addresses);
  const asked: Array<{ sentAt: number; command: string; primary: string | null }> = [];
  const ask = async (req: Reply): Promise<Reply | null> => {
    const sentAt = Date.now();
    const r = await call(second.port, { ...req, file_path: FILE, chunk_id: chunkId }).catch(() => null);
    asked.push({ sentAt, command: String(req.command), primary: named(r) });
    return r;
  };
  // Until a primary is named after the old lease's end (the new leader must name one then).
  await waitFor('a primary named after the old lease ended', async () => {
    await ask({ command: 'get_lease', address: other });
    const r = await ask({ command: 'get_chunk_locations' });
    return asked.at(-1)!.sentAt > leaseEnd && named(r) !== null ? true : undefined;
  }, 180_000, 100);

  const inForce = asked.filter((a) => a.sentAt < leaseEnd);
  t.ok(inForce.length > 0, `the new leader was asked ${inForce.length} times while the old lease was in force`);
  t.same(inForce.filter((a) => a.primary !== null && a.primary !== primary), [], 'no reply names another primary before the old lease ends');
  t.ok(asked.some((a) => a.sentAt > leaseEnd && a.primary !== null), 'after it, the new leader names a primary');
});
