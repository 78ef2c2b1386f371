/**
 * Replay: the recorded histories of real syncs (test/fixtures/histories/*.json) must replay against the current
 * workflow code. A change that would break the runs in flight — an activity or timer added, removed or moved, a
 * different order of commands — fails here, before a production worker meets it with a non-determinism error.
 * (Such a change needs `patched()` / workflow versioning, and then new recordings beside the old ones.)
 *
 * Re-record (local stack up: `npm run stack:up`), after an intended, compatible change or to add a scenario:
 *
 *   npm run record-history
 *
 * tools/replay/record-history.ts runs one real sync per scenario (short window, a throw-away database, an
 * in-process worker) against the Temporal dev server and writes each history as the History message's toJSON()
 * form. Keep the old files when the change is a versioned one: they stand for the runs still in flight.
 *
 * Which versions replay: cp-sync 0.1 (v0.1-*, signals only, no search attributes), the version before Updates
 * (signals-*, signals only), and this one (sync-*: approval by Update, search attributes and memo behind the
 * `cp-sync-visibility` patch). sync-failed-while-applying.json is a run that failed (apply refused by the database)
 * before the failure carried the final status: recorded with the workflow code of b3a560a and mocked activities on
 * the time-skipping test server; signals-sync-approved-without-by.json is derived from a recording (see its test).
 * The recorder writes the History message's toJSON() form, read with History.fromObject;
 * an export of `temporal workflow show --output json` goes through historyFromJSON instead (test/e2e/visibility).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { SYNC_FAILED, WORKFLOW_TYPE } from '../../src/shared';
import { finalStatusFromHistory } from '../../src/workflows/final-status';
import { endedRunStatus } from '../../src/client/ended-run';
import { outcomeLine } from '../../src/domain/run-text';

const HISTORIES = join(__dirname, '..', 'fixtures', 'histories');
const workflowsPath = require.resolve('../../src/workflows');

type HistoryJson = { events: Record<string, unknown>[] };

function readHistory(file: string): HistoryJson {
  return JSON.parse(readFileSync(join(HISTORIES, file), 'utf8')) as HistoryJson;
}

function load(json: HistoryJson): temporal.api.history.v1.History {
  return temporal.api.history.v1.History.fromObject(json);
}

const fixtures = readdirSync(HISTORIES)
  .filter((f) => f.endsWith('.json'))
  .sort();

beforeAll(() => {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Another test file of this process installed it already.
  }
});

test('the recorded scenarios are there', () => {
  // Recorded by this version, by earlier ones (their runs still in flight must go on after an upgrade), and one
  // with notifications (patch 'webhook-notifications'; the others replay without them).
  expect(fixtures).toEqual(
    expect.arrayContaining([
      'sync-over-auto-approve-limit-notified.json',
      'sync-approved.json',
      'sync-failed-while-applying.json',
      'sync-stale-approval-then-rejected.json',
      'signals-sync-approved.json',
      'signals-sync-stale-approval-then-rejected.json',
      'v0.1-sync-approved.json',
      'v0.1-sync-stale-approval-then-rejected.json',
      'signals-sync-approved-without-by.json',
    ]),
  );
  for (const file of fixtures) {
    const started = readHistory(file).events[0] as { workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } };
    expect(started.workflowExecutionStartedEventAttributes?.workflowType?.name).toBe(WORKFLOW_TYPE);
  }
});

test("this version's recordings hold what older ones lack: the patch marker, search-attribute upserts and an accepted Update", () => {
  for (const file of ['sync-approved.json', 'sync-stale-approval-then-rejected.json']) {
    const types = new Set(readHistory(file).events.map((e) => e.eventType));
    expect([...types]).toEqual(
      expect.arrayContaining(['EVENT_TYPE_MARKER_RECORDED', 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED']),
    );
  }
  for (const file of fixtures.filter((f) => !f.startsWith('sync-'))) {
    const types = readHistory(file).events.map((e) => e.eventType);
    expect(types).not.toContain('EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES');
    expect(types).not.toContain('EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED');
  }
});

/**
 * A run that failed before its failure carried the final status (SYNC_FAILED) ended with the activity's failure
 * itself. The failure's payload is no command: the current code, which fails with SYNC_FAILED, replays it (above),
 * and a reader of the final status finds none in it and falls back to the history.
 */
