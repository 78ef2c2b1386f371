/**
 * The watch workflow against a private Temporal dev server (the test environment's local server), with mocked
 * activities: cycles, auto-apply within the limits, a waiting plan superseded by the next cycle's, continue-as-new
 * carrying the state, and `stop`. Not the time-skipping server: the tests wait on queries, which skip no time anyway,
 * and that server now and then left a run that continues as new hanging (about one run of the workflow tests in three).
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { ApplyInput } from '../../src/activities';
import type { ApplyResult, NotificationEvent } from '../../src/shared';
import { approveSignal, approveUpdate, rejectSignal, rejectUpdate, stopWatchUpdate, watchStatusQuery, type watchChargingPoints } from '../../src/workflows';
import { WATCH_WORKFLOW_TYPE, type WatchCollectInput, type WatchCycleInput, type WatchCycleOutcome, type WatchInput, type WatchStatus } from '../../src/watch-shared';
import { runMetricsSinks } from '../../src/run-metrics';
import { registerSearchAttributes } from '../support/search-attributes';
import { aPlanSummary, anApplyResult } from '../support/builders';
import { queryUntil, waitFor } from '../support/wait';

const TEMPORAL_CLI = process.env.TEMPORAL_CLI ?? path.resolve(__dirname, '..', '..', '.venv', 'bin', 'temporal');

let env: TestWorkflowEnvironment;
let workflowBundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  if (!fs.existsSync(TEMPORAL_CLI)) throw new Error(`No Temporal CLI at ${TEMPORAL_CLI}: run \`bash scripts/test.sh\` or set TEMPORAL_CLI`);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  [env, workflowBundle] = await Promise.all([
    TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: TEMPORAL_CLI } } }).then(async (started) => {
      await registerSearchAttributes(started.connection);
      return started;
    }),
    bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: new DefaultLogger('WARN') }),
  ]);
}, 120_000);

afterAll(async () => {
  await env?.teardown();
});

interface Calls {
  collect: WatchCollectInput[];
  collectorsCancelled: number;
  cycles: WatchCycleInput[];
  apply: ApplyInput[];
  notifications: NotificationEvent[];
  sessionsEnded: { workflowId: string; collectors: number }[];
}

type Cycles = (input: WatchCycleInput) => WatchCycleOutcome | Promise<WatchCycleOutcome>;

/** `cancelDelayMs`: how long a collector takes to store its last counts once cancelled. */
function mockActivities(cycles: Cycles, cancelDelayMs = 0, apply: (input: ApplyInput) => ApplyResult = () => anApplyResult({ created: 2, stationsChanged: 1 })) {
  const calls: Calls = { collect: [], collectorsCancelled: 0, cycles: [], apply: [], notifications: [], sessionsEnded: [] };
  const activities = {
    async collectWatchCounts(input: WatchCollectInput): Promise<void> {
      calls.collect.push(input);
      const context = Context.current();
      try {
        for (;;) {
          context.heartbeat();
          await context.sleep(50);
        }
      } catch (err) {
        if (err instanceof CancelledFailure) calls.collectorsCancelled++;
        await new Promise((resolve) => setTimeout(resolve, cancelDelayMs));
        throw err;
      }
    },
    planWatchCycle(input: WatchCycleInput): Promise<WatchCycleOutcome> {
      calls.cycles.push(input);
      return Promise.resolve().then(() => cycles(input));
    },
    applyMissingPoints(input: ApplyInput): Promise<ApplyResult> {
      calls.apply.push(input);
      return Promise.resolve(apply(input));
    },
    endWatchSessions(input: { workflowId: string; collectors: number }): Promise<void> {
      calls.sessionsEnded.push(input);
      return Promise.resolve();
    },
    sendNotification(event: NotificationEvent) {
      calls.notifications.push(event);
      return Promise.resolve({ delivery: 'sent' as const });
    },
  };
  return { activities, calls };
}

type WatchHandle = WorkflowHandleWithFirstExecutionRunId<typeof watchChargingPoints>;

