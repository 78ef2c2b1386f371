/**
 * `cp-sync watch start|stop`: the always-on reconciliation (workflows/watch.ts). `status`, `plan`, `approve`,
 * `reject` and `list` take a watch's id as they take a sync's (a watch answers the same query and decisions).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { loadSyncDefaults, type Env } from '../../config';
import { formatDuration } from '../../domain/duration';
import { webUiLink } from '../../domain/web-ui-link';
import { CliError, EXIT } from '../../domain/exit-codes';
import { DEFAULT_WATCH_ID, DEFAULT_WATCH_INTERVAL_MS, MIN_WATCH_INTERVAL_MS, WATCH_WORKFLOW_TYPE, type WatchInput, type WatchStatus } from '../../watch-shared';
import { stopWatchUpdate } from '../../workflows/watch-definitions';
import { CP_SYNC_DATABASE } from '../../workflows/visibility';
import { operatorName } from '../../client/sync-client';
import { checkSchemaBeforeStart } from '../maintenance';
import { collectorsOption, durationOption } from '../options';
import { note, printJson, printLines } from '../out';
import type { CommandContext } from '../session';
import { addAutoApproveLimits, checkSyncOptions, percentOption } from '../sync-options';

export interface WatchStartOptions {
  id: string;
  interval: number;
  account?: string;
  collectors?: number;
  autoApproveMaxPoints?: number;
  autoApproveMaxStations?: number;
  maxSilentStations?: number;
  json?: boolean;
}

/** `--interval`: a duration as every other option takes it (5s, 30s, 10min, or milliseconds), at least MIN_WATCH_INTERVAL_MS. */
export function watchIntervalOption(value: string): number {
  const ms = durationOption(value);
  if (ms < MIN_WATCH_INTERVAL_MS) throw new InvalidArgumentError(`expected a duration of at least ${formatDuration(MIN_WATCH_INTERVAL_MS)} (5s, 30s, 10min, or milliseconds)`);
  return ms;
}

/** The watch's input: the options given, the environment's defaults for the others; a broken rule is a usage error. */
export function watchInputFrom(options: WatchStartOptions, env: Env): WatchInput {
  // The account's rule is the sync's (one topic level); the watch has no other rule between its options.
  checkSyncOptions({ account: options.account });
  return {
    intervalMs: options.interval,
    maxConnectors: loadSyncDefaults(env).maxConnectors,
    ...(options.account !== undefined ? { account: options.account } : {}),
    ...(options.collectors !== undefined ? { collectors: options.collectors } : {}),
    ...(options.autoApproveMaxPoints !== undefined ? { autoApproveMaxPoints: options.autoApproveMaxPoints } : {}),
    ...(options.autoApproveMaxStations !== undefined ? { autoApproveMaxStations: options.autoApproveMaxStations } : {}),
    // Only when asked (not MAX_SILENT_STATIONS): the guard counts the fleet's stations for a cycle that would write.
    ...(options.maxSilentStations !== undefined ? { maxSilentStations: options.maxSilentStations } : {}),
  };
}

/** The line under "Started watch …", in people's units. */
export function watchLine(input: WatchInput): string {
  const limits = [
    input.autoApproveMaxPoints !== undefined ? `${input.autoApproveMaxPoints} points` : undefined,
    input.autoApproveMaxStations !== undefined ? `${input.autoApproveMaxStations} stations` : undefined,
  ].filter(Boolean);
  const decision = limits.length > 0 ? `plans up to ${limits.join(' and ')} are applied at once, larger ones wait for approval` : 'every plan waits for approval (no auto-approve limit)';
  const collectors = input.collectors && input.collectors > 1 ? `; ${input.collectors} collectors (shared subscription)` : '';
  const silence = input.maxSilentStations !== undefined ? `; held for a person when more than ${input.maxSilentStations} % of live stations went unheard` : '';
  return `  a cycle every ${formatDuration(input.intervalMs)}${input.account ? ` on account ${input.account}` : ''}; ${decision}${collectors}${silence}`;
}

