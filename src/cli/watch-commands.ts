/**
 * `cp-sync watch start|stop`: the always-on reconciliation (workflows/watch.ts). `status`, `plan`, `approve`,
 * `reject` and `list` take a watch's id as they take a sync's (a watch answers the same query and decisions).
 */
import { Command, InvalidArgumentError } from 'commander';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { loadSyncDefaults, loadTemporalConfig, type TemporalConfig } from '../config';
import { parseDuration } from '../domain/duration';
import { webUiLink } from '../domain/web-ui-link';
import { connectClient } from '../temporal/connection';
import { MAX_COLLECTORS } from '../shared';
import { DEFAULT_WATCH_ID, DEFAULT_WATCH_INTERVAL_MS, MIN_WATCH_INTERVAL_MS, WATCH_WORKFLOW_TYPE, type WatchInput, type WatchStatus } from '../watch-shared';
import { stopWatchUpdate } from '../workflows/watch-definitions';
import { CP_SYNC_DATABASE } from '../workflows/visibility';
import { checkSchemaBeforeStart } from './maintenance';
import { CliError, EXIT } from '../domain/exit-codes';
import { operatorName } from '../client/sync-client';

interface WatchStartOptions {
  id: string;
  interval: number;
  account?: string;
  collectors?: number;
  autoApproveMaxPoints?: number;
  autoApproveMaxStations?: number;
  json?: boolean;
}

/** `5s`, `30s`, `10min`, `2m`, or milliseconds; at least MIN_WATCH_INTERVAL_MS. */
export function intervalOption(value: string): number {
  const ms = parseDuration(value.trim().replace(/min$/, 'm'));
  if (ms === undefined || ms < MIN_WATCH_INTERVAL_MS) throw new InvalidArgumentError(`expected a duration of at least ${MIN_WATCH_INTERVAL_MS / 1000} s (5s, 30s, 10min, or milliseconds)`);
  return ms;
}

function wholeNumber(min: number, max: number, what: string): (value: string) => number {
  return (value) => {
    const n = /^\d{1,15}$/.test(value.trim()) ? Number(value.trim()) : NaN;
    if (!(n >= min && n <= max)) throw new InvalidArgumentError(`expected ${what} from ${min} to ${max}`);
    return n;
  };
}

