/**
 * `cp-sync schedule …`: syncs on a Temporal Schedule. Each scheduled run is an ordinary sync whose workflow id is
 * the schedule id plus the scheduled time (Temporal appends it), so `status`, `approve` and the Web UI work as usual.
 * What people read (views, lines) is in schedule-view.ts; when a schedule runs, in schedule-spec.ts.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
} from '@temporalio/client';
import { WORKFLOW_TYPE, type SyncInput } from '../shared';
import { CliError, EXIT } from '../domain/exit-codes';
import { scheduleSpec, type CompiledScheduleSpec, type ScheduleSpecOption } from './schedule-spec';
import { listedRun } from './list';
import { viewOfDescription, SCHEDULE_MEMO_KEY, SCHEDULE_SETTINGS_KEY, type RecentRun, type ScheduleSettings, type ScheduleView } from './schedule-view';
import { runLabels } from './sync-client';

export interface CreateScheduleOptions {
  scheduleId: string;
  taskQueue: string;
  input: SyncInput;
  spec: ScheduleSpecOption;
  note?: string;
  paused?: boolean;
  /** The OCPP database the runs are meant for: their CpSyncDatabase, so that `cp-sync list --database` finds them. */
  database?: string;
}

function withoutText({ text: _text, ...compiled }: CompiledScheduleSpec): Omit<CompiledScheduleSpec, 'text'> {
  return compiled;
}

/**
 * The spec as asked for (the server compiles a cron into calendars) and the creation note. Kept in the schedule's
 * memo, and in its action's memo, the one place ScheduleHandle.update can change them (the server refuses memo
 * updates on schedules); the action's memo is also each run's, which then tells which settings started it.
 */
function settingsFor(spec: ScheduleSpecOption, text: string, note: string | undefined): ScheduleSettings {
  return { ...spec, text, ...(note !== undefined ? { note } : {}) };
}

export async function createSchedule(client: Client, options: CreateScheduleOptions): Promise<ScheduleHandle> {
  const spec = scheduleSpec(options.spec);
  const settings = settingsFor(options.spec, spec.text, options.note);
  try {
    return await client.schedule.create({
      scheduleId: options.scheduleId,
      spec: withoutText(spec),
      action: {
        type: 'startWorkflow',
        workflowType: WORKFLOW_TYPE,
        // Temporal appends the scheduled time: nightly → nightly-2026-11-28T02:00:00Z.
        workflowId: options.scheduleId,
        taskQueue: options.taskQueue,
        args: [options.input],
        staticSummary: `charging-points-sync scheduled by ${options.scheduleId}${options.input.testDeviceId ? ` (test device ${options.input.testDeviceId})` : ''}`,
        typedSearchAttributes: runLabels(options.input, options.database).typedSearchAttributes,
        memo: { [SCHEDULE_SETTINGS_KEY]: settings },
      },
      // A run still collecting or awaiting approval is not doubled by the next one: that time is skipped.
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      // The state's note is what the Web UI shows, and what pause and unpause replace; the memo keeps the creation note.
      state: { note: options.note, paused: options.paused },
      memo: { [SCHEDULE_MEMO_KEY]: spec.text, [SCHEDULE_SETTINGS_KEY]: settings },
    });
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) {
      throw new CliError(`A schedule with id ${options.scheduleId} already exists: see \`cp-sync schedule describe ${options.scheduleId}\`, or delete it first.`, EXIT.alreadyRunning);
    }
    throw err;
  }
}

/** A schedule's handle after checking that it exists and starts syncs (not another team's workflow). */
export async function describeSchedule(client: Client, scheduleId: string): Promise<{ handle: ScheduleHandle; description: ScheduleDescription }> {
  const handle = client.schedule.getHandle(scheduleId);
  let description: ScheduleDescription;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new CliError(`No schedule with id ${scheduleId} in this namespace (see \`cp-sync schedule list\`).`, EXIT.failed);
    throw err;
  }
  if (description.action.type !== 'startWorkflow' || description.action.workflowType !== WORKFLOW_TYPE) {
    throw new CliError(`Schedule ${scheduleId} does not start ${WORKFLOW_TYPE} syncs; cp-sync leaves it alone.`, EXIT.failed);
  }
  return { handle, description };
}

