// The gfs command's subcommands: what each takes and what it prints.
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Command } from 'commander';
import { DEFAULT_MIN_COPIES, DEFAULT_TIMEOUT_MS, GfsError, type GfsClient, type PutResult } from '../../client/index.js';
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

/** Chunks below the replication factor, one line each run of them, for stderr and --json. */
function copyWarnings(r: PutResult): string[] {
  if (r.factor === null) return [];
  const factor = r.factor;
  const short = r.copies.flatMap((n, i) => (n < factor ? [`chunk ${i} has ${n} of ${factor} copies`] : []));
  return short.length === 0 ? [] : [`${short.length} of ${r.copies.length} chunks stored below the replication factor (${short.join(', ')}); the master adds copies when servers have room`];
}

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
    .option('--json', 'print the result, or the error, as one JSON object')
    .option('-q, --quiet', 'no progress bar (there is none anyway when stderr is not a terminal)')
    .version(packageVersion(), '-V, --version', 'print the version of gfs')
    .allowExcessArguments(false)
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', '\nLOCAL may be - for stdin (put, append) or stdout (get).\nExit status: 0 success, 1 the operation failed (the error code is in --json output), 2 usage error.');

  program
    .command('put')
    .description('upload a local file (or stdin) to REMOTE')
    .argument('<local>', 'local file, or - for stdin')
    .argument('<remote>', 'path in the cluster')
    .option('-f, --force', 'replace REMOTE if it exists')
    .option('--min_copies <n>', `fail (exit 1, nothing kept) when a chunk gets fewer copies; fewer than the replication factor is only a warning (default ${DEFAULT_MIN_COPIES})`)
    .action((local: string, remote: string, opts: { force?: boolean; min_copies?: string }) =>
      run(async (client, _flags, progress) => {
        const source = local === STDIO ? process.stdin : local;
        const minCopies = opts.min_copies === undefined ? undefined : wholeNumber('--min_copies', opts.min_copies);
        const r = await transfer(progress(`put ${remote}`), (onProgress) => client.put(source, remote, { overwrite: opts.force ?? false, minCopies, onProgress }));
        const warnings = copyWarnings(r);
        for (const w of warnings) process.stderr.write(`gfs: warning: ${w}\n`);
        return { json: { remote, local, size: r.size, chunks: r.chunks, copies: r.copies, replication_factor: r.factor, warnings } };
      }),
    );

  program
    .command('get')
    .description('download REMOTE to a local file (written whole or not at all), or - for stdout')
    .argument('<remote>', 'path in the cluster')
    .argument('<local>', 'local file, or - for stdout')
    .action((remote: string, local: string) =>
      run(async (client, _flags, progress) => {
        const target = local === STDIO ? process.stdout : await intoDirectory(local, remote);
        const size = await transfer(progress(`get ${remote}`), (onProgress) => client.get(remote, target, { onProgress }));
        return { json: { remote, local, size } };
      }, local === STDIO),
    );

  program
    .command('cat')
    .description('write REMOTE to stdout')
    .argument('<remote>', 'path in the cluster')
    .action((remote: string) =>
      run(async (client, _flags, progress) => {
        const size = await transfer(progress(`cat ${remote}`), (onProgress) => client.get(remote, process.stdout, { onProgress }));
        return { json: { remote, size } };
      }, true),
    );

  program
    .command('append')
    .description('append a local file (or stdin) to REMOTE, creating it if missing')
    .argument('<remote>', 'path in the cluster')
    .argument('<local>', 'local file, or - for stdin')
    .action((remote: string, local: string) =>
      run(async (client, _flags, progress) => {
        const source = local === STDIO ? process.stdin : local;
        const { appended } = await transfer(progress(`append ${remote}`), (onProgress) => client.append(remote, source, { onProgress }));
        return { json: { remote, local, appended } };
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
    .description('remove a file (the master deletes its chunks from the servers)')
    .argument('<remote>', 'path in the cluster')
    .action((remote: string) =>
      run(async (client) => {
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
