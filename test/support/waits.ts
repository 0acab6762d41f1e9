// Waits that poll for a condition. A deadline here is a hang guard, never a claim about
// speed: on a loaded machine (the suite beside other work, `stress --cpu 2`) a start-up or a
// beat takes many times longer than on a quiet one, and the test must only get slower.

/** The default hang guard, in ms: long enough for child processes started on a machine at load 10. */
export const DEADLINE_MS = 120_000;

/** Polls `probe` until it returns a value other than undefined; a throwing probe counts as not yet. */
export async function waitFor<V>(what: string, probe: () => Promise<V | undefined> | V | undefined, timeoutMs = DEADLINE_MS, everyMs = 50): Promise<V> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Polls `check` until it holds. */
export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = DEADLINE_MS, everyMs = 20): Promise<void> {
  await waitFor(what, async () => ((await check()) ? true : undefined), timeoutMs, everyMs);
}

/** Whether `check` holds within `timeoutMs`: for tests that assert it (t.ok) rather than need it. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = DEADLINE_MS, everyMs = 10): Promise<boolean> {
  try {
    await waitUntil('', check, timeoutMs, everyMs);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a child's output shows `re` within the deadline. A child's log line and its reply
 * travel separately (the reply on the socket, the line through a pipe), so a test that asserts
 * a line right after a reply must wait for it, not read once.
 */
export function logged(output: () => string, re: RegExp, timeoutMs = DEADLINE_MS): Promise<boolean> {
  return eventually(() => re.test(output()), timeoutMs, 20);
}
