// Issue 25 item 7: client-side encryption through the real bin/gfs against a real master and
// chunk server. What the cluster stores holds neither the plaintext nor the key; get --decrypt
// gives the bytes back; a wrong key, a plaintext append into an encrypted file, or a plain
// file fails with its own code, exit 1, and nothing written.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { sealedSize } from '../../../src/client/encryption.js';
import { startCluster } from '../../support/cluster.js';
import { tempDir } from '../../support/temp.js';

/** Every regular file below `dir`. */
async function filesBelow(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}

t.test('put --encrypt, get --decrypt, wrong keys and tampering', async (t) => {
  const c = await startCluster(t, { servers: 1, master: 'replication_factor = 1\n', chunk: '[master]\nreplication_factor = 1\n' });
  const gfs = (args: string[], env: NodeJS.ProcessEnv = {}) => c.gfs(['--chunk_size', '100000', ...args], { env });
  const local = await tempDir(t, 'gfs-encrypt-local-');
  const key = randomBytes(32);
  const keyFile = join(local, 'k.hex');
  await writeFile(keyFile, `${key.toString('hex')}\n`);
  const otherKey = join(local, 'other.key');
  await writeFile(otherKey, randomBytes(32));
  const marker = Buffer.from('PLAINTEXT-MARKER-that-must-never-reach-a-server');
  const plain = Buffer.concat([marker, randomBytes(300_000), marker]);
  await writeFile(join(local, 'in.bin'), plain);
  const withKey = ['--encryption_key_file', keyFile];

  const put = await gfs([...withKey, '--json', 'put', '--encrypt', join(local, 'in.bin'), '/secret.bin']);
  t.equal(put.code, 0, put.stderr);
  t.match(JSON.parse(put.stdout.toString()), { status: 'ok', size: sealedSize(plain.length) });
  for (const file of await filesBelow(c.base)) {
    const bytes = await readFile(file);
    t.notOk(bytes.includes(marker) || bytes.includes(key) || bytes.includes(key.toString('hex')), `${file.slice(c.base.length)} holds no plaintext and no key`);
  }

  const out = join(local, 'out.bin');
  const get = await gfs([...withKey, 'get', '--decrypt', '/secret.bin', out]);
  t.equal(get.code, 0, get.stderr);
  t.ok((await readFile(out)).equals(plain), 'get --decrypt gives the bytes back');
  const cat = await gfs(['cat', '--decrypt', '/secret.bin'], { GFS_ENCRYPTION_KEY_FILE: keyFile });
  t.ok(cat.stdout.equals(plain), 'the key from $GFS_ENCRYPTION_KEY_FILE');
  t.equal((await gfs(['cat', '/secret.bin'])).stdout.length, sealedSize(plain.length), 'without --decrypt: the sealed bytes');

  const wrong = await gfs(['--encryption_key_file', otherKey, '--json', 'get', '--decrypt', '/secret.bin', join(local, 'wrong.bin')]);
  t.equal(wrong.code, 1);
  t.match(JSON.parse(wrong.stdout.toString()), { status: 'error', code: 'wrong_key', message: /^\/secret\.bin was encrypted with another key \(key id [0-9a-f]{16}, this one is [0-9a-f]{16}\)$/ });
  const wrongCat = await gfs(['--encryption_key_file', otherKey, 'cat', '--decrypt', '/secret.bin']);
  t.equal(wrongCat.code, 1);
  t.equal(wrongCat.stdout.length, 0, 'no partial output on stdout');
  t.equal((await gfs(['get', '--decrypt', '/secret.bin', join(local, 'p.bin')], { GFS_PASSPHRASE: 'nope' })).code, 1, 'a passphrase for a key-file file');

  // An encrypted append is a record of its own; a plaintext one breaks the file, and says so.
  await writeFile(join(local, 'more.txt'), 'more lines\n');
  t.equal((await gfs([...withKey, 'append', '--encrypt', '/secret.bin', join(local, 'more.txt')])).code, 0);
  t.ok((await gfs([...withKey, 'cat', '--decrypt', '/secret.bin'])).stdout.equals(Buffer.concat([plain, Buffer.from('more lines\n')])), 'both records decrypt, in order');
  t.equal((await gfs(['append', '/secret.bin', join(local, 'more.txt')])).code, 0);
  const broken = await gfs([...withKey, 'get', '--decrypt', '/secret.bin', join(local, 'broken.bin')]);
  t.equal(broken.code, 1);
  t.equal(broken.stderr, 'gfs: /secret.bin cannot be decrypted: a record header is missing or damaged (changed, cut short or not written by gfs --encrypt)\n');
  t.same((await readdir(local)).sort(), ['in.bin', 'k.hex', 'more.txt', 'other.key', 'out.bin'], 'no target and no temp folder left by the failures');

  const pass = await gfs(['put', '--encrypt', join(local, 'in.bin'), '/pass.bin'], { GFS_PASSPHRASE: 'correct horse battery' });
  t.equal(pass.code, 0, pass.stderr);
  t.ok((await gfs(['cat', '--decrypt', '/pass.bin'], { GFS_PASSPHRASE: 'correct horse battery' })).stdout.equals(plain), 'a passphrase through scrypt');
  const badPass = await gfs(['cat', '--decrypt', '/pass.bin'], { GFS_PASSPHRASE: 'wrong horse' });
  t.equal(badPass.code, 1);
  t.match(badPass.stderr, /^gfs: \/pass\.bin was encrypted with another passphrase/);

  const noKey = await gfs(['put', '--encrypt', join(local, 'in.bin'), '/x.bin']);
  t.equal(noKey.code, 2);
  t.equal(noKey.stderr, 'gfs: put --encrypt needs a key: --encryption_key_file FILE (or $GFS_ENCRYPTION_KEY_FILE, or [client] encryption_key_file), or a passphrase in $GFS_PASSPHRASE\n');
  const toml = join(local, 'gfs.toml');
  await writeFile(toml, `[client]\nencryption_key_file = ${JSON.stringify(keyFile)}\n`);
  t.equal((await gfs(['--config', toml, 'put', '--encrypt', join(local, 'more.txt'), '/cfg.txt'])).code, 0, 'the key from [client] encryption_key_file');
  t.equal((await gfs([...withKey, 'cat', '--decrypt', '/cfg.txt'])).stdout.toString(), 'more lines\n');
  t.equal((await gfs(['ls', '/x.bin'])).stdout.toString(), '', 'nothing stored');
  t.equal((await gfs(['put', join(local, 'more.txt'), '/plain.txt'])).code, 0);
  const notEnc = await gfs([...withKey, '--json', 'cat', '--decrypt', '/plain.txt']);
  t.equal(notEnc.code, 1);
  t.match(JSON.parse(notEnc.stderr.split('\n')[0]!), { status: 'error', code: 'not_encrypted' });
  // Folders: every file sealed on its own, and opened back to the same relative paths.
  const tree = await tempDir(t, 'gfs-encrypt-tree-');
  await writeFile(join(tree, 'one.bin'), plain);
  await mkdir(join(tree, 'sub'));
  await writeFile(join(tree, 'sub', 'two.txt'), 'two\n');
  t.equal((await gfs([...withKey, 'put', '-r', '--encrypt', tree, '/enc'])).code, 0);
  const back = join(tree, 'back');
  const getR = await gfs([...withKey, 'get', '-r', '--decrypt', '/enc', back]);
  t.equal(getR.code, 0, getR.stderr);
  t.ok((await readFile(join(back, 'one.bin'))).equals(plain), 'put -r --encrypt, get -r --decrypt');
  t.equal(await readFile(join(back, 'sub', 'two.txt'), 'utf8'), 'two\n');

  const badKey = await gfs(['--encryption_key_file', join(local, 'more.txt'), 'get', '--decrypt', '/secret.bin', join(local, 'k.bin')]);
  t.equal(badKey.code, 2);
  t.match(badKey.stderr, /expected 32 bytes, raw or as 64 hex digits/);
});
