/**
 * An attempt of the plan or the apply that gets nowhere is stopped within the stall limit (activities/liveness.ts), as
 * the hang of a streamed query on a lost connection should have been; one that waits on a long statement of its own,
 * keeps progressing, or waits its turn is not. runAttempt runs in Temporal's mock activity environment against the real
 * MariaDB (the process list is the server's), with a 2 s stall limit and a 200 ms beat.
 */
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { RowDataPacket } from 'mysql2';
import { runAttempt, type AttemptHooks } from '../../src/activities/attempts';
import type { AttemptQueries } from '../../src/db/attempt-queries';
import { createPool, type Pool } from '../../src/db/pool';
import type { Log } from '../../src/log';
import { ACTIVITY, ATTEMPT_STALLED, DIFF_RETRY } from '../../src/shared';
import { E2eDatabase } from '../support/e2e-db';
import { waitFor } from '../support/wait';

const STALL_LIMIT_MS = 2000;
const timings = { stallLimitMs: STALL_LIMIT_MS, heartbeatIntervalMs: 200 };

let db: E2eDatabase;
let pool: Pool;

beforeAll(async () => {
  db = await E2eDatabase.create('cps_e2e_stall');
  pool = createPool(db.config, 6);
}, 60_000);

afterAll(async () => {
  await pool?.end().catch(() => undefined);
  await db?.drop();
}, 30_000);

interface Attempted<T> {
  outcome: { value: T } | { error: unknown };
  elapsedMs: number;
  lines: string[];
  finalFailures: string[];
}

/** One attempt of the plan (`attempt` of DIFF_RETRY's 10) running `work`, its progress read from `progress`. */
async function attemptOf<T>(work: (queries: AttemptQueries) => Promise<T>, progress: () => unknown = () => ({ devices: 0 }), attempt = 1): Promise<Attempted<T>> {
  const lines: string[] = [];
  const finalFailures: string[] = [];
  const line = (text: string): void => void lines.push(text);
  const log: Log = { info: line, debug: () => undefined, warn: line, error: line };
  const hooks: AttemptHooks = { progress, onFinalFailure: (message) => finalFailures.push(message) };
  const env = new MockActivityEnvironment({
    workflowExecution: { workflowId: `stall-e2e-${randomBytes(4).toString('hex')}`, runId: 'run' },
    activityId: '1',
    activityType: ACTIVITY.plan,
    attempt,
  });
  const started = Date.now();
  const outcome = await env.run((): Promise<T> => runAttempt(ACTIVITY.plan, { pool, log, timings }, hooks, work)).then(
    (value: T) => ({ value }),
    (error: unknown) => ({ error }),
  );
  return { outcome, elapsedMs: Date.now() - started, lines, finalFailures };
}

const STALL_MESSAGE = /^no progress for 2 s and none of its statements is running in the database \(a lost connection that was never reported\?\): stopped; check/;

test('a work that awaits what never comes, with constant progress, fails within the stall limit as retryable: one retry line', async () => {
  let threadId: number | undefined;
  const { outcome, elapsedMs, lines, finalFailures } = await attemptOf(async (queries) => {
    await queries.query('SELECT 1');
    // What a stream on a lost connection did: a connection of the attempt, and a wait that nothing ends.
    const held = await queries.connection();
    threadId = held.threadId;
    return new Promise<never>(() => undefined);
  });
  expect('error' in outcome && outcome.error).toBeInstanceOf(ApplicationFailure);
  expect(outcome).toMatchObject({ error: { type: ATTEMPT_STALLED, nonRetryable: false, message: expect.stringMatching(STALL_MESSAGE) } });
  expect(elapsedMs).toBeGreaterThanOrEqual(STALL_LIMIT_MS);
  expect(elapsedMs).toBeLessThan(STALL_LIMIT_MS + 3000);
  expect(lines).toEqual([expect.stringMatching(/^Planning attempt 1 of 10 failed \(no progress for 2 s and none of its statements is running .*\), retrying in 1 s$/)]);
  expect(finalFailures).toEqual([]);
  // Its queries were stopped: the connection it held is gone from the server.
  expect(threadId).toBeDefined();
  await waitFor("the stalled attempt's connection closed", async () => (await db.pool.query<RowDataPacket[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?', [threadId]))[0].length === 0, { timeoutMs: 5000, intervalMs: 100 });
}, 20_000);

test('the same stall on the last attempt prints the final lines, not a retry line', async () => {
  const { outcome, lines, finalFailures } = await attemptOf(() => new Promise<never>(() => undefined), undefined, DIFF_RETRY.maximumAttempts);
  expect(outcome).toMatchObject({ error: { type: ATTEMPT_STALLED } });
  expect(lines).toEqual([]);
  expect(finalFailures).toEqual([expect.stringMatching(STALL_MESSAGE)]);
}, 20_000);

test('a tagged statement of its own that runs longer than the stall limit, with constant progress, is no stall', async () => {
  const { outcome, elapsedMs, lines } = await attemptOf(async (queries) => {
    await queries.query('SELECT SLEEP(4)');
    return 'slept';
  });
  expect(outcome).toEqual({ value: 'slept' });
  expect(elapsedMs).toBeGreaterThanOrEqual(4000);
  expect(lines).toEqual([]);
}, 20_000);

test('a work whose progress keeps changing, with no statement running, is no stall', async () => {
  let devices = 0;
  const { outcome, lines } = await attemptOf(
    async () => {
      for (let i = 0; i < 16; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        devices++;
      }
      return devices;
    },
    () => ({ devices }),
  );
  expect(outcome).toEqual({ value: 16 });
  expect(lines).toEqual([]);
}, 20_000);

test('a work that waits its turn (a connection of the pool, the plan turn, stdout) longer than the stall limit is no stall', async () => {
  const { outcome, lines } = await attemptOf(async (queries) => {
    await queries.waitingFor(new Promise((resolve) => setTimeout(resolve, 4000)));
    return 'my turn';
  });
  expect(outcome).toEqual({ value: 'my turn' });
  expect(lines).toEqual([]);
}, 20_000);