test('a run failed before the final status travelled with the failure: an activity failure, no status in it', () => {
  const json = readHistory('sync-failed-while-applying.json');
  const failed = json.events.at(-1) as { eventType: string; workflowExecutionFailedEventAttributes: { failure: Record<string, unknown> } };
  expect(failed.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_FAILED');
  expect(failed.workflowExecutionFailedEventAttributes.failure).toMatchObject({ message: 'Activity task failed', activityFailureInfo: expect.any(Object) });
  expect(JSON.stringify(failed)).not.toContain(SYNC_FAILED);
  expect(finalStatusFromHistory(load(json))).toBeUndefined();
});

/**
 * The CLI reads such a run all the same, from what the history itself records: the input, the phases the run
 * published (the failure happened while applying), the plan's result, and the error without Temporal's wrapper.
 */
test("the CLI's status of a run failed before the final status travelled: the fallback reads it correctly", () => {
  const json = readHistory('sync-failed-while-applying.json');
  const status = endedRunStatus(load(json), 'FAILED');
  expect(status).toMatchObject({ phase: 'failed', failedDuring: 'applying', error: "ER_NO_SUCH_TABLE: Table 'ocpp.charging_points' doesn't exist", plan: { pointsToCreate: 2 } });
  expect(status.input.collectorDurationMs).toBeGreaterThan(0);
  expect(outcomeLine(status)).toBe("failed during applying: ER_NO_SUCH_TABLE: Table 'ocpp.charging_points' doesn't exist");
  // Without its published phases (runs before the search attributes), the failed activity names the phase.
  const withoutPhases = { events: json.events.filter((e) => e.eventType !== 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES') };
  expect(endedRunStatus(load(withoutPhases), 'FAILED').failedDuring).toBe('applying');
});

/**
 * Runs recorded before a decision had to say who made it accepted an approve signal without `by` (as `unknown`) and
 * went on to apply. signals-sync-approved-without-by.json is signals-sync-approved.json with `by` taken out of its
 * approve signal: it replays (above) only because such a run keeps the old rule (the `decision-needs-by` patch).
 */
test('an approve signal without `by`, accepted by an earlier version, still leads to the apply in replay', () => {
  const events = readHistory('signals-sync-approved-without-by.json').events as {
    workflowExecutionSignaledEventAttributes?: { signalName: string; input: { payloads: { data: string }[] } };
    activityTaskScheduledEventAttributes?: { activityType: { name: string } };
  }[];
  const approve = events.find((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'approve')!.workflowExecutionSignaledEventAttributes!;
  expect(JSON.parse(Buffer.from(approve.input.payloads[0]!.data, 'base64').toString())).not.toHaveProperty('by');
  expect(events.map((e) => e.activityTaskScheduledEventAttributes?.activityType.name).filter(Boolean)).toContain('applyMissingPoints');
});

test.each(fixtures)('%s replays against the current workflow code', async (file) => {
  await Worker.runReplayHistory({ workflowsPath }, load(readHistory(file)), file);
}, 60_000);

/**
 * The guard has teeth: the same history with the plan's activity recorded in place of the collection's (as if the
 * code had swapped two activity calls) must be refused as non-deterministic.
 */
test('a history the code no longer matches is refused as non-deterministic', async () => {
  const json = readHistory('sync-approved.json');
  const scheduled = json.events.filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED') as {
    activityTaskScheduledEventAttributes: { activityType: { name: string } };
  }[];
  expect(scheduled.map((e) => e.activityTaskScheduledEventAttributes.activityType.name)).toEqual(['collectConnectorCounts', 'diffStations', 'applyMissingPoints']);
  scheduled[0]!.activityTaskScheduledEventAttributes.activityType.name = 'diffStations';

  await expect(Worker.runReplayHistory({ workflowsPath }, load(json), 'tampered')).rejects.toBeInstanceOf(DeterminismViolationError);
}, 60_000);
