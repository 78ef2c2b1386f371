/**
 * What the watch's fault tests share: starting a watch on a task queue, waiting for its points, reading its status,
 * holding a row lock as another writer would, and the checks that every point exists exactly once.
 */
import mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2';
import { temporal } from '@temporalio/proto';
import { WorkflowIdConflictPolicy, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { watchKeyOf } from '../../src/domain/watch-keys';
import { WATCH_WORKFLOW_TYPE, type WatchInput, type WatchStatus } from '../../src/watch-shared';
import { watchStatusQuery, type watchChargingPoints } from '../../src/workflows';
import type { E2e, StationRow } from './e2e';
import { connectionOptions } from './e2e-db';
import { waitFor } from './wait';

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
function subscriptions(e2e: E2e): number {
  return e2e.infoLines().filter((line) => line === 'Subscribed to connectors-count').length;
}

/** Starts a watch and waits until its collector has subscribed: what is published from then on is heard. */
export async function startListeningWatch(e2e: E2e, input: Partial<WatchInput> & { account: string; intervalMs: number }): Promise<WorkflowHandleWithFirstExecutionRunId<typeof watchChargingPoints>> {
  const before = subscriptions(e2e);
  const handle = await startWatch(e2e, input);
  await waitFor('the watch collector to subscribe', () => subscriptions(e2e) > before, { timeoutMs: 30_000, intervalMs: 100 });
  return handle;
}

/** The watch's status query, retried while no worker answers (a worker just killed, another starting). */
export async function watchStatus(handle: WorkflowHandle, timeoutMs = 30_000): Promise<WatchStatus> {
  let lastError = '';
  return waitFor(
    `the status of ${handle.workflowId}`,
    async () => {
      try {
        return await handle.query(watchStatusQuery);
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
        return undefined;
      }
    },
    { timeoutMs, intervalMs: 250, lastSeen: () => lastError },
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

/** The applied cycles of a watch, from the tool's run records: what each created and found already there. */
export async function appliedCycles(e2e: E2e, workflowId: string): Promise<Array<{ runKey: string; created: number; alreadyPresent: number }>> {
  const [rows] = await e2e.db.pool.query<RowDataPacket[]>(
    `SELECT run_key, created_points, already_present FROM \`${e2e.db.config.toolDatabase}\`.cp_sync_runs WHERE run_key LIKE ? AND applied IS NOT NULL ORDER BY run_key`,
    [`${watchKeyOf(workflowId)}-c%`],
  );
  return rows.map((r) => ({ runKey: String(r.run_key), created: Number(r.created_points), alreadyPresent: Number(r.already_present) }));
}

/** A row lock taken `FOR UPDATE` by a connection of its own (another writer), held until `release()`. */
export async function holdRowLock(e2e: E2e, sql: string, params: unknown[]): Promise<{ release: () => Promise<void> }> {
  const connection = await mysql.createConnection(connectionOptions(e2e.db.config, e2e.db.config.database));
  await connection.beginTransaction();
  await connection.query(sql, params);
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      // The server may have gone (a crash test): the lock went with it.
      await connection.rollback().catch(() => undefined);
      await connection.end().catch(() => connection.destroy());
    },
  };
}

/** Whether `handle`'s workflow has an attempt of `activity` running now (started, not finished). */
export async function runningActivity(handle: WorkflowHandle, activity: string): Promise<boolean> {
  const { raw } = await handle.describe();
  return (raw.pendingActivities ?? []).some((a) => a.activityType?.name === activity && a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED);
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
