// A full or read-only data directory: error replies naming the errno, nothing half-written
// under a final name, space reservations released, reads still served, no crash. Simulated
// with a small tmpfs (full) and an ext4 on a loop device that the kernel fails (read-only);
// both need root and permission to mount, and are skipped otherwise.
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, open, readdir, rm, rmdir, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { charge, largestFitting, txCharge } from '../../../src/storage/index.js';
import { bytes, MIB } from '../../support/data.js';
import { call } from '../../support/frames.js';
import { startServer } from '../../support/in-process.js';
import { tempDir } from '../../support/temp.js';

const run = promisify(execFile);
const DISK = '2m';

/** Why a tmpfs cannot be mounted here, or null when it can. */
async function cannotMount(): Promise<string | null> {
  const probe = await mkdtemp(join(tmpdir(), 'chunkserver-mount-probe-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]);
    await run('umount', [probe]);
    return null;
  } catch (err) {
    return `cannot mount a tmpfs here: ${((err as { stderr?: string }).stderr || (err as Error).message).trim()}`;
  } finally {
    await rmdir(probe).catch(() => undefined);
  }
}

/** A fresh 2 MiB tmpfs, unmounted at teardown (after the server on it has stopped). */
async function smallDisk(t: Test): Promise<string> {
  const mnt = join(await tempDir(t), 'disk');
  await mkdir(mnt);
  await run('mount', ['-t', 'tmpfs', '-o', `size=${DISK}`, 'tmpfs', mnt]);
  t.teardown(() => run('umount', [mnt]).catch(() => run('umount', ['-l', mnt])));
  return mnt;
}

interface FailingDisk {
  /** Where the file system is mounted. */
  readonly mnt: string;
  /** Fails the file system as a disk error would: from now on it is read-only (EROFS). */
  fail(): Promise<void>;
  /** What an operator does next: unmount, e2fsck, mount again (writable). */
  repair(): Promise<void>;
  remove(): Promise<void>;
}

/**
 * A 32 MiB ext4 in an image file on a loop device, mounted `errors=remount-ro` under `dir`.
 * Needs root, loop devices, e2fsprogs and ext4's sysfs error trigger.
 */
async function makeFailingDisk(dir: string): Promise<FailingDisk> {
  const image = join(dir, 'disk.img');
  const mnt = join(dir, 'disk');
  await mkdir(mnt);
  await writeFile(image, '');
  await truncate(image, 32 * MIB);
  await run('mkfs.ext4', ['-q', '-F', image]);
  const device = (await run('losetup', ['--find', '--show', image])).stdout.trim();
  const trigger = `/sys/fs/ext4/${basename(device)}/trigger_fs_error`;
  const mount = (): Promise<unknown> => run('mount', ['-t', 'ext4', '-o', 'errors=remount-ro', device, mnt]);
  try {
    await mount();
    await access(trigger, constants.W_OK);
  } catch (err) {
    await run('umount', [mnt]).catch(() => undefined);
    await run('losetup', ['-d', device]).catch(() => undefined);
    throw err;
  }
  return {
    mnt,
    async fail() {
      // What was written so far is on the disk, as it would be long before a disk fails.
      await run('sync', ['-f', mnt]);
      await writeFile(trigger, 'chunkserver test: the disk fails\n');
    },
    async repair() {
      await run('umount', [mnt]);
      // Exit code 1: errors were found and corrected (the error the trigger recorded).
      await run('e2fsck', ['-f', '-y', device]).catch((err: { code?: number }) => {
        if (err.code !== 1) throw err;
      });
      await mount();
    },
    async remove() {
      await run('umount', [mnt]).catch(() => run('umount', ['-l', mnt])).catch(() => undefined);
      await run('losetup', ['-d', device]).catch(() => undefined);
    },
  };
}

/** Why a failing ext4 disk cannot be made here, or null when it can. */
async function cannotFailExt4(): Promise<string | null> {
  const probe = await mkdtemp(join(tmpdir(), 'chunkserver-ext4-probe-'));
  try {
    await (await makeFailingDisk(probe)).remove();
    return null;
  } catch (err) {
    return `cannot make a failing ext4 disk on a loop device here: ${((err as { stderr?: string }).stderr || (err as Error).message).trim()}`;
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
}

/** A failing disk for one test, removed at teardown (after the server on it has stopped). */
async function failingDisk(t: Test): Promise<FailingDisk> {
  const disk = await makeFailingDisk(await tempDir(t));
  t.teardown(() => disk.remove());
  return disk;
}

/** The chunk directory holds exactly these chunks and their checksums: nothing half-written. */
async function onlyChunks(t: Test, chunkDir: string, ids: string[], what: string): Promise<void> {
  const names = (await readdir(chunkDir)).filter((n) => !['.meta', '.prepared', '.quarantine'].includes(n)).sort();
  t.same(names, [...ids].sort(), `${what}: only whole chunks in the chunk directory`);
  const meta = (await readdir(join(chunkDir, '.meta'))).filter((n) => n !== '.last-scrub').sort();
  t.same(meta, ['chunks.mdb', 'chunks.mdb-lock', 'wal-0.log', 'wal-1.log'], `${what}: only the metadata store and its log in .meta`);
  const prepared = await readdir(join(chunkDir, '.prepared')).catch(() => []);
  t.same(prepared, [], `${what}: no prepared files`);
}

const SPACE_MB = 64;

void Promise.all([cannotMount(), cannotFailExt4()]).then(([skip, failSkip]) => {
  const opts = skip ? { skip } : {};
  const failOpts = failSkip ? { skip: failSkip } : {};

  t.test('a full disk (ENOSPC): io_error replies, no partial files, space released, reads work', opts, async (t) => {
    const dataDir = await smallDisk(t);
    const server = await startServer(t, { spaceMb: SPACE_MB }, dataDir);
    const chunkDir = server.store.dir;
    const small = bytes(100_000, 1);
    t.match(await call(server.port, { command: 'store_chunk', chunk_id: 'small', data: small }), { status: 'ok', chunk_id: 'small', replicas: 0 });
    const tooBig = bytes(3 * MIB, 2);
    const full = { status: 'error', message: 'io_error: ENOSPC' };
    t.same(await call(server.port, { command: 'store_chunk', chunk_id: 'big', data: tooBig }), full, 'store');
    t.same(await call(server.port, { command: 'store_chunk', chunk_id: 'small', data: tooBig }), full, 'overwrite');
    t.same(await call(server.port, { command: 'append_chunk', chunk_id: 'small', data: tooBig }), full, 'append');
    t.same(await call(server.port, { command: 'prepare_chunk', chunk_id: 'big', transaction_id: '1', data: tooBig }), full, 'prepare_chunk');
    t.same(await call(server.port, { command: 'prepare_append', chunk_id: 'small', transaction_id: '2', data: tooBig, offset: 100_000 }), full, 'prepare_append');
    t.same(await call(server.port, { command: 'commit_chunk', chunk_id: 'big', transaction_id: '1' }), { status: 'error', message: 'No prepared data found for commit' });
    await onlyChunks(t, chunkDir, ['small'], 'after ENOSPC');
    t.equal(server.store.space.used, charge(small.length), 'every reservation released');
    const available = SPACE_MB * MIB - charge(small.length);
    t.same(await call(server.port, { command: 'check_space', size: largestFitting(available) }), { status: 'ok' });
    t.same(await call(server.port, { command: 'check_space', size: largestFitting(available) + 1 }), { status: 'error', message: 'insufficient_space', available_space: available });
    t.ok(Buffer.from((await call(server.port, { command: 'retrieve_chunk', chunk_id: 'small' })).data).equals(small), 'reads still work');
    t.match(await call(server.port, { command: 'append_chunk', chunk_id: 'small', data: bytes(10) }), { status: 'ok', new_offset: 100_010 }, 'small writes still fit');
    t.same(await call(server.port, { command: 'delete_chunk', chunk_id: 'small' }), { status: 'ok' });
    t.equal(server.store.space.used, 0);
  });

  // A disk the kernel turns read-only after an error, as `errors=remount-ro` does: an ext4
  // file system on a loop device, failed through ext4's own error path (sysfs
  // `trigger_fs_error`). Unlike `mount -o remount,ro`, which tmpfs and every other file
  // system refuse while a file is open for writing (lmdb keeps its environment open), this
  // happens under open files, as on a real failing disk. Such a file system stays read-only
  // until it is unmounted and checked: the operator stops the server, runs e2fsck, mounts
  // it and starts the server again.
  t.test('a disk turned read-only under the server (EROFS): io_error replies, reads work, a corrupt chunk is still refused', failOpts, async (t) => {
    const disk = await failingDisk(t);
    // On another disk, as the server's log would be: the transaction log is not chunk data.
    const transactionLog = join(disk.mnt, '..', 'transactions.log');
    const server = await startServer(t, { spaceMb: SPACE_MB, transactionLog }, disk.mnt);
    const chunkDir = server.store.dir;
    const data = bytes(200_000, 3);
    for (const id of ['r', 'bad']) await call(server.port, { command: 'store_chunk', chunk_id: id, data });
    await call(server.port, { command: 'prepare_chunk', chunk_id: 'r', transaction_id: 'p', data: bytes(10) });
    const fh = await open(join(chunkDir, 'bad'), 'r+');
    await fh.write(Buffer.from('X'), 0, 1, 1000);
    await fh.close();
    await disk.fail();

    const ro = { status: 'error', message: 'io_error: EROFS' };
    t.same(await call(server.port, { command: 'store_chunk', chunk_id: 'new', data }), ro, 'store');
    t.same(await call(server.port, { command: 'store_chunk', chunk_id: 'r', data: bytes(10) }), ro, 'overwrite');
    t.same(await call(server.port, { command: 'append_chunk', chunk_id: 'r', data: bytes(10) }), ro, 'append');
    t.same(await call(server.port, { command: 'delete_chunk', chunk_id: 'r' }), ro, 'delete');
    t.same(await call(server.port, { command: 'prepare_chunk', chunk_id: 'n', transaction_id: '1', data: bytes(10) }), ro, 'prepare_chunk');
    t.same(await call(server.port, { command: 'prepare_append', chunk_id: 'r', transaction_id: '2', data: bytes(10), offset: data.length }), ro, 'prepare_append');
    t.same(await call(server.port, { command: 'commit_chunk', chunk_id: 'r', transaction_id: 'p' }), ro, 'commit');
    t.same(await call(server.port, { command: 'rollback_chunk', chunk_id: 'r', transaction_id: 'p' }), ro, 'rollback');
    t.equal(server.store.space.used, 2 * charge(data.length) + txCharge(1, 10), 'accounting unchanged: the prepared bytes are still held');

    t.ok(Buffer.from((await call(server.port, { command: 'retrieve_chunk', chunk_id: 'r' })).data).equals(data), 'reads still work');
    t.same(await call(server.port, { command: 'check_space', size: 1 }), { status: 'ok' });
    t.same(await call(server.port, { command: 'retrieve_chunk', chunk_id: 'bad' }), { status: 'error', message: 'corrupt_chunk' }, 'damage still refused');
    t.same(server.store.corruptChunks(), ['bad'], 'and reported, though it could not be moved');
    t.ok((await readdir(chunkDir)).includes('bad'), 'the chunk stays where it is');
    t.same(await call(server.port, { command: 'retrieve_chunk', chunk_id: 'bad' }), { status: 'error', message: 'corrupt_chunk' }, 'every time');

    await server.stop();
    await disk.repair();
    const again = await startServer(t, { spaceMb: SPACE_MB, transactionLog }, disk.mnt);
    t.match(await call(again.port, { command: 'commit_chunk', chunk_id: 'r', transaction_id: 'p' }), { status: 'ok', message: 'committed' }, 'repaired and restarted: the prepared commit goes through');
    t.match(await call(again.port, { command: 'store_chunk', chunk_id: 'new', data }), { status: 'ok', chunk_id: 'new', replicas: 0 });
    t.same(await call(again.port, { command: 'retrieve_chunk', chunk_id: 'bad' }), { status: 'error', message: 'corrupt_chunk' });
    t.notOk((await readdir(chunkDir)).includes('bad'), 'now moved to quarantine');
    await onlyChunks(t, chunkDir, ['r', 'new'], 'after EROFS');
  });
});
