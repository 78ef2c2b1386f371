/**
 * Polling for the tests: call a check every `intervalMs` until it gives a value, for at most `timeoutMs`.
 * One copy for the unit, workflow and e2e tests (each file used to keep its own).
 */

export interface WaitOptions {
  timeoutMs: number;
  /** How long to sleep between two checks. */
  intervalMs: number;
  /** More to say when the time is up, e.g. the last value seen (called only then). */
  lastSeen?: () => string;
}

/**
 * Calls `check` until it returns something other than undefined or false and returns that; the first check is at
 * once. When `timeoutMs` has passed without it, throws an Error naming `what` and the timeout (and `lastSeen()`).
 * An error thrown by `check` is not retried: it ends the wait at once, as a failed assertion should.
 */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, options: WaitOptions): Promise<T> {
  const { timeoutMs, intervalMs, lastSeen } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${lastSeen ? `; last: ${lastSeen()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
