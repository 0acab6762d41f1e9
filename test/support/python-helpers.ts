// Runs Python scripts of the repository with Debian's /usr/bin/python3, the interpreter
// python3-msgpack is installed for (shared/field-notes.md, "Tooling").
import { spawn } from 'node:child_process';
import { ROOT } from './helpers.js';

export const PYTHON = '/usr/bin/python3';

export interface PythonRun {
  code: number | string;
  stdout: string;
  stderr: string;
}

/** Runs `script` (relative to the repository root) with `args`; killed after `timeoutMs`. */
export function runPython(script: string, args: string[] = [], timeoutMs = 120_000, env: Record<string, string> = {}): Promise<PythonRun> {
  return new Promise((resolve) => {
    const proc = spawn(PYTHON, [script, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c) => (stdout += c));
    proc.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: `spawn failed: ${err.message}`, stdout, stderr });
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? -1, stdout, stderr });
    });
  });
}