export interface ScheduleChanges {
  /** The new spec; undefined keeps the schedule's. */
  spec?: ScheduleSpecOption;
  /** The runs' input, whole (the schedule's with the changes applied). */
  input: SyncInput;
  /** The new creation note; undefined keeps it. */
  note?: string;
  /** The settings as they are now (undefined for a schedule made before cp-sync kept them). */
  settings?: ScheduleSettings;
  /** How the schedule reads now (for a schedule whose settings cp-sync does not know). */
  specText: string;
}

/**
 * Changes a schedule in place (ScheduleHandle.update): its id, recent runs and counters stay. The state's note
 * follows a new creation note unless the schedule is paused (then it says why, and stays).
 */
export async function updateSchedule(handle: ScheduleHandle, changes: ScheduleChanges): Promise<void> {
  const spec = changes.spec === undefined ? undefined : scheduleSpec(changes.spec, 'schedule update');
  const kept = changes.settings;
  const asked: ScheduleSpecOption = changes.spec ?? { everyMs: kept?.everyMs, cron: kept?.cron, timezone: kept?.timezone };
  const settings = settingsFor(asked, spec?.text ?? changes.specText, changes.note ?? changes.settings?.note);
  await handle.update((previous) => ({
    spec: spec ? withoutText(spec) : previous.spec,
    action: { ...previous.action, args: [changes.input], memo: { ...previous.action.memo, [SCHEDULE_SETTINGS_KEY]: settings } },
    policies: previous.policies,
    state: {
      paused: previous.state.paused,
      note: changes.note !== undefined && !previous.state.paused ? changes.note : previous.state.note,
      remainingActions: previous.state.remainingActions,
    },
  }));
}

/** The schedules of this namespace that start syncs (the server's list is eventually consistent: seconds behind). */
export async function listSchedules(client: Client): Promise<ScheduleView[]> {
  const views: ScheduleView[] = [];
  for await (const summary of client.schedule.list()) {
    if (summary.action?.type !== 'startWorkflow' || summary.action.workflowType !== WORKFLOW_TYPE) continue;
    // The list entry lacks the action's memo, where an update keeps the spec as asked for: describe each.
    try {
      views.push(viewOfDescription(await client.schedule.getHandle(summary.scheduleId).describe()));
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  return views.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

/**
 * Each recent run with its phase and outcome, read from the run itself (search attribute and memo, as `cp-sync
 * list` reads them): no worker needed. A run gone from the namespace (retention) keeps no phase.
 */
export async function withOutcomes(client: Client, runs: readonly RecentRun[]): Promise<RecentRun[]> {
  return Promise.all(
    runs.map(async (run) => {
      try {
        const listed = listedRun(await client.workflow.getHandle(run.workflowId, run.runId).describe());
        return { ...run, phase: listed.phase, ...(listed.outcome !== undefined ? { outcome: listed.outcome } : {}) };
      } catch {
        return run;
      }
    }),
  );
}

/**
 * Starts a run now, under the schedule's overlap policy: refused while one of its runs is still going (it may be
 * waiting for approval). Resolves with the new run's workflow id once the server has started it.
 */
export async function triggerSchedule(client: Client, scheduleId: string, waitMs = 15_000): Promise<{ workflowId: string; runId: string }> {
  const { handle, description } = await describeSchedule(client, scheduleId);
  const running = description.info.runningActions.map((a) => a.workflow.workflowId);
  if (running.length > 0) {
    throw new CliError(`Not triggered: ${running.join(', ')} of schedule ${scheduleId} is still running (overlap policy: skip). See \`cp-sync status ${running[0]}\`.`, EXIT.alreadyRunning);
  }
  const before = new Set(description.info.recentActions.map((a) => a.action.workflow.firstExecutionRunId));
  await handle.trigger(ScheduleOverlapPolicy.SKIP);
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const now = await handle.describe();
    const started = [...now.info.runningActions, ...now.info.recentActions.map((a) => a.action)].find((a) => !before.has(a.workflow.firstExecutionRunId));
    if (started) return { workflowId: started.workflow.workflowId, runId: started.workflow.firstExecutionRunId };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new CliError(`Triggered schedule ${scheduleId}, but its run has not started within ${waitMs / 1000} s; see \`cp-sync schedule describe ${scheduleId}\`.`, EXIT.failed);
}
