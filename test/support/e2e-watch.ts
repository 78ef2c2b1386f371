/**
 * What the watch's e2e tests share: starting a watch on a task queue, waiting for its points, polling its status,
 * approving its plan through the CLI, and reading back what it did (its applied cycles, its activities' attempts, and
 * that every point exists exactly once).
 */
import type { RowDataPacket } from 'mysql2';
import { temporal } from '@temporalio/proto';
import { WorkflowIdConflictPolicy, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { watchKeyOf } from '../../src/domain/watch-keys';
import { WATCH_WORKFLOW_TYPE, type WatchInput, type WatchStatus } from '../../src/watch-shared';
import { watchStatusQuery, type watchChargingPoints } from '../../src/workflows';
import type { E2e, StationRow } from './e2e';
import type { CliRun, CliRunner } from './e2e-cli';
import { queryUntil, waitFor } from './wait';

/** Starts a watch (auto-applying plans of up to 100 points) on `taskQueue`; the harness terminates it after the file if still running. */
export async function startWatch(
  e2e: E2e,
  input: Partial<WatchInput> & { account: string; intervalMs: number },
  taskQueue = e2e.taskQueue,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof watchChargingPoints>> {
  const workflowId = e2e.workflowId('watch');
  const started = await e2e.client.workflow.start<typeof watchChargingPoints>(WATCH_WORKFLOW_TYPE, {
    taskQueue,
    workflowId,
    args: [{ maxConnectors: 16, autoApproveMaxPoints: 100, ...input }],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
  });
  // Registered with the harness, which ends what a failed test left running.
  e2e.handle(workflowId);
  return started;
}

/** The worker's subscriptions so far (one line per collector that subscribed). */
export function subscriptions(e2e: E2e): number {
  return e2e.infoLines().filter((line) => line === 'Subscribed to connectors-count').length;
}

/** Starts a watch and waits until its collector has subscribed: what is published from then on is heard. */
export async function startListeningWatch(e2e: E2e, input: Partial<WatchInput> & { account: string; intervalMs: number }): Promise<WorkflowHandleWithFirstExecutionRunId<typeof watchChargingPoints>> {
  const before = subscriptions(e2e);
  const handle = await startWatch(e2e, input);
  await waitFor('the watch collector to subscribe', () => subscriptions(e2e) > before, { timeoutMs: 30_000, intervalMs: 100 });
  return handle;
}

/** The status fields that say where a watch is: what a wait that ran out names. */
function whereItIs({ phase, runs, cycles, createdTotal, pending, error, brokerProblem }: WatchStatus): string {
  return JSON.stringify({ phase, runs, cycles, createdTotal, pending: pending?.plan.fingerprint, error, brokerProblem });
}

export interface StatusWait {
  /** How long to poll (default 30 s). */
  timeoutMs?: number;
  /** More to name if the time runs out (e.g. the pending activities), asked after each status that was not ready. */
  context?: () => string | Promise<string>;
}

/** Polls the watch's status query every 200 ms until `ready` holds and returns that status (see queryUntil). */
export function watchStatusWhen(handle: WorkflowHandle, what: string, ready: (status: WatchStatus) => boolean, { timeoutMs = 30_000, context }: StatusWait = {}): Promise<WatchStatus> {
  return queryUntil(handle, watchStatusQuery, what, ready, { timeoutMs, intervalMs: 200, describe: whereItIs, context });
}

/** The watch's status, once a run answers the query. */
export function watchStatus(handle: WorkflowHandle, timeoutMs = 30_000): Promise<WatchStatus> {
  return watchStatusWhen(handle, `the status of ${handle.workflowId}`, () => true, { timeoutMs });
}

/** The watch's status once it has run `more` cycles past the present one: a recovered watch goes on cycling. */
export async function statusAfterMoreCycles(handle: WorkflowHandle, more = 2, timeoutMs = 30_000): Promise<WatchStatus> {
  const now = await watchStatus(handle);
  return watchStatusWhen(handle, `${more} more cycles of ${handle.workflowId}`, (status) => status.cycles >= now.cycles + more, { timeoutMs });
}

/**
 * `cp-sync approve <watch> --fingerprint …` by alice@ops, run again while the watch refuses it for a cycle that is
 * planning (it says to try again in a moment); the first run it does not refuse so.
 */
export function approveWatchByCli(cli: CliRunner, workflowId: string, fingerprint: string): Promise<CliRun> {
  return waitFor(
    'an approval not refused for a planning cycle',
    async () => {
      const run = await cli.run(['approve', workflowId, '--fingerprint', fingerprint, '--by', 'alice@ops']);
      return !/try again in a moment/.test(run.stderr + run.stdout) && run;
    },
    { timeoutMs: 30_000, intervalMs: 300 },
  );
}

/** Each station's live point ids, by station_id. */
export async function pointsOf(e2e: E2e, stations: StationRow[]): Promise<Record<string, number[]>> {
  const shown: Record<string, number[]> = {};
  for (const station of stations) shown[station.station_id] = await e2e.db.livePointIds(station);
  return shown;
}

/**
 * Waits until the stations' live points are exactly `expected` (by station_id). A failed read is looked at again
 * (a database that was just restarted), and named if the time runs out.
 */
export async function pointsWithin(e2e: E2e, stations: StationRow[], expected: Record<string, number[]>, timeoutMs: number): Promise<void> {
  let last = '';
  await waitFor(
    'every station with exactly its points',
    async () => {
      try {
        last = JSON.stringify(await pointsOf(e2e, stations));
      } catch (err) {
        last = `read failed: ${err instanceof Error ? err.message : String(err)}`;
      }
      return last === JSON.stringify(expected);
    },
    { timeoutMs, intervalMs: 250, lastSeen: () => `${last}; expected ${JSON.stringify(expected)}` },
  );
}

/** Live points that exist more than once (the same connector of the same station twice): none, ever. */
export async function duplicatePoints(e2e: E2e): Promise<Array<{ station_id: string; point_id: number; n: number }>> {
  const [rows] = await e2e.db.pool.query<RowDataPacket[]>(
    'SELECT station_id, point_id, COUNT(*) AS n FROM charging_points WHERE deleted IS NULL GROUP BY station_id, point_id HAVING COUNT(*) > 1',
  );
  return rows.map((r) => ({ station_id: String(r.station_id), point_id: Number(r.point_id), n: Number(r.n) }));
}

/** The points a watch's applied cycles created, by the tool's run records. */
export async function createdByCycles(e2e: E2e, workflowId: string): Promise<number> {
  return (await appliedCycles(e2e, workflowId)).reduce((sum, cycle) => sum + cycle.created, 0);
}

/** The applied cycles of a watch, from the tool's run records: what each created and found already there. */
export async function appliedCycles(e2e: E2e, workflowId: string): Promise<Array<{ runKey: string; created: number; alreadyPresent: number }>> {
  const [rows] = await e2e.db.pool.query<RowDataPacket[]>(
    `SELECT run_key, created_points, already_present FROM \`${e2e.db.config.toolDatabase}\`.cp_sync_runs WHERE run_key LIKE ? AND applied IS NOT NULL ORDER BY run_key`,
    [`${watchKeyOf(workflowId)}-c%`],
  );
  return rows.map((r) => ({ runKey: String(r.run_key), created: Number(r.created_points), alreadyPresent: Number(r.already_present) }));
}

/** Whether `handle`'s workflow has an attempt of `activity` running now (started, not finished). */
export async function runningActivity(handle: WorkflowHandle, activity: string): Promise<boolean> {
  const { raw } = await handle.describe();
  return (raw.pendingActivities ?? []).some((a) => a.activityType?.name === activity && a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED);
}

/** The highest attempt on which any of `activity`'s executions finished: 2 or more once one of them was retried. */
export async function highestAttempt(handle: WorkflowHandle, activity: string): Promise<number> {
  return Math.max(...(await finishedAttempts(handle, activity)));
}

/** The attempt numbers of `activity`'s finished attempts in a history (one per activity: its last attempt). */
export async function finishedAttempts(handle: WorkflowHandle, activity: string): Promise<number[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  const typeOf = new Map(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name]));
  return events.flatMap((e) => {
    const started = e.activityTaskStartedEventAttributes;
    return started && typeOf.get(String(started.scheduledEventId)) === activity ? [started.attempt ?? 0] : [];
  });
}
