// Runs Python scripts of the repository with Debian's /usr/bin/python3, the interpreter
// python3-msgpack is installed for (shared/field-notes.md, "Tooling").
import { runText, type TextRun } from './processes.js';

export const PYTHON = '/usr/bin/python3';

/** Runs `script` (relative to the repository root) with `args`; killed after `timeoutMs`. */
export function runPython(script: string, args: string[] = [], timeoutMs = 120_000, env: Record<string, string> = {}): Promise<TextRun> {
  return runText(PYTHON, [script, ...args], { timeoutMs, env: { PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', ...env } });
}
