// A chunk server or a master in the test's own process: fast to start, for tests of one
// module's behaviour through its real commands. Each is stopped at teardown.
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { pino } from 'pino';
import { startChunkServer, type ChunkServer } from '../../src/chunk-server/main.js';
import { DEFAULTS, type ChunkServerConfig } from '../../src/config/chunk-server.js';
import { MASTER_DEFAULTS, type MasterConfig } from '../../src/config/master.js';
import { startMaster, type Master } from '../../src/master/main.js';
import { BEAT_S } from './configs.js';
import { tempDir, type Teardown } from './temp.js';

export function testConfig(dataDir: string, over: Partial<ChunkServerConfig> = {}): ChunkServerConfig {
  return {
    ...DEFAULTS,
    serverId: 'test1',
    host: '127.0.0.1',
    port: 0,
    dataDir,
    logLevel: 'silent',
    master: { ...DEFAULTS.master, enabled: false },
    ...over,
  };
}

export async function startServer(t: Teardown, over: Partial<ChunkServerConfig> = {}, dataDir?: string): Promise<ChunkServer> {
  const dir = dataDir ?? (await tempDir(t));
  const server = await startChunkServer(testConfig(dir, over), pino({ level: 'silent' }));
  t.teardown(() => server.stop());
  return server;
}

export type LogLine = Record<string, any>;

/** A server whose log lines (at `level` and above) are kept for inspection. */
export async function startLoggedServer(
  t: Teardown,
  dataDir: string,
  over: Partial<ChunkServerConfig> = {},
  level = 'debug',
): Promise<{ server: ChunkServer; logs: LogLine[] }> {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(line, _enc, done) {
      logs.push(JSON.parse(String(line)));
      done();
    },
  });
  const server = await startChunkServer(testConfig(dataDir, over), pino({ level }, sink));
  t.teardown(() => server.stop());
  return { server, logs };
}

/** A master with fast beats; a server is dropped after 2 beats unless `deadAfterS` says otherwise. */
export async function startMasterHere(t: Teardown, dir: string, over: Partial<MasterConfig> = {}): Promise<Master> {
  const config: MasterConfig = {
    ...MASTER_DEFAULTS,
    host: '127.0.0.1',
    port: 0,
    heartbeatIntervalS: BEAT_S,
    replicationIntervalS: 0.3,
    metadataFile: join(dir, 'metadata', 'metadata.json'),
    logLevel: 'silent',
    ...over,
  };
  if (over.deadAfterS === undefined) config.deadAfterS = 2 * config.heartbeatIntervalS;
  const master = await startMaster(config, pino({ level: 'silent' }));
  t.teardown(() => master.stop());
  return master;
}
