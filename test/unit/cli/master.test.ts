import { join } from 'node:path';
import t from 'tap';
import { resolveMasterConfig, MASTER_DEFAULTS } from '../../../src/config/master.js';
import { readConfigFile } from '../../../src/config/file.js';
import { ROOT } from '../../support/paths.js';

t.test('the shipped chunk_server.toml holds the master defaults', async (t) => {
  t.same(resolveMasterConfig(readConfigFile(join(ROOT, 'chunk_server.toml'), true), {}), MASTER_DEFAULTS);
});

t.test('[master] keys and flags', async (t) => {
  const c = resolveMasterConfig(
    { master: { port: 6000, replication_factor: 2, distance_weight: 1, space_weight: 0, replication_interval: 0.5 }, chunk_server: { heartbeat_interval: 0.25 } },
    { host: '0.0.0.0', metadata: 'm.json' },
  );
  t.match(c, { host: '0.0.0.0', port: 6000, replicationFactor: 2, distanceWeight: 1, spaceWeight: 0, replicationIntervalS: 0.5, heartbeatIntervalS: 0.25, metadataFile: 'm.json' });
  t.equal(resolveMasterConfig({ master: { heartbeat_interval: 2 }, chunk_server: { heartbeat_interval: 9 } }, {}).heartbeatIntervalS, 2, '[master] wins');
});
