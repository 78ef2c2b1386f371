/**
 * Crashes and retries against the real services. Workers run as their own `cp-sync worker` processes where a test
 * kills one with SIGKILL (as in a crash), and in process where a test reads the worker's log lines. The worker's
 * sessions use a short innodb_lock_wait_timeout (OCPP_MYSQL_LOCK_WAIT_TIMEOUT), so that a held row lock makes an
 * apply fail with ER_LOCK_WAIT_TIMEOUT (1205) within seconds.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { collectionProgress } from '../../src/client/progress';
import type { ActivityRetry, SyncResult, SyncStatus } from '../../src/shared';
import { byStationId, createdSince, snapshot, syncActivityAttempts } from '../support/e2e-assert';
import { describeRun, startWorkerProcess, useCliRunner, type WorkerProcess } from '../support/e2e-cli';
import { Publisher, report, useE2e } from '../support/e2e';
import { waitFor } from '../support/wait';

const LOCK_WAIT_S = 2;
const e2e = useE2e('recovery', { workerEnv: () => ({ OCPP_MYSQL_LOCK_WAIT_TIMEOUT: String(LOCK_WAIT_S) }) });

const cli = useCliRunner(e2e, () => ({ TEMPORAL_TASK_QUEUE: e2e.taskQueue, APPROVAL_TIMEOUT: '10m' }));

/** How often the waits here look. */
const POLL_MS = 100;

describe('an apply that meets a lock held by another writer', () => {
  test(
    'retries: one line per failed attempt, no failure lines, status shows the retry while it waits, then it succeeds',
    async () => {
      const { db } = e2e;
      const station = await db.station({ station_id: 'LOCK-0001', name: 'Locked' });
      await db.point(station, 1);
      const handle = await e2e.collect(e2e.account(), [report('LOCK-0001', 3)]);
      const { plan } = await e2e.waitForPhase(handle, 'awaiting-approval');
      expect(plan).toMatchObject({ pointsToCreate: 2 });
      const before = await snapshot(db);

      const lock = await db.holdRowLock('SELECT id FROM charging_stations WHERE id = ? FOR UPDATE', [station.id]);
      let shown: SyncStatus & { retry?: ActivityRetry };
      let text: string;
      try {
        await e2e.approve(handle, plan!.fingerprint);
        // cp-sync status --json, as an operator would run it, until it shows the retry.
        shown = await waitFor(
          'status --json shows a retry',
          async () => {
            const { run, value } = await cli.json<SyncStatus>(['status', handle.workflowId]);
            if (run.code !== 0) throw new Error(describeRun(run));
            return value.retry !== undefined && value;
          },
          { timeoutMs: 20_000, intervalMs: POLL_MS },
        );
        text = (await cli.run(['status', handle.workflowId])).stdout;
        // The workflow's own status (the Web UI's Current Details) knows it too, from the attempt's signal.
        await e2e.statusWhen(handle, 'the status query shows the retry', (s) => s.retry !== undefined, 10_000);
      } finally {
        await lock.release();
      }

      expect(shown.phase).toBe('applying');
      // From the server (with its state), or for a moment after a failure only from the workflow's own record (the
      // attempt's signal, without a state): `status` falls back to that. The next attempt's time is known only while
      // it waits for its backoff.
      const { state, nextAttemptAt } = shown.retry ?? {};
      expect(shown.retry).toEqual({
        activity: 'applyMissingPoints',
        attempt: expect.any(Number),
        maximumAttempts: 20,
        lastFailure: expect.stringMatching(/lock wait timeout \(ER_LOCK_WAIT_TIMEOUT: Lock wait timeout exceeded/),
        ...(state !== undefined ? { state: expect.stringMatching(/^(scheduled|started)$/) } : {}),
        ...(nextAttemptAt !== undefined ? { nextAttemptAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) } : {}),
      });
      expect(shown.retry!.attempt).toBeGreaterThanOrEqual(2);
      expect(text).toMatch(/retrying: applyMissingPoints attempt \d+ of 20 failed \(lock wait timeout .*\); attempt \d+ (due at|is running)/);

      const result = await handle.result();
      expect(result).toMatchObject({ phase: 'applied', created: 2 });
      expect(result.retry).toBeUndefined();
      expect(byStationId(await createdSince(db, before), [station])).toEqual({ 'LOCK-0001': [2, 3] });

      const lines = e2e.infoLines();
      expect(lines).toContainEqual(expect.stringMatching(/^Transaction attempt 1 of 20 failed \(lock wait timeout \(ER_LOCK_WAIT_TIMEOUT: .*\)\), retrying in 1 s$/));
      expect(lines).not.toContain('=== Failed ===');
      expect(lines).not.toContainEqual(expect.stringMatching(/^✗ Transaction rolled back/));
      expect(lines).not.toContain('No charging points were created');
      expect(lines.filter((l) => l === '=== Success ===')).toHaveLength(1);
      expect(lines.indexOf('=== Success ===')).toBeGreaterThan(lines.findIndex((l) => l.startsWith('Transaction attempt 1 of 20 failed')));
    },
    60_000,
  );
});