const aWatchInput = (overrides: Partial<WatchInput> = {}): WatchInput => ({ intervalMs: 1000, maxConnectors: 10, ...overrides });

/** A cycle that planned `points` points for `devices` changed devices, fingerprinted by its cycle. */
function planned(input: WatchCycleInput, points: number, devices = 1): WatchCycleOutcome {
  const plan = aPlanSummary({ fingerprint: `f${String(input.cycle).padStart(15, '0')}`, pointsToCreate: points, stationsToChange: Math.min(points, devices) });
  return { changedDevices: devices, newDevices: devices, plan, runKey: `run-c${input.cycle}` };
}
const quiet: WatchCycleOutcome = { changedDevices: 0, newDevices: 0 };

async function withWatch(input: WatchInput, cycles: Cycles, test: (handle: WatchHandle, calls: Calls) => Promise<void>, cancelDelayMs = 0): Promise<void> {
  const taskQueue = `watch-${randomUUID()}`;
  const { activities, calls } = mockActivities(cycles, cancelDelayMs);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities,
    sinks: runMetricsSinks(Runtime.instance().metricMeter),
    maxHeartbeatThrottleInterval: '50ms',
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start<typeof watchChargingPoints>(WATCH_WORKFLOW_TYPE, { taskQueue, workflowId: `watch-${randomUUID()}`, args: [input] });
    try {
      await test(handle, calls);
    } finally {
      if ((await handle.describe()).status.name === 'RUNNING') await handle.executeUpdate(stopWatchUpdate, { args: [{ by: 'test' }] }).catch(() => handle.terminate('test over'));
    }
  });
}

/**
 * The notifications sent once at least `count` were: the workflow sends one from an activity it does not wait for, so
 * a status that shows the plan waiting may come before it. More than `count` fails the caller's exact expectation.
 */
async function notified(calls: Calls, count: number): Promise<NotificationEvent[]> {
  await waitFor(`${count} notification(s)`, () => calls.notifications.length >= count, { timeoutMs: 10_000, intervalMs: 50, lastSeen: () => `${calls.notifications.length}` });
  return calls.notifications;
}

function statusWhen(handle: WatchHandle, ready: (status: WatchStatus) => boolean): Promise<WatchStatus> {
  return queryUntil(handle, watchStatusQuery, 'the watch status', ready, { timeoutMs: 20_000, intervalMs: 100 });
}

