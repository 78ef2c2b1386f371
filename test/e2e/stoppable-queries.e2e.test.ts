/**
 * Long queries that Temporal can see and stop (db/attempt-queries.ts). The diff's query is held by a table lock of
 * another connection, as a slow 1M-device query holds it: the attempt is then given up by Temporal (its worker died,
 * or the run was cancelled) and the test watches information_schema.PROCESSLIST: a retry never runs beside its
 * abandoned predecessor, and a cancelled attempt's query does not keep running.
 */
import mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2';
import { buildCli, startWorkerProcess, type WorkerProcess } from '../support/e2e-cli';
import { useE2e } from '../support/e2e';
import { connectAsAdmin } from '../support/e2e-db';
import { waitFor } from '../support/wait';

const e2e = useE2e('stoppable');

beforeAll(async () => {
  await buildCli();
}, 120_000);

interface RunningQuery {
  id: number;
  attempt: number;
  state: string;
}

/** The statements of `workflowId`'s attempts running now, as the server lists them (as root: every user's). */
async function runningQueries(root: mysql.Connection, workflowId: string): Promise<RunningQuery[]> {
  const [rows] = await root.query<RowDataPacket[]>(
    `SELECT ID AS id, STATE AS state, INFO AS info FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()`,
    [`/* cp-sync ${workflowId} %`],
  );
  return rows.map((r) => ({ id: Number(r.id), state: String(r.state), attempt: Number(/attempt (\d+) \*\//.exec(String(r.info))?.[1]) }));
}

/** How often the waits here read the process list. */
const POLL_MS = 200;

/** Holds every read of charging_stations (LOCK TABLES … WRITE) until released, as a long query would. */
async function holdStations(): Promise<{ connection: mysql.Connection; release: () => Promise<void> }> {
  const connection = await connectAsAdmin();
  await connection.query(`LOCK TABLES \`${e2e.db.config.database}\`.charging_stations WRITE`);
  let released = false;
  return {
    connection,
    release: async () => {
      if (released) return;
      released = true;
      await connection.query('UNLOCK TABLES').catch(() => undefined);
      await connection.end();
    },
  };
}

test('a retry after a frozen worker kills the abandoned query first: never two copies of the diff at once', async () => {
  const taskQueue = `${e2e.taskQueue}-dead`;
  const env = { PATH: process.env.PATH, ...e2e.env, TEMPORAL_TASK_QUEUE: taskQueue };
  const workflowId = e2e.workflowId('dead-worker');
  const hold = await holdStations();
  const first = await startWorkerProcess(env);
  let second: WorkerProcess | undefined;
  try {
    await e2e.start({ account: e2e.account() }, workflowId, taskQueue);
    await waitFor("the first attempt's query waits", async () => (await runningQueries(hold.connection, workflowId)).some((q) => q.attempt === 1), {
      timeoutMs: 30_000,
      intervalMs: POLL_MS,
    });

    // Frozen, its connections stay open: the server keeps its statements (a worker that dies outright closes them, and
    // MariaDB then ends the statements by itself). A plan runs several at once (its two streams and its reads).
    first.freeze();
    await new Promise((resolveWait) => setTimeout(resolveWait, 500));
    const abandoned = (await runningQueries(hold.connection, workflowId)).filter((q) => q.attempt === 1);
    second = await startWorkerProcess(env);

    // Temporal retries after the heartbeat timeout (30 s): from then on only the retry's statements run.
    let mostAttempts = 0;
    const attemptsRunning = (running: RunningQuery[]): number => new Set(running.map((q) => q.attempt)).size;
    const retry = await waitFor(
      "the retry's query runs",
      async () => {
        const running = await runningQueries(hold.connection, workflowId);
        if (running.some((q) => q.attempt > 1)) mostAttempts = Math.max(mostAttempts, attemptsRunning(running));
        return running.find((q) => q.attempt > 1);
      },
      // Heartbeat timeout, the retry's backoff and a worker starting on a shared 2-core machine.
      { timeoutMs: 120_000, intervalMs: POLL_MS },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nsecond worker:\n${second?.output() ?? ''}`);
    });
    for (let i = 0; i < 10; i++) {
      mostAttempts = Math.max(mostAttempts, attemptsRunning(await runningQueries(hold.connection, workflowId)));
      await new Promise((resolveWait) => setTimeout(resolveWait, 200));
    }
    const now = await runningQueries(hold.connection, workflowId);
    expect(new Set(now.map((q) => q.attempt))).toEqual(new Set([retry.attempt]));
    expect(now.filter((q) => abandoned.some((a) => a.id === q.id))).toEqual([]);
    expect(mostAttempts).toBe(1);
    expect(abandoned.length).toBeGreaterThan(0);
    expect(second.output()).toContain(`Stopped ${abandoned.length} database ${abandoned.length === 1 ? 'query' : 'queries'} of an earlier attempt that was still running`);

    await hold.release();
    // The retry (no device was heard) plans and ends: a window that heard nothing (issue 13).
    expect(await e2e.handle(workflowId).result()).toMatchObject({ phase: 'heard-nothing', processedDevices: 0 });
  } finally {
    await hold.release();
    await first.kill();
    await second?.stop();
  }
}, 240_000);

test("a cancelled run's diff query is killed at once, not left waiting in the database", async () => {
  const hold = await holdStations();
  try {
    const handle = await e2e.start({ account: e2e.account() });
    await waitFor("the diff's query waits", async () => (await runningQueries(hold.connection, handle.workflowId)).length > 0, { timeoutMs: 30_000, intervalMs: POLL_MS });
    await handle.cancel();
    // The activity hears of the cancellation with its next heartbeat to the server (throttled: up to 24 s).
    await waitFor("the cancelled diff's query is gone while the lock is still held", async () => (await runningQueries(hold.connection, handle.workflowId)).length === 0, {
      timeoutMs: 40_000,
      intervalMs: POLL_MS,
    });
    expect(e2e.lines.map((l) => l.line)).toEqual(expect.arrayContaining([expect.stringMatching(/^Planning attempt 1 stopped/)]));
  } finally {
    await hold.release();
  }
}, 120_000);
