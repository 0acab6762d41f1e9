// Two real masters over a real etcd: kill -9 of the leader hands over to the standby with
// every acknowledged file; a leader paused past its lease (SIGSTOP) cannot commit when it
// wakes, and steps down.
import { join } from 'node:path';
import t from 'tap';
import { masterToml, writeToml } from '../../support/configs.js';
import { startEtcd } from '../../support/etcd.js';
import { call, type Reply } from '../../support/frames.js';
import { spawnMaster, type ChildServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';
import { waitFor } from '../../support/waits.js';

const TTL_S = 2;

// Every request here says it follows not_leader (as our client does): a standby answers it
// not_leader instead of proxying it to the leader (test/e2e/etcd/proxy.test.ts).
const asClient = (req: object): object => ({ ...req, follows_leader: true });

async function reply(m: ChildServer, req: object): Promise<Reply | null> {
  return call(m.port, asClient(req)).catch(() => null);
}

/** The one of `masters` that serves; polls until one does. */
function leaderOf(masters: ChildServer[]): Promise<ChildServer> {
  return waitFor('a leader', async () => {
    for (const m of masters) if ((await reply(m, { command: 'list_files' }))?.status === 'ok') return m;
    return undefined;
  });
}

async function files(m: ChildServer): Promise<string[]> {
  const r = await call(m.port, asClient({ command: 'list_files' }));
  return r.files as string[];
}

t.test('failover: kill -9, then a leader paused past its lease', async (t) => {
  const dir = await tempDir(t);
  const etcd = await startEtcd(t, dir);
  const config = await writeToml(dir, 'master.toml', masterToml({ extra: `etcd_endpoints = ${etcd.toml}\netcd_prefix = "/failover"\netcd_lease_ttl_s = ${TTL_S}\n` }));
  const start = (name: string) => spawnMaster(t, ['--config', config, '--port', '0', '--namespace', join(dir, name), '--metadata', join(dir, `${name}.json`)], dir);

  const a = await start('a');
  const b = await start('b');
  const elected = await leaderOf([a, b]);
  const other = elected === a ? b : a;
  t.same(
    await waitFor('the standby to know the leader', async () => {
      const r = await reply(other, { command: 'add_file', file_path: '/refused', total_size: 0, chunk_ids: [] });
      return r?.leader ? r : undefined;
    }),
    { status: 'error', message: 'not_leader', leader: elected.address },
    'a standby answers every command not_leader, naming the leader',
  );

  // Sent as a client would: to whichever master leads (on a loaded machine a 2 s lease may change hands).
  const acked = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      waitFor(`/f${i} acknowledged`, async () => {
        const r = await reply(await leaderOf([a, b]), { command: 'add_file', file_path: `/f${i}`, total_size: i, chunk_ids: [] });
        return r?.status === 'ok' ? `/f${i}` : undefined;
      }),
    ),
  );
  const first = await leaderOf([a, b]);
  const standby = first === a ? b : a;

  first.proc.kill('SIGKILL');
  const killedAt = Date.now();
  const second = await leaderOf([standby]);
  const tookMs = Date.now() - killedAt;
  t.comment(`kill -9 to the standby serving: ${tookMs} ms (lease TTL ${TTL_S} s)`);
  t.ok(tookMs < 60_000, 'the standby took over');
  t.same((await files(second)).sort(), acked.sort(), 'every acknowledged file is on the new leader');
  t.equal((await call(second.port, asClient({ command: 'get_file_metadata', file_path: '/f7' }))).metadata?.total_size, 7, 'with its size');
  t.notOk((await files(second)).includes('/refused'), 'what the standby refused was never written');

  // The killed master comes back on its old namespace, as a standby.
  const third = await start(first === a ? 'a' : 'b');
  await waitFor('the restarted master to stand by', async () => ((await reply(third, { command: 'list_files' }))?.leader === second.address ? true : undefined));

  second.proc.kill('SIGSTOP');
  const stoppedAt = Date.now();
  const successor = await leaderOf([third]);
  t.comment(`SIGSTOP of the leader to the standby serving: ${Date.now() - stoppedAt} ms`);
  t.equal((await call(successor.port, asClient({ command: 'add_file', file_path: '/after', total_size: 1, chunk_ids: [] }))).status, 'ok');

  second.proc.kill('SIGCONT');
  const late = await call(second.port, asClient({ command: 'add_file', file_path: '/late', total_size: 1, chunk_ids: [] }));
  t.equal(late.status, 'error', 'the paused leader, awake, does not commit');
  t.match(late.message, /^(not_leader|etcd_unavailable)$/);
  await waitFor('the paused leader to step down and name the new one', async () => ((await reply(second, { command: 'list_files' }))?.leader === successor.address ? true : undefined));
  const now = await files(successor);
  t.notOk(now.includes('/late'), 'its write is nowhere');
  t.ok(now.includes('/after') && acked.every((f) => now.includes(f)), 'every acknowledged file survives both failovers');
});
