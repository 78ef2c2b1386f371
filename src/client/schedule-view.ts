/**
 * A sync schedule as `schedule describe`/`list` show it: read from Temporal's description or list entry (and the
 * memo cp-sync keeps), then written for people, next times in the schedule's time zone.
 */
import type { ScheduleDescription } from '@temporalio/client';
import { formatDuration } from '../domain/duration';
import type { SyncInput } from '../shared';
import { formatInZone } from '../domain/cron';
import type { ScheduleSpecOption } from './schedule-spec';

/** The memo's spec as people read it (`every 24 h`), kept since cp-sync 0.2. */
export const SCHEDULE_MEMO_KEY = 'cpSyncSpec';
/** The memo's spec as asked for, and the creation note (pause and unpause write the state's note, not this). */
export const SCHEDULE_SETTINGS_KEY = 'cpSyncSchedule';

export interface ScheduleSettings extends ScheduleSpecOption {
  /** How the schedule reads for people: `every 24 h`. */
  text: string;
  note?: string;
}

export interface RecentRun {
  workflowId: string;
  runId: string;
  scheduledAt: string;
  startedAt: string;
  /** The run's phase (CpSyncPhase; for a run ended from outside, e.g. `terminated`); absent when it could not be read. */
  phase?: string;
  /** The run's outcome line from its memo, once it has ended. */
  outcome?: string;
}

/** What `schedule list --json` and `schedule describe --json` print for one schedule. */
export interface ScheduleView {
  scheduleId: string;
  spec: string;
  /** The IANA zone of a cron schedule; absent for UTC and intervals. */
  timezone?: string;
  paused: boolean;
  /** Why the schedule exists (set by create or update). */
  note?: string;
  /** The note of the last pause or unpause, when it differs from the creation note. */
  pauseNote?: string;
  nextRuns: string[];
  /** The syncs it started last, oldest first, each with its outcome (describe and update only). */
  recentRuns: RecentRun[];
  running: string[];
  input?: SyncInput;
  taskQueue?: string;
  actionsTaken?: number;
  skippedOverlap?: number;
}

/** The settings cp-sync keeps: the action's memo (changed by update), else the schedule's (set at create). */
export function settingsOf(schedule: { memo?: Record<string, unknown>; action?: { memo?: Record<string, unknown> } }): ScheduleSettings | undefined {
  for (const memo of [schedule.action?.memo, schedule.memo]) {
    const settings = memo?.[SCHEDULE_SETTINGS_KEY];
    if (typeof settings === 'object' && settings !== null) return settings as ScheduleSettings;
  }
  return undefined;
}

function specText(schedule: { memo?: Record<string, unknown> }, settings: ScheduleSettings | undefined): string {
  const text = settings?.text ?? schedule.memo?.[SCHEDULE_MEMO_KEY];
  return typeof text === 'string' ? text : '(set outside cp-sync)';
}

/** A schedule as describe and list show it, from its description. */
export function viewOfDescription(schedule: ScheduleDescription): ScheduleView {
  const settings = settingsOf(schedule);
  const action = schedule.action.type === 'startWorkflow' ? schedule.action : undefined;
  // Schedules made before the memo kept the creation note had it in the state only.
  const note = settings ? settings.note : schedule.state.note;
  const stateNote = schedule.state.note || undefined;
  const timezone = schedule.spec?.timezone;
  return {
    scheduleId: schedule.scheduleId,
    spec: specText(schedule, settings),
    ...(timezone && timezone !== 'UTC' ? { timezone } : {}),
    paused: schedule.state.paused,
    ...(note ? { note } : {}),
    ...(stateNote !== undefined && stateNote !== note ? { pauseNote: stateNote } : {}),
    nextRuns: schedule.info.nextActionTimes.map((d) => d.toISOString()),
    recentRuns: schedule.info.recentActions.map((a) => ({
      workflowId: a.action.workflow.workflowId,
      runId: a.action.workflow.firstExecutionRunId,
      scheduledAt: a.scheduledAt.toISOString(),
      startedAt: a.takenAt.toISOString(),
    })),
    running: schedule.info.runningActions.map((a) => a.workflow.workflowId),
    input: action?.args?.[0] as SyncInput | undefined,
    taskQueue: action?.taskQueue,
    actionsTaken: schedule.info.numActionsTaken,
    skippedOverlap: schedule.info.numActionsSkippedOverlap,
  };
}

/** A time as the schedule's zone shows it; UTC as ISO 8601. */
function when(iso: string, timezone: string | undefined): string {
  return timezone ? formatInZone(iso, timezone) : iso.replace(/\.\d{3}Z$/, 'Z');
}

/** The silence rule only matters where a plan could be applied without a person. */
function heldWhenSilent(input: SyncInput): string | undefined {
  const autoApplies = input.autoApprove || input.autoApproveMaxPoints !== undefined || input.autoApproveMaxStations !== undefined;
  if (!autoApplies || input.maxSilentStations === undefined || input.maxSilentStations >= 100) return undefined;
  return `held for a person when more than ${input.maxSilentStations} % of live stations are silent`;
}

function syncLine(view: ScheduleView, input: SyncInput): string {
  const limits = [
    input.autoApprove ? 'auto-approve (no limit)' : undefined,
    input.autoApproveMaxPoints !== undefined ? `auto-approve up to ${input.autoApproveMaxPoints} points` : undefined,
    input.autoApproveMaxStations !== undefined ? `auto-approve up to ${input.autoApproveMaxStations} stations` : undefined,
    heldWhenSilent(input),
    input.dryRun ? 'dry run' : undefined,
    input.testDeviceId ? `test device ${input.testDeviceId}` : undefined,
    input.account ? `account ${input.account}` : undefined,
  ].filter(Boolean);
  return `  sync: collect ${formatDuration(input.collectorDurationMs)}, approval timeout ${formatDuration(input.approvalTimeoutMs)}${limits.length > 0 ? `; ${limits.join('; ')}` : ''}${view.taskQueue ? ` (task queue ${view.taskQueue})` : ''}`;
}

/** The outcome line of an ended run (it starts with its phase), else the phase: a run ended from outside reads `terminated`. */
function outcomeOf(run: RecentRun): string {
  if (run.phase === undefined) return '(outcome unknown)';
  return run.outcome?.startsWith(run.phase) ? run.outcome : run.phase;
}

export function formatSchedule(view: ScheduleView): string[] {
  const lines = [`Schedule ${view.scheduleId}: ${view.spec}${view.paused ? ' · PAUSED' : ''}`];
  if (view.note) lines.push(`  note: ${view.note}`);
  if (view.pauseNote) lines.push(`  ${view.paused ? 'paused' : 'pause note'}: ${view.pauseNote}`);
  if (view.input) lines.push(syncLine(view, view.input));
  const next = view.nextRuns.slice(0, 3).map((iso) => when(iso, view.timezone));
  lines.push(`  next: ${view.paused ? '(paused)' : next.join(', ') || '-'}`);
  if (view.running.length > 0) lines.push(`  running: ${view.running.join(', ')}`);
  for (const run of view.recentRuns.slice(-5)) lines.push(`  ran: ${when(run.startedAt, view.timezone)}  ${run.workflowId}  ${outcomeOf(run)}`);
  if (view.skippedOverlap) lines.push(`  skipped ${view.skippedOverlap} times because the previous run was still going`);
  return lines;
}