describe('watchChargingPoints', () => {
  jest.setTimeout(60_000);

  it('runs a cycle every interval and applies a plan within the auto-approve limits at once; stop ends the sessions', async () => {
    const cycles: Cycles = (input) => (input.cycle === 2 ? planned(input, 2) : quiet);
    await withWatch(aWatchInput({ autoApproveMaxPoints: 5 }), cycles, async (handle, calls) => {
      const watching = await statusWhen(handle, (s) => s.cycles >= 3);
      expect(watching).toMatchObject({ kind: 'watch', phase: 'watching', pending: null, createdTotal: 2, createdToday: 2 });
      expect(calls.apply).toEqual([{ runKey: 'run-c2', fingerprint: 'f000000000000002' }]);
      expect(calls.cycles.map((c) => c.fromCycle)).toEqual(calls.cycles.map((c) => c.cycle));
      expect(calls.collect).toEqual([{ workflowId: handle.workflowId, maxConnectors: 10 }]);

      const stopped = await handle.executeUpdate(stopWatchUpdate, { args: [{ by: 'test' }] });
      expect(stopped.phase).toBe('stopped');
      await handle.result();
      expect(calls.collectorsCancelled).toBe(1);
      expect(calls.sessionsEnded).toEqual([{ workflowId: handle.workflowId, collectors: 1 }]);
    });
  });

  it('with --max-silent-stations, holds a plan within the limits for a person once too many live stations went unheard for the horizon', async () => {
    let held: number | undefined;
    const cycles: Cycles = (input) => {
      if (input.cycle === 1) return planned(input, 2);
      if (input.silenceSince === undefined || held !== undefined) return quiet;
      held = input.cycle;
      return { ...planned(input, 2), silence: { liveStations: 10, silentStations: 8 } };
    };
    await withWatch(aWatchInput({ autoApproveMaxPoints: 5, maxSilentStations: 50, silenceHorizonMs: 2500 }), cycles, async (handle, calls) => {
      const waiting = await statusWhen(handle, (s) => s.phase === 'awaiting-approval');
      // Before the horizon nothing is counted (not heard yet is not silence): the first plan was applied at once.
      expect(calls.cycles[0]?.silenceSince).toBeUndefined();
      expect(calls.apply).toEqual([{ runKey: 'run-c1', fingerprint: 'f000000000000001' }]);
      expect(waiting.pending).toMatchObject({ cycle: held, autoApproveExceeded: expect.stringMatching(/^8 of 10 live stations \(80 %\) sent nothing, more than the 50 %/) });
      expect(await notified(calls, 1)).toHaveLength(1);
    });
  });

  it('asks for no silence count without --max-silent-stations', async () => {
    await withWatch(aWatchInput({ autoApproveMaxPoints: 5, silenceHorizonMs: 1000 }), () => quiet, async (handle, calls) => {
      await statusWhen(handle, (s) => s.cycles >= 3);
      expect(calls.cycles.every((c) => c.silenceSince === undefined)).toBe(true);
    });
  });

  it('lets a plan over the limits wait, notifies once, supersedes it with the next cycle’s and refuses the old fingerprint', async () => {
    const cycles: Cycles = (input) => (input.cycle === 1 ? planned(input, 9) : input.cycle === 3 ? planned(input, 12, 2) : quiet);
    await withWatch(aWatchInput({ autoApproveMaxPoints: 5 }), cycles, async (handle, calls) => {
      const waiting = await statusWhen(handle, (s) => s.phase === 'awaiting-approval');
      expect(waiting.pending).toMatchObject({ cycle: 1, runKey: 'run-c1', fromCycle: 1 });
      expect(waiting.plan?.fingerprint).toBe('f000000000000001');
      expect(waiting.autoApproveExceeded).toMatch(/9 points to create exceed the auto-approve limit of 5/);

      const superseding = await statusWhen(handle, (s) => s.pending?.cycle === 3);
      // Cycle 2 had nothing new: the waiting plan stayed, and cycle 3 planned from cycle 1 on.
      expect(calls.cycles.find((c) => c.cycle === 3)?.fromCycle).toBe(1);
      expect(superseding.superseded).toEqual([{ fingerprint: 'f000000000000001', cycle: 1, by: 3 }]);
      expect((await notified(calls, 2)).map((n) => n.plan?.fingerprint)).toEqual(['f000000000000001', 'f000000000000003']);

      const stale = handle.executeUpdate(approveUpdate, { args: [{ fingerprint: 'f000000000000001', by: 'alice' }] });
      await expect(stale).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      await expect(stale).rejects.toMatchObject({ cause: { message: expect.stringMatching(/superseded by cycle 3/) } });
      expect(calls.apply).toHaveLength(0);

      await handle.executeUpdate(approveUpdate, { args: [{ fingerprint: 'f000000000000003', by: 'alice' }] });
      const applied = await statusWhen(handle, (s) => s.pending === null && s.createdTotal > 0);
      expect(applied.phase).toBe('watching');
      expect(calls.apply).toEqual([{ runKey: 'run-c3', fingerprint: 'f000000000000003' }]);
    });
  });

  it('leaves a waiting plan waiting, notified once, when later cycles plan the same again (a device without a station heard again)', async () => {
    const same = (input: WatchCycleInput): WatchCycleOutcome => ({ ...planned(input, 9), plan: aPlanSummary({ fingerprint: 'f0000000000same', pointsToCreate: 9, stationsToChange: 1 }) });
    let differ: number | undefined;
    const cycles: Cycles = (input) => {
      if (differ === undefined) return same(input);
      if (differ === 0) differ = input.cycle;
      return input.cycle === differ ? planned(input, 12, 2) : quiet;
    };
    await withWatch(aWatchInput({ autoApproveMaxPoints: 5 }), cycles, async (handle, calls) => {
      const later = await statusWhen(handle, (s) => s.cycles >= 3);
      expect(later.pending).toMatchObject({ cycle: 1, runKey: 'run-c1', fromCycle: 1 });
      expect(later.superseded).toEqual([]);
      expect(later.lastPlan).toMatchObject({ cycle: later.cycles, runKey: `run-c${later.cycles}` });
      expect(calls.cycles.every((c) => c.fromCycle === 1)).toBe(true);
      expect((await notified(calls, 1)).map((n) => n.plan?.fingerprint)).toEqual(['f0000000000same']);

      // A different plan still supersedes it.
      differ = 0;
      const superseding = await statusWhen(handle, (s) => s.pending !== null && s.pending.cycle > 1);
      expect(superseding.superseded).toEqual([{ fingerprint: 'f0000000000same', cycle: 1, by: differ }]);
      expect((await notified(calls, 2)).map((n) => n.plan?.fingerprint)).toEqual(['f0000000000same', `f${String(differ).padStart(15, '0')}`]);
    });
  });

  it('records who sent a refused approve or reject signal, as a sync does', async () => {
    await withWatch(aWatchInput({ autoApproveMaxPoints: 5 }), () => quiet, async (handle) => {
      await statusWhen(handle, (s) => s.cycles >= 1);
      await handle.signal(approveSignal, { fingerprint: 'f000000000000009', by: 'dave@ops' });
      await handle.signal(rejectSignal, { by: 'erin@ops', reason: 'nothing to reject' });
      await handle.signal(approveSignal, {});
      const refused = await statusWhen(handle, (s) => s.refusedApprovals.length === 2 && s.refusedRejections.length === 1);
      expect(refused.refusedApprovals).toEqual([
        { by: 'dave@ops', fingerprint: 'f000000000000009', reason: 'nothing awaits approval (the watch is watching)', at: expect.any(String) },
        { by: 'unknown', reason: 'nothing awaits approval (the watch is watching)', at: expect.any(String) },
      ]);
      expect(refused.refusedRejections).toEqual([{ by: 'erin@ops', reason: 'nothing awaits approval (the watch is watching)', at: expect.any(String) }]);
    });
  });

  it('drops a rejected plan: the next cycle plans from its own number', async () => {
    const cycles: Cycles = (input) => (input.cycle === 1 ? planned(input, 9) : quiet);
    await withWatch(aWatchInput({ autoApproveMaxPoints: 5 }), cycles, async (handle, calls) => {
      await statusWhen(handle, (s) => s.phase === 'awaiting-approval');
      await handle.executeUpdate(rejectUpdate, { args: [{ by: 'bob', reason: 'not now' }] });
      const after = await statusWhen(handle, (s) => s.cycles >= 3 && s.pending === null);
      expect(after.lastRejection).toMatchObject({ by: 'bob', reason: 'not now' });
      expect(calls.cycles.at(-1)?.fromCycle).toBe(calls.cycles.at(-1)?.cycle);
      expect(calls.apply).toHaveLength(0);
    });
  });

  it('goes on when a cycle’s plan fails for good: shows why, plans under the same number again, and clears the error', async () => {
    let releaseRetry: () => void = () => undefined;
    const retried = new Promise<void>((resolve) => (releaseRetry = resolve));
    let failures = 0;
    const cycles: Cycles = async (input) => {
      if (input.cycle !== 2) return quiet;
      if (failures++ === 0) throw ApplicationFailure.create({ type: 'DatabaseError', message: 'the database is away', nonRetryable: true });
      // The same number again: held until the test has read the status it shows meanwhile.
      await retried;
      return planned(input, 2);
    };
    await withWatch(aWatchInput({ autoApproveMaxPoints: 5 }), cycles, async (handle, calls) => {
      const failed = await statusWhen(handle, (s) => s.error !== undefined);
      releaseRetry();
      expect(failed).toMatchObject({ phase: 'watching', cycles: 1, error: 'cycle 2 failed: the database is away; the next cycle plans its devices again' });
      const after = await statusWhen(handle, (s) => s.cycles >= 3);
      expect(after).toMatchObject({ phase: 'watching', createdTotal: 2 });
      expect(after.error).toBeUndefined();
      expect(calls.cycles.slice(0, 4).map((c) => c.cycle)).toEqual([1, 2, 2, 3]);
      expect(calls.apply).toEqual([{ runKey: 'run-c2', fingerprint: 'f000000000000002' }]);
      expect((await handle.describe()).status.name).toBe('RUNNING');
    });
  });

  it('continues as new every cyclesPerRun cycles, carrying the counts and the waiting plan; the collectors start again', async () => {
    const cycles: Cycles = (input) => (input.cycle === 1 ? planned(input, 3) : input.cycle === 2 ? planned(input, 9) : quiet);
    await withWatch(aWatchInput({ autoApproveMaxPoints: 5, cyclesPerRun: 2, collectors: 2 }), cycles, async (handle, calls) => {
      const next = await statusWhen(handle, (s) => s.runs >= 2 && s.cycles >= 3);
      expect(next).toMatchObject({ createdTotal: 2, devicesHeard: 2, phase: 'awaiting-approval' });
      expect(next.pending).toMatchObject({ cycle: 2, runKey: 'run-c2' });
      expect(calls.collect.length).toBeGreaterThanOrEqual(4);
      expect(calls.collect.slice(0, 2).map((c) => c.collector).sort((a, b) => (a?.index ?? 0) - (b?.index ?? 0))).toEqual([
        { index: 0, of: 2 },
        { index: 1, of: 2 },
      ]);
      expect(calls.collectorsCancelled).toBeGreaterThanOrEqual(2);
      const description = await handle.describe();
      expect(description.runId).not.toBe(handle.firstExecutionRunId);

      // The waiting plan is approved in the new run, and applied once.
      await handle.executeUpdate(approveUpdate, { args: [{ fingerprint: 'f000000000000002', by: 'carol' }] });
      await statusWhen(handle, (s) => s.pending === null && s.createdTotal === 4);
      expect(calls.apply.map((a) => a.runKey)).toEqual(['run-c1', 'run-c2']);
    });
  });

  it('stops at once when the stop comes while the run continues as new (the Update waits for the end, not for the handlers)', async () => {
    const cycles: Cycles = (input) => (input.cycle % 2 === 0 ? planned(input, 9) : quiet);
    // Collectors that take 3 s to store their last counts: a stop sent as a run starts lands while it stops them.
    await withWatch(aWatchInput({ autoApproveMaxPoints: 5, cyclesPerRun: 1 }), cycles, async (handle, calls) => {
      await statusWhen(handle, (s) => s.runs >= 2);
      // The run's one cycle comes after 1 s; then it stops its collectors (3 s) to continue as new.
      await new Promise((resolve) => setTimeout(resolve, 1800));
      // A deadlocked run never ends, whatever is sent. An Update that lands as a run closes may be dropped by the test
      // server (it is not yet the workflow's to answer): sent again, it reaches the next run.
      const stopWithin = async (ms: number): Promise<WatchStatus | undefined> => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
        return Promise.race([handle.executeUpdate(stopWatchUpdate, { args: [{ by: 'test' }] }), late]).finally(() => clearTimeout(timer));
      };
      let stopped: WatchStatus | undefined;
      for (let attempt = 1; attempt <= 6 && stopped === undefined; attempt++) stopped = await stopWithin(15_000);
      expect(stopped).toMatchObject({ phase: 'stopped', pending: null });
      expect(calls.sessionsEnded).toHaveLength(1);
    }, 3000);
  }, 150_000);
});
