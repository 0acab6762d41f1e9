// The gfs command's subcommands: what each takes and what it prints.
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Command } from 'commander';
import { copyWarnings, DEFAULT_MIN_COPIES, DEFAULT_TIMEOUT_MS, GfsError, indexed } from '../../client/index.js';
import { flagOption } from '../../config/schema.js';
import { CLIENT_KEYS } from '../../config/keys/client.js';
import { formatMasters, formatServers, formatStat } from './format.js';
import type { ProgressDisplay } from './progress-bar.js';
import type { Run } from './runner.js';
import { addChecksum } from './checksum.js';
import { addCompletion } from './completion.js';
import { addDu } from './du.js';
import { addLs } from './ls.js';
import { addMv } from './mv.js';
import { folderOutcome } from './folders.js';
import { encryptionKey } from './encryption-key.js';

export type { GlobalFlags, Runner } from './runner.js';

const STDIO = '-';

/** The version in package.json, found from this module as the build leaves it (dist/cli/gfs/) or in src/. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return String(pkg.version);
}

/** As cp does: a target that is a directory receives the file under its own name. */
async function intoDirectory(local: string, remote: string): Promise<string> {
  const isDir = await stat(local).then((s) => s.isDirectory(), () => false);
  const name = basename(remote);
  return isDir && name !== '' ? join(local, name) : local;
}

const MIN_COPIES_HELP = `fail (exit 1) when a chunk gets fewer copies; fewer than the replication factor is only a warning (default ${DEFAULT_MIN_COPIES})`;

function wholeNumber(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new GfsError('bad_input', `${flag} takes a whole number from 1, got ${v}`);
  return n;
}

function transfer<T>(display: ProgressDisplay, run: (onProgress: ProgressDisplay['onProgress']) => Promise<T>): Promise<T> {
  return run(display.onProgress).finally(() => display.stop());
}