function accountOption(value: string): string {
  if (!/^[^/+#]+$/.test(value)) throw new InvalidArgumentError('expected one MQTT topic level, without /, + or #');
  return value;
}

/** A Temporal client for one command, closed after it. */
async function withClient<T>(work: (client: Client, temporal: TemporalConfig) => Promise<T>): Promise<T> {
  const temporal = loadTemporalConfig(process.env);
  const client = await connectClient(temporal);
  try {
    return await work(client, temporal);
  } finally {
    await client.connection.close().catch(() => undefined);
  }
}

function print(lines: string[] | object, json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(lines, null, 2)}\n` : `${(lines as string[]).join('\n')}\n`);
}

async function startWatch(options: WatchStartOptions): Promise<void> {
  const input: WatchInput = {
    intervalMs: options.interval,
    maxConnectors: loadSyncDefaults(process.env).maxConnectors,
    account: options.account,
    collectors: options.collectors,
    autoApproveMaxPoints: options.autoApproveMaxPoints,
    autoApproveMaxStations: options.autoApproveMaxStations,
  };
  await checkSchemaBeforeStart(process.env, (line) => process.stderr.write(`${line}\n`));
  const database = process.env.OCPP_MYSQL_DATABASE?.trim() || undefined;
  await withClient(async (client, temporal) => {
    let handle;
    try {
      handle = await client.workflow.start(WATCH_WORKFLOW_TYPE, {
        taskQueue: temporal.taskQueue,
        workflowId: options.id,
        args: [input],
        // One watch per id: a second start is refused while it runs.
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        staticSummary: `charging-points-watch ${database ?? ''} · every ${input.intervalMs} ms${input.account ? ` · account ${input.account}` : ''}`.replace(/\s+·/, ' ·'),
        typedSearchAttributes: database ? [{ key: CP_SYNC_DATABASE, value: database }] : [],
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new CliError(`A watch or sync with id ${options.id} is already running (cp-sync status ${options.id}).`, EXIT.alreadyRunning);
      throw err;
    }
    const runId = handle.firstExecutionRunId;
    if (options.json) return print({ workflowId: handle.workflowId, runId }, true);
    const limits = [options.autoApproveMaxPoints !== undefined ? `${options.autoApproveMaxPoints} points` : '', options.autoApproveMaxStations !== undefined ? `${options.autoApproveMaxStations} stations` : '']
      .filter(Boolean)
      .join(' and ');
    print(
      [
        `Started watch ${handle.workflowId} (run ${runId}) on task queue ${temporal.taskQueue}`,
        `  a cycle every ${input.intervalMs} ms; ${limits ? `plans up to ${limits} are applied at once, larger ones wait for approval` : 'every plan waits for approval (no auto-approve limit)'}`,
        `  Web UI: ${webUiLink(temporal, handle.workflowId, runId)}`,
      ],
      false,
    );
  });
}

async function stopWatch(workflowId: string, options: { json?: boolean; by?: string; reason?: string }): Promise<void> {
  await withClient(async (client) => {
    const handle = client.workflow.getHandle(workflowId);
    let status: WatchStatus;
    try {
      await handle.executeUpdate(stopWatchUpdate, { args: [{ by: options.by ?? operatorName(), reason: options.reason }] });
      status = (await handle.result()) as WatchStatus;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new CliError(`No running watch with id ${workflowId} in this namespace.`, EXIT.failed);
      if (err instanceof WorkflowUpdateFailedError) throw new CliError(`Watch ${workflowId} did not stop: ${err.cause?.message ?? err.message}`, EXIT.failed);
      throw err;
    }
    if (options.json) return print({ workflowId, ...status }, true);
    print([`Stopped watch ${workflowId} after ${status.cycles} cycles; ${status.createdTotal} points created in all${status.error ? ` (${status.error})` : ''}`], false);
  });
}

/** Registers `watch start` and `watch stop` on the program (cli/main.ts). */
export function addWatchCommands(program: Command): void {
  const watch = program.command('watch').description('the always-on reconciliation: collect without a window and apply what changed every --interval');
  watch
    .command('start')
    .description('start a watch and print its id')
    .option('--id <workflowId>', 'the watch’s workflow id (one watch per id)', DEFAULT_WATCH_ID)
    .option('--interval <duration>', 'how often a cycle plans what changed (5s, 30s, 10min, or milliseconds)', intervalOption, DEFAULT_WATCH_INTERVAL_MS)
    .option('--account <account>', 'listen to this MQTT account only (topic level 1)', accountOption)
    .option('--collectors <n>', `collectors on a shared subscription (1 to ${MAX_COLLECTORS})`, wholeNumber(1, MAX_COLLECTORS, 'a whole number of collectors'))
    .option('--auto-approve-max-points <n>', 'apply a cycle’s plan at once when it creates at most this many points', wholeNumber(1, Number.MAX_SAFE_INTEGER, 'a whole number'))
    .option('--auto-approve-max-stations <n>', 'apply a cycle’s plan at once when it changes at most this many stations', wholeNumber(1, Number.MAX_SAFE_INTEGER, 'a whole number'))
    .option('--json', 'print {"workflowId", "runId"}')
    .action(startWatch);
  watch
    .command('stop <workflowId>')
    .description('stop a watch: the collectors stop, their MQTT sessions end, a waiting plan is withdrawn')
    .option('--by <name>', 'who stops it (default: user@host)')
    .option('--reason <text>', 'recorded with the stop')
    .option('--json', 'print the watch’s last status as JSON')
    .action(stopWatch);
}
