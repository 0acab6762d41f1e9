// [security] at start-up: what turns authentication on, and what stops a server instead of
// leaving it open or half-configured.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { resolveSecurity } from '../../../src/config/security.js';
import { ConfigError } from '../../../src/config/checks.js';
import { tempDir } from '../../support/temp.js';

const KEY = 'ab'.repeat(32);

t.test('no cluster key: off; a cluster key: members only unless client_auth says more', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'k'), `# the cluster key\n${KEY}\n\n${'cd'.repeat(32)}\n`);
  t.equal(resolveSecurity({}), undefined);
  t.equal(resolveSecurity({ security: { client_auth: 'off' } }), undefined);
  const s = resolveSecurity({ security: { cluster_key_file: join(dir, 'k') } })!;
  t.same(s.clusterKeys.map((k) => k.toString()), [KEY, 'cd'.repeat(32)], 'every key line, in order');
  t.equal(s.clientAuth, 'off');
  t.equal(s.replayWindowS, 60);
  const w = resolveSecurity({ security: { cluster_key_file: join(dir, 'k'), client_auth: 'writes', client_keys_dir: dir, replay_window_s: 5 } })!;
  t.match(w, { clientAuth: 'writes', clientKeysDir: dir, replayWindowS: 5 });
  t.equal(s.httpRead, 'open', 'the HTTP sides are open unless http_read says "key"');
  t.equal(resolveSecurity({ security: { cluster_key_file: join(dir, 'k'), http_read: 'key' } })!.httpRead, 'key');
});

t.test('misconfigurations are errors naming the key', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'short'), 'secret\n');
  await writeFile(join(dir, 'empty'), '# nothing\n');
  await writeFile(join(dir, 'k'), KEY);
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ client_auth: 'writes' }, /client_auth needs cluster_key_file/],
    [{ http_read: 'key' }, /http_read = "key" needs cluster_key_file/],
    [{ http_read: 'token', cluster_key_file: join(dir, 'k') }, /http_read must be one of open, key, got "token"/],
    [{ client_auth: 'yes', cluster_key_file: join(dir, 'k') }, /client_auth must be one of off, writes, all, got "yes"/],
    [{ client_auth: 'all', cluster_key_file: join(dir, 'k') }, /client_auth = "all" needs client_keys_dir/],
    [{ cluster_key_file: join(dir, 'missing') }, /cluster_key_file: cannot read key file .*missing: ENOENT/],
    [{ cluster_key_file: join(dir, 'short') }, /holds a key of 6 characters; at least 32/],
    [{ cluster_key_file: join(dir, 'empty') }, /holds no key/],
    [{ cluster_key_file: join(dir, 'k'), replay_window_s: 0 }, /replay_window_s must be a positive number of seconds/],
  ];
  for (const [security, message] of cases) t.throws(() => resolveSecurity({ security }), { constructor: ConfigError, message }, message.source);
});
