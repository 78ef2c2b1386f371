/**
 * Polling for the tests: call a check every `intervalMs` until it gives a value, for at most `timeoutMs`; and ask a
 * workflow's query until its answer is the awaited one. One copy for the unit, workflow and e2e tests (each file
 * used to keep its own).
 */
import type { QueryDefinition, WorkflowHandle } from '@temporalio/client';

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

export interface QueryWait<T> {
  timeoutMs: number;
  intervalMs: number;
  /** What of the last answer to name when the time is up (default: all of it, as JSON). */
  describe?: (answer: T) => string;
  /** More to name then (e.g. the pending activities), asked after each answer that was not the awaited one. */
  context?: () => string | Promise<string>;
}

/**
 * Asks `query` of `handle`'s workflow until `ready` holds for the answer, and returns that answer. A query that fails
 * is asked again: no run answers before its first workflow task (nor right after a continue-as-new, nor while a
 * killed worker is replaced). When the time is up, the error names `what`, the last answer, the last query failure
 * and the last `context`. An error thrown by `ready` ends the wait at once, as in waitFor.
 */
export async function queryUntil<T>(handle: WorkflowHandle, query: QueryDefinition<T>, what: string, ready: (answer: T) => boolean, options: QueryWait<T>): Promise<T> {
  const { timeoutMs, intervalMs, describe = (answer: T) => JSON.stringify(answer), context } = options;
  let last: { answer: T } | undefined;
  let lastError = '';
  let lastContext = '';
  return waitFor(
    what,
    async () => {
      try {
        last = { answer: await handle.query(query) };
        lastError = '';
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
        return false;
      }
      if (ready(last.answer)) return last;
      if (context) lastContext = await context();
      return false;
    },
    {
      timeoutMs,
      intervalMs,
      lastSeen: () => [last ? describe(last.answer) : 'no answer yet', lastError && `query failed: ${lastError}`, lastContext].filter(Boolean).join('; '),
    },
  ).then(({ answer }) => answer);
}
