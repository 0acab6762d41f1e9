// The gfs command: put, get, cat, append, ls, stat, rm, servers, decommission, forget. Exit 0 on
// success, 1 when the operation failed (one line on stderr naming why), 2 for usage errors.
import { CommanderError } from 'commander';
import { GfsClient, GfsError } from '../client/index.js';
import { ConfigError } from '../config/checks.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { buildProgram, type GlobalFlags } from './gfs/commands.js';
import { resolveSettings } from './gfs/config.js';
import { progressDisplay } from './gfs/progress-bar.js';

function errorLine(err: unknown): { code: string; message: string; exit: number } {
  if (err instanceof ConfigError) return { code: 'usage', message: err.message, exit: EXIT_USAGE };
  if (err instanceof GfsError) return { code: err.code, message: err.message, exit: err.code === 'bad_input' ? EXIT_USAGE : EXIT_FAILED };
  return { code: 'internal', message: `internal error: ${(err as Error)?.message ?? String(err)}`, exit: EXIT_FAILED };
}

/** Runs the command line; resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  let status = EXIT_OK;
  const program = buildProgram(async (runner, dataOnStdout = false) => {
    const flags = program.opts<GlobalFlags>();
    // --json is written to stdout, except where stdout carries the file's bytes.
    const jsonOut = dataOnStdout ? process.stderr : process.stdout;
    try {
      const settings = resolveSettings(flags, process.env);
      const client = new GfsClient({ master: settings.master, chunkSize: settings.chunkSize, concurrency: settings.concurrency, keyFile: settings.keyFile, tls: settings.tls, timeoutMs: settings.timeoutMs });
      const outcome = await runner(client, flags, (label) => progressDisplay(label, process.stderr, !flags.quiet));
      const failure = outcome.failure;
      if (flags.json) jsonOut.write(JSON.stringify(failure ? { status: 'error', code: failure.code, message: failure.message, ...outcome.json } : { status: 'ok', ...outcome.json }) + '\n');
      else if (outcome.text) process.stdout.write(outcome.text);
      if (failure) {
        process.stderr.write(`gfs: ${failure.message}\n`);
        status = EXIT_FAILED;
      }
    } catch (err) {
      const e = errorLine(err);
      if (flags.json) jsonOut.write(JSON.stringify({ status: 'error', code: e.code, message: e.message }) + '\n');
      process.stderr.write(`gfs: ${e.message}\n`);
      status = e.exit;
    }
  });
  // Commander's own error text is replaced by one `gfs: ...` line below.
  const quiet = { writeErr: () => undefined };
  program.exitOverride().configureOutput(quiet);
  for (const sub of program.commands) sub.exitOverride().configureOutput(quiet);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT_OK;
      if (err.code === 'commander.help') {
        // No command: commander's help, on stderr since the invocation was wrong.
        process.stderr.write(`gfs: no command given\n${program.helpInformation()}`);
        return EXIT_USAGE;
      }
      process.stderr.write(`gfs: ${err.message.replace(/^error: /, '')} (see gfs --help)\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  return status;
}
