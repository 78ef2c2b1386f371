/**
 * `cp-sync schedule …`: syncs on a Temporal Schedule. Each scheduled run is an ordinary sync whose workflow id is
 * the schedule id plus the scheduled time (Temporal appends it), so `status`, `approve` and the Web UI work as usual.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleSummary,
} from '@temporalio/client';
import { formatDuration } from '../domain/duration';
import { WORKFLOW_TYPE, type SyncInput } from '../shared';
import { CliError, EXIT } from '../domain/exit-codes';

/** How the schedule was asked for, kept in its memo: the server compiles a cron expression into calendars. */
export const SCHEDULE_MEMO_KEY = 'cpSyncSpec';

export interface ScheduleSpecOption {
  everyMs?: number;
  cron?: string;
  timezone?: string;
}

/** `--every` or `--cron`, exactly one; a cron expression has 5 to 7 fields or is one of Temporal's @-shorthands. */
export function scheduleSpec(option: ScheduleSpecOption): { intervals?: { every: number }[]; cronExpressions?: string[]; timezone?: string; text: string } {
  if ((option.everyMs === undefined) === (option.cron === undefined)) {
    throw new CliError('schedule create: expected exactly one of --every <duration> and --cron "<expr>"', EXIT.usage);
  }
  if (option.everyMs !== undefined) {
    if (option.everyMs < 60_000) throw new CliError('--every: expected at least 1m (a sync collects for a window, then waits for approval)', EXIT.usage);
    return { intervals: [{ every: option.everyMs }], timezone: option.timezone, text: `every ${formatDuration(option.everyMs)}` };
  }
  const cron = option.cron!.trim();
  const fields = cron.split(/\s+/).length;
  if (!(cron.startsWith('@') || (fields >= 5 && fields <= 7))) {
    throw new CliError(`--cron: expected 5 fields (minute hour day-of-month month day-of-week), e.g. "0 2 * * *", or @daily/@hourly (got ${JSON.stringify(cron)})`, EXIT.usage);
  }
  return { cronExpressions: [cron], timezone: option.timezone, text: `cron "${cron}"${option.timezone ? ` (${option.timezone})` : ' (UTC)'}` };
}

export interface CreateScheduleOptions {
  scheduleId: string;
  taskQueue: string;
  input: SyncInput;
  spec: ScheduleSpecOption;
  note?: string;
  paused?: boolean;
}

export async function createSchedule(client: Client, options: CreateScheduleOptions): Promise<ScheduleHandle> {
  const spec = scheduleSpec(options.spec);
  const { text, ...compiled } = spec;
  try {
    return await client.schedule.create({
      scheduleId: options.scheduleId,
      spec: compiled,
      action: {
        type: 'startWorkflow',
        workflowType: WORKFLOW_TYPE,
        // Temporal appends the scheduled time: nightly → nightly-2026-11-28T02:00:00Z.
        workflowId: options.scheduleId,
        taskQueue: options.taskQueue,
        args: [options.input],
        staticSummary: `charging-points-sync scheduled by ${options.scheduleId}${options.input.testDeviceId ? ` (test device ${options.input.testDeviceId})` : ''}`,
      },
      // A run still collecting or awaiting approval is not doubled by the next one: that time is skipped.
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      state: { note: options.note, paused: options.paused },
      memo: { [SCHEDULE_MEMO_KEY]: text },
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

/** What `schedule list` and `schedule describe --json` print for one schedule. */
export interface ScheduleView {
  scheduleId: string;
  spec: string;
  paused: boolean;
  note?: string;
  nextRuns: string[];
  /** The syncs it started last, oldest first (workflow ids); `running` those still running. */
  recentRuns: { workflowId: string; runId: string; scheduledAt: string }[];
  running: string[];
  input?: SyncInput;
  taskQueue?: string;
  actionsTaken?: number;
  skippedOverlap?: number;
}

function specText(memo: Record<string, unknown> | undefined): string {
  const text = memo?.[SCHEDULE_MEMO_KEY];
  return typeof text === 'string' ? text : '(set outside cp-sync)';
}

function recent(actions: ScheduleDescription['info']['recentActions']): ScheduleView['recentRuns'] {
  return actions.map((a) => ({ workflowId: a.action.workflow.workflowId, runId: a.action.workflow.firstExecutionRunId, scheduledAt: a.scheduledAt.toISOString() }));
}

export function viewOfDescription(description: ScheduleDescription): ScheduleView {
  const action = description.action.type === 'startWorkflow' ? description.action : undefined;
  return {
    ...commonView(description),
    running: description.info.runningActions.map((a) => a.workflow.workflowId),
    input: action?.args?.[0] as SyncInput | undefined,
    taskQueue: action?.taskQueue,
    actionsTaken: description.info.numActionsTaken,
    skippedOverlap: description.info.numActionsSkippedOverlap,
  };
}

/** A schedule as the list shows it: what a description and a list entry both carry. */
function commonView(schedule: Pick<ScheduleSummary, 'scheduleId' | 'memo' | 'state' | 'info'>): ScheduleView {
  return {
    scheduleId: schedule.scheduleId,
    spec: specText(schedule.memo),
    paused: schedule.state.paused,
    note: schedule.state.note,
    nextRuns: schedule.info.nextActionTimes.map((d) => d.toISOString()),
    recentRuns: recent(schedule.info.recentActions),
    running: [],
  };
}

/** The schedules of this namespace that start syncs (the server's list is eventually consistent: seconds behind). */
export async function listSchedules(client: Client): Promise<ScheduleView[]> {
  const views: ScheduleView[] = [];
  for await (const summary of client.schedule.list()) {
    if (summary.action?.type === 'startWorkflow' && summary.action.workflowType === WORKFLOW_TYPE) views.push(commonView(summary));
  }
  return views.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
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

export function formatSchedule(view: ScheduleView): string[] {
  const lines = [`Schedule ${view.scheduleId}: ${view.spec}${view.paused ? ' · PAUSED' : ''}`];
  if (view.note) lines.push(`  note: ${view.note}`);
  if (view.input) {
    const i = view.input;
    const limits = [
      i.autoApprove ? 'auto-approve (no limit)' : undefined,
      i.autoApproveMaxPoints !== undefined ? `auto-approve up to ${i.autoApproveMaxPoints} points` : undefined,
      i.autoApproveMaxStations !== undefined ? `auto-approve up to ${i.autoApproveMaxStations} stations` : undefined,
      i.dryRun ? 'dry run' : undefined,
      i.testDeviceId ? `test device ${i.testDeviceId}` : undefined,
      i.account ? `account ${i.account}` : undefined,
    ].filter(Boolean);
    lines.push(`  sync: collect ${formatDuration(i.collectorDurationMs)}, approval timeout ${formatDuration(i.approvalTimeoutMs)}${limits.length > 0 ? `; ${limits.join('; ')}` : ''}${view.taskQueue ? ` (task queue ${view.taskQueue})` : ''}`);
  }
  lines.push(`  next: ${view.paused ? '(paused)' : (view.nextRuns.slice(0, 3).join(', ') || '-')}`);
  if (view.running.length > 0) lines.push(`  running: ${view.running.join(', ')}`);
  for (const run of view.recentRuns.slice(-5)) lines.push(`  ran: ${run.workflowId} (run ${run.runId})`);
  if (view.skippedOverlap) lines.push(`  skipped ${view.skippedOverlap} times because the previous run was still going`);
  return lines;
}