describe('an apply that no retry can fix', () => {
  test(
    'ids that would pass 2^53: the run fails after exactly one attempt, at once, with the failure lines once',
    async () => {
      const { db } = e2e;
      const station = await db.station({ station_id: 'BIG-0001', name: 'Near 2^53' });
      await db.point(station, 1, { id: '9007199254740990' });
      const handle = await e2e.collect(e2e.account(), [report('BIG-0001', 3)]);
      const { plan } = await e2e.waitForPhase(handle, 'awaiting-approval');
      const before = await snapshot(db);

      const approvedAt = Date.now();
      await e2e.approve(handle, plan!.fingerprint);
      await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
      expect(Date.now() - approvedAt).toBeLessThan(10_000);

      const failed = await e2e.status(handle);
      expect(failed).toMatchObject({ phase: 'failed', failedDuring: 'applying', error: expect.stringContaining('refusing to create unsafe ids') });
      const history = await handle.fetchHistory();
      const applyAttempts = syncActivityAttempts(history);
      // collect, diff, apply: each started once.
      expect(applyAttempts).toEqual([1, 1, 1]);
      expect((await createdSince(db, before)).size).toBe(0);

      const lines = e2e.infoLines();
      expect(lines.filter((l) => l === '=== Failed ===')).toHaveLength(1);
      expect(lines.filter((l) => l === 'No charging points were created')).toHaveLength(1);
      expect(lines).toContainEqual(expect.stringMatching(/^✗ Transaction rolled back due to error: RangeError: charging_points\.id would pass 9007199254740991 .*refusing to create unsafe ids$/));
      expect(lines).not.toContainEqual(expect.stringMatching(/attempt \d+ of \d+ failed/));
    },
    60_000,
  );
});

describe('cp-sync worker processes killed with SIGKILL', () => {
  const processEnv = (taskQueue: string, lockWaitSeconds: number): Record<string, string | undefined> => ({
    PATH: process.env.PATH,
    ...e2e.env,
    TEMPORAL_TASK_QUEUE: taskQueue,
    OCPP_MYSQL_LOCK_WAIT_TIMEOUT: String(lockWaitSeconds),
  });

  test(
    'a worker killed while its apply waits on a lock is replaced within seconds: the run completes with the right rows',
    async () => {
      const { db } = e2e;
      const station = await db.station({ station_id: 'KILL-0001', name: 'Killed mid-apply' });
      const taskQueue = `${e2e.taskQueue}-kill`;
      // A long lock wait: the first worker's apply is still waiting when it is killed.
      const env = processEnv(taskQueue, 50);
      const first = await startWorkerProcess(env);
      let second: WorkerProcess | undefined;
      const lock = await db.holdRowLock('SELECT id FROM charging_stations WHERE id = ? FOR UPDATE', [station.id]);
      const before = await snapshot(db);
      const workflowId = e2e.workflowId('kill-apply');
      const publisher = await Publisher.start(e2e.account(), [report('KILL-0001', 2)]);
      try {
        const started = await cli.run(['start', '--id', workflowId, '--account', publisher.account, '--duration', '2s', '--auto-approve'], { TEMPORAL_TASK_QUEUE: taskQueue });
        if (started.code !== 0) throw new Error(describeRun(started));
        const handle = e2e.handle(workflowId);
        // The apply has started and waits on the lock (it heartbeats meanwhile).
        await waitFor(
          'the apply started',
          async () => (await handle.describe()).raw.pendingActivities?.some((a) => a.activityType?.name === 'applyMissingPoints' && a.lastStartedTime),
          { timeoutMs: 30_000, intervalMs: POLL_MS },
        );
        await publisher.stop();
        second = await startWorkerProcess(env);
        await new Promise((resolveWait) => setTimeout(resolveWait, 1000));
        await first.kill();
        const killedAt = Date.now();
        await lock.release();

        const result = await waitFor(
          'the run ended',
          async () => {
            const { status } = await handle.describe();
            return status.name !== 'RUNNING' && ((await handle.result()) as SyncResult);
          },
          { timeoutMs: 40_000, intervalMs: POLL_MS },
        );
        const seconds = (Date.now() - killedAt) / 1000;
        expect(result).toMatchObject({ phase: 'applied', created: 2 });
        expect(seconds).toBeLessThan(18);
        expect(byStationId(await createdSince(db, before), [station])).toEqual({ 'KILL-0001': [1, 2] });
        expect(second.output()).toContain('=== Success ===');
      } finally {
        await publisher.stop();
        await lock.release();
        await first.kill();
        await second?.stop();
      }
    },
    90_000,
  );

  test(
    'a collector lost 2 s before the window ends: the run goes on with what was stored and says so (collectionNote)',
    async () => {
      const { db } = e2e;
      await db.station({ station_id: 'LATE-0001', name: 'Heard before the crash' });
      const taskQueue = `${e2e.taskQueue}-late`;
      const env = processEnv(taskQueue, LOCK_WAIT_S);
      const first = await startWorkerProcess(env);
      let second: WorkerProcess | undefined;
      const workflowId = e2e.workflowId('late');
      const publisher = await Publisher.start(e2e.account(), [report('LATE-0001', 2)]);
      try {
        const startedAt = Date.now();
        const started = await cli.run(['start', '--id', workflowId, '--account', publisher.account, '--duration', '8s', '--dry-run'], { TEMPORAL_TASK_QUEUE: taskQueue });
        if (started.code !== 0) throw new Error(describeRun(started));
        const handle = e2e.handle(workflowId);
        await waitFor('a device heard', async () => ((await collectionProgress(handle))?.devices ?? 0) >= 1, { timeoutMs: 8_000, intervalMs: POLL_MS });
        await new Promise((resolveWait) => setTimeout(resolveWait, Math.max(0, startedAt + 6_000 - Date.now())));
        await first.kill();
        second = await startWorkerProcess(env);
        const status = await e2e.waitForPhase(handle, 'dry-run', 45_000);
        expect(status.plan).toMatchObject({ processedDevices: 1, pointsToCreate: 2 });
        expect(status.collectionNote).toBe('the collector was lost near the end of the window (worker stopped); counts stored until then are used');
        // No attempt listened after the window had closed.
        expect(second.output()).not.toContain('Subscribed to connectors-count');
      } finally {
        await publisher.stop();
        await first.kill();
        await second?.stop();
      }
    },
    70_000,
  );
});