async function startWatch(ctx: CommandContext, options: WatchStartOptions): Promise<void> {
  const input = watchInputFrom(options, ctx.env);
  await checkSchemaBeforeStart(ctx.env, note);
  const database = ctx.env.OCPP_MYSQL_DATABASE?.trim() || undefined;
  const temporal = ctx.session.temporal;
  const client = await ctx.session.client();
  let handle;
  try {
    handle = await client.workflow.start(WATCH_WORKFLOW_TYPE, {
      taskQueue: temporal.taskQueue,
      workflowId: options.id,
      args: [input],
      // One watch per id: a second start is refused while it runs.
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      staticSummary: [`charging-points-watch ${database ?? ''}`.trim(), `every ${formatDuration(input.intervalMs)}`, input.account ? `account ${input.account}` : undefined].filter(Boolean).join(' · '),
      typedSearchAttributes: database ? [{ key: CP_SYNC_DATABASE, value: database }] : [],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new CliError(`A watch or sync with id ${options.id} is already running (cp-sync status ${options.id}).`, EXIT.alreadyRunning);
    throw err;
  }
  const runId = handle.firstExecutionRunId;
  if (options.json) return printJson({ workflowId: handle.workflowId, runId });
  printLines([`Started watch ${handle.workflowId} (run ${runId}) on task queue ${temporal.taskQueue}`, watchLine(input), `  Web UI: ${webUiLink(temporal, handle.workflowId, runId)}`]);
}

interface WatchStopOptions {
  json?: boolean;
  by?: string;
  reason?: string;
}

async function stopWatch(ctx: CommandContext, workflowId: string, options: WatchStopOptions): Promise<void> {
  const handle = await ctx.session.handle(workflowId);
  let status: WatchStatus;
  try {
    await handle.executeUpdate(stopWatchUpdate, { args: [{ by: options.by ?? operatorName(), reason: options.reason }] });
    status = (await handle.result()) as WatchStatus;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`No running watch with id ${workflowId} in this namespace.`, EXIT.failed);
    if (err instanceof WorkflowUpdateFailedError) throw new CliError(`Watch ${workflowId} did not stop: ${err.cause?.message ?? err.message}`, EXIT.failed);
    throw err;
  }
  if (options.json) return printJson({ workflowId, ...status });
  printLines([`Stopped watch ${workflowId} after ${status.cycles} cycles; ${status.createdTotal} points created in all${status.error ? ` (${status.error})` : ''}`]);
}

/** Registers `watch start` and `watch stop` on the program (cli/main.ts). */
export function addWatchCommands(program: Command, ctx: CommandContext): void {
  const watch = program.command('watch').description('the always-on reconciliation: collect without a window and apply what changed every --interval');
  addAutoApproveLimits(watch.command('start'), 'a cycle’s plan')
    .description('start a watch and print its id')
    .option('--id <workflowId>', 'the watch’s workflow id (one watch per id)', DEFAULT_WATCH_ID)
    .option('--interval <duration>', `how often a cycle plans what changed (5s, 30s, 10min, or milliseconds; default ${formatDuration(DEFAULT_WATCH_INTERVAL_MS)})`, watchIntervalOption, DEFAULT_WATCH_INTERVAL_MS)
    .option('--account <account>', 'listen to this MQTT account only (topic level 1; default: all)')
    .option('--collectors <n>', 'collectors that split the MQTT stream over a shared subscription (default: 1)', collectorsOption)
    .option(
      '--max-silent-stations <percent>',
      'when more live stations than this share were not heard within the last hour, a cycle’s plan waits for a person, within the limits or not (default: no guard)',
      percentOption,
    )
    .option('--json', 'print {"workflowId", "runId"}')
    .action(ctx.exit.of((options: WatchStartOptions) => startWatch(ctx, options)));
  watch
    .command('stop <workflowId>')
    .description('stop a watch: the collectors stop, their MQTT sessions end, a waiting plan is withdrawn')
    .option('--by <name>', 'who stops it (default: user@host)')
    .option('--reason <text>', 'recorded with the stop')
    .option('--json', 'print the watch’s last status as JSON')
    .action(ctx.exit.of((workflowId: string, options: WatchStopOptions) => stopWatch(ctx, workflowId, options)));
}
