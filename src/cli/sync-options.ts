/**
 * The options of a sync, shared by `start`, `run` and `schedule create`: declared once (addSyncOptions) and turned
 * into the workflow's input once (syncInputFrom), with the rules that tie them together.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { loadSyncDefaults, type Env } from '../config';
import { formatDuration } from '../domain/duration';
import { DEFAULT_WORKFLOW_ID, type SyncInput } from '../shared';
import { CliError, EXIT } from '../domain/exit-codes';
import { collectorsOption, countOption, durationOption } from './options';

/** The options of a sync, as `start`, `run` and `schedule create` take them. */
export interface SyncOptions {
  duration?: number;
  approvalTimeout?: number;
  testDevice?: string;
  account?: string;
  dryRun?: boolean;
  autoApprove?: boolean;
  autoApproveMaxPoints?: number;
  autoApproveMaxStations?: number;
  collectors?: number;
  maxSilentStations?: number;
}

/** `start` and `run`: a sync under a workflow id. */
export interface StartOptions extends SyncOptions {
  id: string;
  json?: boolean;
  /** start: wait for the end of the run and exit with its status. */
  wait?: boolean;
  detailedExitcode?: boolean;
}

export const DETAILED_EXITCODE_HELP = `with --dry-run: exit 0 when there is nothing to create, ${EXIT.changesPending} when points would be created`;

/** A percentage of live stations, 0..100. */
export function percentOption(value: string): number {
  const n = /^\d{1,3}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!(n >= 0 && n <= 100)) throw new InvalidArgumentError('expected a whole percentage from 0 to 100');
  return n;
}

export function addStartOptions(command: Command): Command {
  return addSyncOptions(command.option('--id <workflowId>', 'workflow id; one running sync per id', DEFAULT_WORKFLOW_ID));
}

export function addSyncOptions(command: Command): Command {
  return addAutoApproveLimits(command, 'a plan')
    .option('--duration <ms>', 'collection window (default: COLLECTOR_DURATION, 60000)', durationOption)
    .option('--test-device <deviceId>', 'test mode: analyse every device, write only this one (default: TEST_DEVICE_ID)')
    .option('--account <account>', 'listen to one MQTT account only (topic level 1; default: all)')
    .option('--approval-timeout <duration>', 'how long the plan waits for approval (default: APPROVAL_TIMEOUT, 24h)', durationOption)
    .option('--dry-run', 'stop after the plan; nothing is written')
    .option('--auto-approve', 'apply any plan without waiting for an operator (no limit)')
    .option('--collectors <n>', 'collectors that split the MQTT stream over a shared subscription (default: COLLECTORS, 1)', collectorsOption)
    .option(
      '--max-silent-stations <percent>',
      'when more live stations than this share sent nothing, the plan waits for a person, auto-approve or not (default: MAX_SILENT_STATIONS, 50)',
      percentOption,
    );
}

/** The auto-approve limits, as a sync and a watch take them: `plan` names what they apply. */
export function addAutoApproveLimits(command: Command, plan: string): Command {
  return command
    .option('--auto-approve-max-points <n>', `apply ${plan} without an operator when it creates at most n points; a bigger one waits for approval`, countOption)
    .option('--auto-approve-max-stations <m>', `apply ${plan} without an operator when it changes at most m stations (with --auto-approve-max-points: both must hold)`, countOption);
}

/** The rules between the options of a sync; throws the usage error of the first one broken. */
export function checkSyncOptions(options: SyncOptions & { detailedExitcode?: boolean }): void {
  const limited = options.autoApproveMaxPoints !== undefined || options.autoApproveMaxStations !== undefined;
  if (options.dryRun && (options.autoApprove || limited)) throw new CliError('--dry-run and --auto-approve contradict each other; choose one', EXIT.usage);
  if (options.autoApprove && limited) {
    throw new CliError('--auto-approve applies any plan; with a limit use only --auto-approve-max-points/--auto-approve-max-stations', EXIT.usage);
  }
  if (options.account !== undefined && !/^[^/+#]+$/.test(options.account)) throw new CliError('--account: expected one topic level, without /, + or #', EXIT.usage);
  if (options.detailedExitcode && !options.dryRun) throw new CliError('--detailed-exitcode: expected --dry-run too (it tells a dry run with work to do from one without)', EXIT.usage);
}

/** `start`'s own rule: --detailed-exitcode reports the end of the run, which only --wait sees. */
export function checkStartOptions(options: StartOptions): void {
  if (options.detailedExitcode && !options.wait) throw new CliError('--detailed-exitcode: expected --wait too (start returns at once otherwise)', EXIT.usage);
}

/** The workflow's input: the options given, the environment's defaults for the others. */
export function syncInputFrom(options: SyncOptions & { detailedExitcode?: boolean }, env: Env): SyncInput {
  checkSyncOptions(options);
  const defaults = loadSyncDefaults(env);
  const collectors = options.collectors ?? defaults.collectors;
  return {
    collectorDurationMs: options.duration ?? defaults.collectorDurationMs,
    approvalTimeoutMs: options.approvalTimeout ?? defaults.approvalTimeoutMs,
    maxConnectors: defaults.maxConnectors,
    testDeviceId: options.testDevice ?? defaults.testDeviceId,
    account: options.account,
    dryRun: options.dryRun ?? false,
    autoApprove: options.autoApprove ?? false,
    ...(options.autoApproveMaxPoints !== undefined ? { autoApproveMaxPoints: options.autoApproveMaxPoints } : {}),
    ...(options.autoApproveMaxStations !== undefined ? { autoApproveMaxStations: options.autoApproveMaxStations } : {}),
    // Absent for one collector: the input of a plain sync stays what it always was.
    ...(collectors > 1 ? { collectors } : {}),
    maxSilentStations: options.maxSilentStations ?? defaults.maxSilentStations,
  };
}

/** How the plan will be decided, for the lines that announce a sync. */
export function decisionNote(input: SyncInput): string {
  if (input.dryRun) return '; dry run';
  if (input.autoApprove) return '; auto-approve';
  const limits = [
    input.autoApproveMaxPoints !== undefined ? `${input.autoApproveMaxPoints} points` : undefined,
    input.autoApproveMaxStations !== undefined ? `${input.autoApproveMaxStations} stations` : undefined,
  ].filter(Boolean);
  return limits.length > 0 ? `; auto-approve up to ${limits.join(' and ')}` : '';
}

/** The line under "Started sync …": the window, test mode, how the plan is decided, the collectors. */
export function syncLine(input: SyncInput): string {
  const testMode = input.testDeviceId ? `; ⚠️  TEST MODE: Only processing device: ${input.testDeviceId}` : '';
  const collectors = input.collectors ? `; ${input.collectors} collectors (shared subscription)` : '';
  return `  collecting for ${formatDuration(input.collectorDurationMs)}${testMode}${decisionNote(input)}${collectors}`;
}
