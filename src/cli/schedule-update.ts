/**
 * `schedule update`'s rules: what it may change, the schedule's spec and runs' input once the changes are applied,
 * and the usage errors of a change that would leave a schedule `schedule create` refuses.
 */
import type { SyncInput } from '../shared';
import { CliError, EXIT } from '../domain/exit-codes';
import type { ScheduleSpecOption } from '../client/schedule-spec';
import { checkSyncOptions } from './sync-options';

export interface ScheduleUpdateOptions {
  every?: number;
  cron?: string;
  timezone?: string;
  duration?: number;
  approvalTimeout?: number;
  account?: string;
  autoApproveMaxPoints?: number;
  autoApproveMaxStations?: number;
  maxSilentStations?: number;
  note?: string;
  force?: boolean;
  json?: boolean;
}

const CHANGES = ['every', 'cron', 'timezone', 'duration', 'approvalTimeout', 'account', 'autoApproveMaxPoints', 'autoApproveMaxStations', 'maxSilentStations', 'note'] as const;

/** The rules that need no schedule: something to change, and at most one of --every and --cron. */
export function checkUpdateOptions(options: ScheduleUpdateOptions): void {
  if (!CHANGES.some((name) => options[name] !== undefined)) {
    throw new CliError(
      'schedule update: nothing to change; give --every or --cron, --timezone, --duration, --approval-timeout, --account, --auto-approve-max-points, --auto-approve-max-stations, --max-silent-stations or --note',
      EXIT.usage,
    );
  }
  if (options.every !== undefined && options.cron !== undefined) throw new CliError('schedule update: expected at most one of --every <duration> and --cron "<expr>"', EXIT.usage);
}

/**
 * The new spec, or undefined to keep the schedule's. A new --cron keeps the schedule's time zone unless --timezone
 * says otherwise; --timezone alone moves the schedule's cron to that zone.
 */
export function updatedSpec(options: ScheduleUpdateOptions, settings: ScheduleSpecOption | undefined): ScheduleSpecOption | undefined {
  if (options.every !== undefined) return { everyMs: options.every, timezone: options.timezone };
  if (options.cron !== undefined) return { cron: options.cron, timezone: options.timezone ?? settings?.timezone };
  if (options.timezone === undefined) return undefined;
  if (settings?.cron === undefined) throw new CliError('--timezone: this schedule has no cron expression cp-sync knows; give --cron "<expr>" with it', EXIT.usage);
  return { cron: settings.cron, timezone: options.timezone };
}

/** The runs' input with the changes applied, checked by the rules of `schedule create`. */
export function updatedInput(current: SyncInput, options: ScheduleUpdateOptions): SyncInput {
  const input: SyncInput = {
    ...current,
    ...(options.duration !== undefined ? { collectorDurationMs: options.duration } : {}),
    ...(options.approvalTimeout !== undefined ? { approvalTimeoutMs: options.approvalTimeout } : {}),
    ...(options.account !== undefined ? { account: options.account } : {}),
    ...(options.autoApproveMaxPoints !== undefined ? { autoApproveMaxPoints: options.autoApproveMaxPoints } : {}),
    ...(options.autoApproveMaxStations !== undefined ? { autoApproveMaxStations: options.autoApproveMaxStations } : {}),
    ...(options.maxSilentStations !== undefined ? { maxSilentStations: options.maxSilentStations } : {}),
  };
  checkSyncOptions({
    dryRun: input.dryRun,
    autoApprove: input.autoApprove,
    autoApproveMaxPoints: input.autoApproveMaxPoints,
    autoApproveMaxStations: input.autoApproveMaxStations,
    account: input.account,
  });
  return input;
}
