// The gfs command's subcommands: what each takes and what it prints.
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Command } from 'commander';
import { DEFAULT_TIMEOUT_MS, type GfsClient } from '../../client/index.js';
import { flagOption } from '../../config/schema.js';
import { CLIENT_KEYS } from '../../config/keys/client.js';
import { formatList, formatServers, formatStat } from './format.js';
import type { GfsFlags } from './config.js';
import type { ProgressDisplay } from './progress-bar.js';

export interface GlobalFlags extends GfsFlags {
  json?: boolean;
  quiet?: boolean;
}

/** What a command prints: a JSON object for --json, else text (possibly none). */
interface Outcome {
  readonly json: Record<string, unknown>;
  readonly text?: string;
}

export type Runner = (client: GfsClient, flags: GlobalFlags, progress: (label: string) => ProgressDisplay) => Promise<Outcome>;

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

function transfer<T>(display: ProgressDisplay, run: (onProgress: ProgressDisplay['onProgress']) => Promise<T>): Promise<T> {
  return run(display.onProgress).finally(() => display.stop());
}

export function buildProgram(run: (runner: Runner, dataOnStdout?: boolean) => Promise<void>): Command {
  const program = new Command('gfs')
    .description('Put, get, list and remove files in a GFS-style cluster (a master and its chunk servers).')
    .usage('[options] <command> [args]')
    .option('--master <host:port>', 'the master (default: $GFS_MASTER, else [master] host and port of the config, else localhost:5000)')
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
    .action((local: string, remote: string, opts: { force?: boolean }) =>
      run(async (client, _flags, progress) => {
        const source = local === STDIO ? process.stdin : local;
        const r = await transfer(progress(`put ${remote}`), (onProgress) => client.put(source, remote, { overwrite: opts.force ?? false, onProgress }));
        return { json: { remote, local, size: r.size, chunks: r.chunks } };
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
        const appended = await transfer(progress(`append ${remote}`), (onProgress) => client.append(remote, source, { onProgress }));
        return { json: { remote, local, appended } };
      }),
    );

  program
    .command('ls')
    .description('list files (size in bytes, chunks, path), those under PREFIX if given')
    .argument('[prefix]', 'only paths starting with this', '')
    .action((prefix: string) =>
      run(async (client) => {
        const files = await client.list(prefix);
        return { json: { files }, text: formatList(files) };
      }),
    );

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
    .command('decommission')
    .description('take a chunk server out of service: the master copies its chunks elsewhere')
    .argument('<address>', 'the server, HOST:PORT')
    .action((address: string) =>
      run(async (client) => {
        await client.decommission(address);
        return { json: { decommissioned: address }, text: `decommissioning ${address}: the master is moving its chunks to other servers\n` };
      }),
    );

  return program;
}
