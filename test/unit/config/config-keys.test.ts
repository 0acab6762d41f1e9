import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import type { Table } from '../../../src/config/checks.js';
import { resolveConfig } from '../../../src/config/chunk-server.js';
import { readConfigFile } from '../../../src/config/file.js';
import { KNOWN_KEYS } from '../../../src/config/known-keys.js';
import { resolveMasterConfig } from '../../../src/config/master.js';
import { resolveSecurity } from '../../../src/config/security.js';
import { ROOT } from '../../support/paths.js';
import { tempDir } from '../../support/temp.js';

// The Python reference's own config file: every key it has must keep starting our servers.
const REFERENCE_TOML = `[master]
host = "localhost"
port = 5000
chunk_size = 67108864
replication_factor = 3
distance_weight = 0.6
space_weight = 0.4

[chunk_server]
base_port = 6000
data_dir = "data/chunks"
heartbeat_interval = 5
server_info_file = "server_info.json"

[client]
upload_chunk_size = 1048576
`;

t.test("the reference's config file and ours are accepted by both servers", async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'ref.toml'), REFERENCE_TOML);
  for (const path of [join(dir, 'ref.toml'), join(ROOT, 'chunk_server.toml')]) {
    const file = readConfigFile(path, true);
    t.ok(resolveConfig(file, { server_id: 'c1' }), path);
    t.ok(resolveMasterConfig(file, {}), path);
  }
});

/** A table that records every key read from it (and from its sub-tables). */
function recording(file: Table, seen: Set<string>): Table {
  const sections: Table = {};
  for (const section of Object.keys(KNOWN_KEYS)) {
    sections[section] = new Proxy({}, {
      get(_target, key) {
        if (typeof key === 'string') seen.add(`${section}.${key}`);
        return (file[section] as Table | undefined)?.[key as string];
      },
    });
  }
  return sections;
}

t.test('every key the resolvers read is listed as known', async (t) => {
  const seen = new Set<string>();
  resolveConfig(recording({}, seen), { server_id: 'c1' });
  resolveMasterConfig(recording({}, seen), {});
  resolveSecurity(recording({}, seen));
  t.ok(seen.size > 20, `${seen.size} keys read`);
  for (const key of seen) {
    const [section, name] = key.split('.') as [string, string];
    t.ok(KNOWN_KEYS[section]?.includes(name), `${key} is in KNOWN_KEYS`);
  }
});
