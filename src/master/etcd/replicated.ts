import type { Logger } from 'pino';
import { etcdAccessOf } from '../../config/etcd-access.js';
import type { MasterConfig } from '../../config/master.js';
import type { Namespace } from '../namespace/namespace.js';
import { openEtcd } from './client.js';
import { Compaction } from './compaction.js';
import { EtcdJournal } from './journal.js';
import { Leadership } from './leadership.js';
import { EtcdSnapshots } from './snapshots.js';
import { probeEtcdTls } from './tls-probe.js';

/** A master run over etcd ([master] etcd_endpoints): its leadership and the namespace journal. */
export interface Replication {
  readonly leadership: Leadership;
  /** Whether repairs may run: leading, and past safe mode (a new leader waits for chunk reports). */
  repairsAllowed(): boolean;
  /** Told the time and outcome of every journal transaction (metrics). */
  onJournalWrite(observe: (seconds: number, outcome: 'committed' | 'refused' | 'failed') => void): void;
  /** Starts campaigning as `address` once the master listens there. */
  start(address: string): void;
  close(): Promise<void>;
}

/**
 * Wires the namespace to the journal and the leadership: every change goes to etcd first;
 * a standby tails the journal into its lmdb on every tick, and a newly elected leader
 * catches up with it before it serves. Tailing waits for this master's own writes still in
 * flight (one that stepped down while writing), so an older value never lands on a newer one.
 */
export function startReplication(config: MasterConfig, ns: Namespace, log: Logger): Replication {
  const access = etcdAccessOf(config);
  const client = openEtcd(config.etcdEndpoints, config.etcdLeaseTtlS, access);
  const stopProbe = config.etcdEndpoints.some((e) => e.startsWith('https://')) ? probeEtcdTls(config.etcdEndpoints, access.credentials, config.etcdLeaseTtlS * 1000, log.child({ part: 'etcd-tls' })) : () => undefined;
  const safeModeMs = (config.etcdSafeModeS ?? config.deadAfterS) * 1000;
  let journal: EtcdJournal | null = null;
  const catchUp = async (): Promise<void> => {
    await journal!.idle();
    await ns.settled();
    const from = ns.journalSeq();
    const last = await journal!.catchUp(from, (seq, records) => ns.applyJournal(seq, records), (snapshot) => {
      ns.loadSnapshot(snapshot);
      log.info({ seq: snapshot.seq, records: snapshot.records.length }, 'loaded the namespace snapshot from etcd (the journal before it is compacted)');
    });
    if (last > from) log.debug({ from, to: last }, 'applied journal entries');
  };
  const leadership = new Leadership(client, {
    prefix: config.etcdPrefix,
    ttlS: config.etcdLeaseTtlS,
    log: log.child({ part: 'leadership' }),
    onElected: catchUp,
    onStandby: catchUp,
  });
  const snapshots = new EtcdSnapshots(client, config.etcdPrefix);
  journal = new EtcdJournal(client, config.etcdPrefix, leadership, snapshots, log.child({ part: 'journal' }));
  const compaction = new Compaction(snapshots, ns, leadership, { everyEntries: config.etcdSnapshotEntries, everyBytes: config.etcdSnapshotMb * 1024 * 1024, log: log.child({ part: 'compaction' }) });
  journal.committed = (seq, bytes) => compaction.committed(seq, bytes);
  ns.useJournal(journal);
  return {
    leadership,
    repairsAllowed() {
      const since = leadership.since();
      return leadership.isLeader() && since !== null && Date.now() - since >= safeModeMs;
    },
    onJournalWrite(observe) {
      journal!.observe = observe;
    },
    start: (address) => leadership.start(address),
    async close() {
      stopProbe();
      await leadership.stop();
      await compaction.idle();
      client.close();
    },
  };
}