export function buildProgram(run: Run): Command {
  const program = new Command('gfs')
    .description('Put, get, list and remove files in a GFS-style cluster (a master and its chunk servers).')
    .usage('[options] <command> [args]')
    .option('--master <host:port>', 'the master, or several as a,b,c (masters over etcd: the leader is found) (default: $GFS_MASTER, else [master] host and port of the config, else localhost:5000)')
    .option('--config <path>', 'TOML config; its [master] host/port and [client] upload_chunk_size are read (default ./chunk_server.toml, if present)')
    .option(...flagOption(CLIENT_KEYS.chunkSize, 'gfs'))
    .option('--concurrency <n>', 'chunks in flight at once (default 4)')
    .option('--key_file <path>', 'client key file <client_id>.key: sign every request, for clusters with client_auth (default: $GFS_KEY_FILE)')
    .option('--tls_ca <path>', 'the cluster CA (PEM): speak TLS to every server, for clusters with [security] tls (default: $GFS_TLS_CA)')
    .option('--tls_cert <path>', 'a client certificate (PEM) signed by that CA, when the cluster asks for one (default: $GFS_TLS_CERT)')
    .option('--tls_key <path>', "the client certificate's key (PEM) (default: $GFS_TLS_KEY)")
    .option('--timeout <seconds>', `how long one call may wait: the master must answer within it, a chunk transfer may stall no longer (default ${DEFAULT_TIMEOUT_MS / 1000})`)
    .option(...flagOption(CLIENT_KEYS.encryptionKeyFile, 'gfs'))
    .option('--json', 'print the result, or the error, as one JSON object')
    .option('-q, --quiet', 'no progress bar (there is none anyway when stderr is not a terminal)')
    .version(packageVersion(), '-V, --version', 'print the version of gfs')
    .allowExcessArguments(false)
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', '\nLOCAL may be - for stdin (put, append) or stdout (get).\nExit status: 0 success, 1 the operation failed (the error code is in --json output), 2 usage error.');

  program
    .command('put')
    .description('upload a local file (or stdin) to REMOTE; with -r, every file below a local folder to the same paths under REMOTE')
    .argument('<local>', 'local file, or - for stdin (a folder with -r)')
    .argument('<remote>', 'path in the cluster (a folder with -r)')
    .option('-r, --recursive', 'LOCAL is a folder: its files go to REMOTE/<their path below LOCAL>; exit 1 if any failed')
    .option('-f, --force', 'replace REMOTE if it exists')
    .option('--encrypt', 'seal the bytes here with AES-256-GCM before they leave (key: --encryption_key_file or $GFS_PASSPHRASE); get them with --decrypt')
    .option('--min_copies <n>', `${MIN_COPIES_HELP}; nothing is kept`)
    .action((local: string, remote: string, opts: { force?: boolean; min_copies?: string; recursive?: boolean; encrypt?: boolean }) =>
      run(async (client, flags, progress) => {
        const minCopies = opts.min_copies === undefined ? undefined : wholeNumber('--min_copies', opts.min_copies);
        const encrypt = opts.encrypt ? encryptionKey(flags, process.env, 'put --encrypt') : undefined;
        if (opts.recursive) {
          const r = await transfer(progress(`put ${remote}`), (onProgress) => client.putFolder(local, remote, { overwrite: opts.force ?? false, minCopies, encrypt, onProgress }));
          return folderOutcome('put', remote, r, { remote, local });
        }
        const source = local === STDIO ? process.stdin : local;
        const r = await transfer(progress(`put ${remote}`), (onProgress) => client.put(source, remote, { overwrite: opts.force ?? false, minCopies, encrypt, onProgress }));
        const warnings = copyWarnings(indexed(r.copies), r.factor);
        for (const w of warnings) process.stderr.write(`gfs: warning: ${w}\n`);
        return { json: { remote, local, size: r.size, chunks: r.chunks, copies: r.copies, replication_factor: r.factor, warnings } };
      }),
    );

  program
    .command('get')
    .description('download REMOTE to a local file (written whole or not at all), or - for stdout; with -r, every file under a remote folder')
    .argument('<remote>', 'path in the cluster (a folder with -r)')
    .argument('<local>', 'local file, or - for stdout (a folder with -r, made if missing)')
    .option('-r, --recursive', 'REMOTE is a folder: its files go to LOCAL/<their path below REMOTE>; exit 1 if any failed')
    .option('--decrypt', 'open a file put with --encrypt; a wrong key or a changed byte fails with nothing written')
    .action((remote: string, local: string, opts: { recursive?: boolean; decrypt?: boolean }) =>
      run(async (client, flags, progress) => {
        const decrypt = opts.decrypt ? encryptionKey(flags, process.env, 'get --decrypt') : undefined;
        if (opts.recursive) {
          const r = await transfer(progress(`get ${remote}`), (onProgress) => client.getFolder(remote, local, { decrypt, onProgress }));
          return folderOutcome('got', remote, r, { remote, local });
        }
        const target = local === STDIO ? process.stdout : await intoDirectory(local, remote);
        const size = await transfer(progress(`get ${remote}`), (onProgress) => client.get(remote, target, { decrypt, onProgress }));
        return { json: { remote, local, size } };
      }, local === STDIO && !opts.recursive),
    );

  program
    .command('cat')
    .description('write REMOTE to stdout')
    .argument('<remote>', 'path in the cluster')
    .option('--decrypt', 'open a file put with --encrypt (nothing is written unless all of it verifies)')
    .action((remote: string, opts: { decrypt?: boolean }) =>
      run(async (client, flags, progress) => {
        const decrypt = opts.decrypt ? encryptionKey(flags, process.env, 'cat --decrypt') : undefined;
        const size = await transfer(progress(`cat ${remote}`), (onProgress) => client.get(remote, process.stdout, { decrypt, onProgress }));
        return { json: { remote, size } };
      }, true),
    );

  program
    .command('append')
    .description('append a local file (or stdin) to REMOTE, creating it if missing')
    .argument('<remote>', 'path in the cluster')
    .argument('<local>', 'local file, or - for stdin')
    .option('--encrypt', 'seal the bytes as put --encrypt does (an encrypted file takes only encrypted appends)')
    .option('--min_copies <n>', `${MIN_COPIES_HELP}; what was appended before stays`)
    .action((remote: string, local: string, opts: { min_copies?: string; encrypt?: boolean }) =>
      run(async (client, flags, progress) => {
        const source = local === STDIO ? process.stdin : local;
        const minCopies = opts.min_copies === undefined ? undefined : wholeNumber('--min_copies', opts.min_copies);
        const encrypt = opts.encrypt ? encryptionKey(flags, process.env, 'append --encrypt') : undefined;
        const r = await transfer(progress(`append ${remote}`), (onProgress) => client.append(remote, source, { onProgress, minCopies, encrypt }));
        const warnings = copyWarnings(r.chunks, r.factor, 'took the append');
        for (const w of warnings) process.stderr.write(`gfs: warning: ${w}\n`);
        return { json: { remote, local, appended: r.appended, offset: r.offset, copies: r.copies, chunks: r.chunks, replication_factor: r.factor, warnings } };
      }),
    );

  addLs(program, run);

  program
    .command('stat')
    .description("show a file's size and chunks, with each chunk's holders and whether they are live")
    .argument('<remote>', 'path in the cluster')
    .action((remote: string) =>
      run(async (client) => {
        const s = await client.stat(remote);
        return { json: { ...s }, text: formatStat(s) };
      }),
    );

  program
    .command('rm')
    .description('remove a file (the master deletes its chunks from the servers); with -r, every file under a folder')
    .argument('<remote>', 'path in the cluster (a folder with -r)')
    .option('-r, --recursive', 'remove every file under the folder REMOTE, at any depth; exit 1 if any failed')
    .option('-f, --force', 'with -r, allow the folder / (every file in the cluster)')
    .action((remote: string, opts: { recursive?: boolean; force?: boolean }) =>
      run(async (client) => {
        if (opts.recursive) return folderOutcome('removed', remote, await client.removeFolder(remote, { force: opts.force ?? false }), { removed: remote });
        await client.remove(remote);
        return { json: { removed: remote } };
      }),
    );

  program
    .command('servers')
    .description('list chunk servers: address, location, used and total space, chunks, state (live, down, decommissioning)')
    .action(() =>
      run(async (client) => {
        const servers = await client.servers();
        return { json: { servers }, text: formatServers(servers) };
      }),
    );

  program
    .command('masters')
    .description('list the masters given to --master (a,b,c): each one\'s role (leader, standby, single), the leader it knows, how long it has led')
    .action(() =>
      run(async (client) => {
        const masters = await client.masters();
        return { json: { masters }, text: formatMasters(masters) };
      }),
    );

  program
    .command('decommission')
    .description('take a chunk server out of service: the master copies its chunks elsewhere (refused, with why, when the other servers could never hold them)')
    .argument('<address>', 'the server, HOST:PORT')
    .option('-f, --force', 'decommission even so (it goes as far as the other servers allow)')
    .action((address: string, opts: { force?: boolean }) =>
      run(async (client) => {
        const p = await client.decommission(address, { force: opts.force ?? false });
        const left = p.chunks_left === null ? '' : `, ${p.chunks_left} chunk${p.chunks_left === 1 ? '' : 's'} to copy`;
        return { json: { decommissioning: address, ...p }, text: `decommissioning ${address}${left}: the master is moving its chunks to other servers (gfs servers shows how far it is)\n` };
      }),
    );

  program
    .command('forget')
    .description('drop a dead chunk server from the master\'s lists (it remembers servers across restarts until then)')
    .argument('<address>', 'the server, HOST:PORT')
    .action((address: string) =>
      run(async (client) => {
        await client.forget(address);
        return { json: { forgotten: address }, text: `forgot ${address}\n` };
      }),
    );
  addMv(program, run);
  addDu(program, run);
  addChecksum(program, run);
  addCompletion(program);

  return program;
}
