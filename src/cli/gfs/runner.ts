// What every gfs subcommand module is given: a way to run its work with a client, and what
// that work hands back to print.
import type { GfsClient } from '../../client/index.js';
import type { GfsFlags } from './config.js';
import type { ProgressDisplay } from './progress-bar.js';

export interface GlobalFlags extends GfsFlags {
  json?: boolean;
  quiet?: boolean;
}

/**
 * What a command prints: a JSON object for --json, else text (possibly none). `failure`: the
 * command did part of its work (some files of a folder failed): it still prints what it did,
 * then fails as an error would, with this code and one-line message.
 */
export interface Outcome {
  readonly json: Record<string, unknown>;
  readonly text?: string;
  readonly failure?: { readonly code: string; readonly message: string };
}

export type Runner = (client: GfsClient, flags: GlobalFlags, progress: (label: string) => ProgressDisplay) => Promise<Outcome>;

/** Runs a subcommand's work; `dataOnStdout` when stdout carries a file's bytes (--json then goes to stderr). */
export type Run = (runner: Runner, dataOnStdout?: boolean) => Promise<void>;
