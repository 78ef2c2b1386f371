#!/usr/bin/env node
/**
 * `cp-sync`: the operator's command line. Read commands take `--json` and then print exactly one JSON document
 * on stdout. Exit statuses are in exit-codes.ts and the README.
 */
import { createInterface } from 'node:readline/promises';
import { Command, InvalidArgumentError } from 'commander';
import type { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ConfigError, loadDatabaseConfig, loadDotEnv, loadSyncDefaults, loadTemporalConfig, type TemporalConfig } from '../config';
import { parseDuration } from '../domain/duration';
import { connectClient } from '../temporal/connection';
import { webUiLink } from '../domain/web-ui-link';
import { DEFAULT_WORKFLOW_ID, MAX_COLLECTORS, PHASES, type Phase, type SyncInput, type SyncResult } from '../shared';
import { CliError, EXIT, exitCodeForPhase } from './exit-codes';
import { formatPlan, formatProgress, formatReport, formatStatus } from './format';
import { formatRuns, isPhase, listRuns } from './list';
import { collectionProgress } from './progress';
import { checkSchemaBeforeStart, openCheckedDatabase, runMigrate, runPrune, schemaError } from './maintenance';
import { fileOutput, stdoutOutput, writeTo, type Output } from './output';
import { PLAN_FORMATS, writePlan, type PlanFormat } from './plan-export';
import { planRun } from '../db/plan-reader';
import { packageVersion } from './version';
import { approve, awaitResult, loadStatus, operatorName, reject, startSync } from './sync-client';
import { addWatchCommands } from './watch-commands';
import { createSchedule, describeSchedule, formatSchedule, listSchedules, triggerSchedule, viewOfDescription } from './schedules';

interface Session {
  client: Client;
  temporal: TemporalConfig;
}

let session: Session | undefined;

async function connect(): Promise<Session> {
  if (!session) {
    const temporal = loadTemporalConfig(process.env);
    session = { client: await connectClient(temporal), temporal };
  }
  return session;
}

async function handleFor(workflowId: string): Promise<WorkflowHandle> {
  return (await connect()).client.workflow.getHandle(workflowId);
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function printLines(lines: string[], stream: NodeJS.WritableStream = process.stdout): void {
  stream.write(`${lines.join('\n')}\n`);
}

const collectorsOption = (value: string): number => {
  const n = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_COLLECTORS)) throw new InvalidArgumentError(`expected a whole number of collectors from 1 to ${MAX_COLLECTORS}`);
  return n;
};

const durationOption = (value: string): number => {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError('expected a positive duration in milliseconds or with a unit (500ms, 90s, 15m, 24h)');
  return ms;
};

const phaseOption = (value: string): Phase => {
  if (!isPhase(value)) throw new InvalidArgumentError(`expected one of ${PHASES.join(', ')}`);
  return value;
};

const sinceOption = (value: string): Date => {
  const ago = parseDuration(value);
  if (ago !== undefined && ago > 0) return new Date(Date.now() - ago);
  const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : undefined;
  if (date && !Number.isNaN(date.getTime())) return date;
  throw new InvalidArgumentError('expected a duration ago (24h, 7d) or a date (2026-11-28, 2026-11-28T06:00:00Z)');
};

const limitOption = (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('expected a whole number from 1 to 10000');
  return n;
};

const countOption = (value: string): number => {
  const n = /^\d{1,9}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!(n >= 1)) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
};

/** The options of a sync, as `start`, `run` and `schedule create` take them. */
interface SyncOptions {
  duration?: number;
  approvalTimeout?: number;
  testDevice?: string;
  account?: string;
  dryRun?: boolean;
  autoApprove?: boolean;
  autoApproveMaxPoints?: number;
  autoApproveMaxStations?: number;
  collectors?: number;
}

interface StartOptions extends SyncOptions {
  id: string;
  json?: boolean;
  /** start: wait for the end of the run and exit with its status. */
  wait?: boolean;
  detailedExitcode?: boolean;
}

const DETAILED_EXITCODE_HELP = `with --dry-run: exit 0 when there is nothing to create, ${EXIT.changesPending} when points would be created`;

function addStartOptions(command: Command): Command {
  return addSyncOptions(command.option('--id <workflowId>', 'workflow id; one running sync per id', DEFAULT_WORKFLOW_ID));
}

function addSyncOptions(command: Command): Command {
  return command
    .option('--duration <ms>', 'collection window (default: COLLECTOR_DURATION, 60000)', durationOption)
    .option('--test-device <deviceId>', 'test mode: analyse every device, write only this one (default: TEST_DEVICE_ID)')
    .option('--account <account>', 'listen to one MQTT account only (topic level 1; default: all)')
    .option('--approval-timeout <duration>', 'how long the plan waits for approval (default: APPROVAL_TIMEOUT, 24h)', durationOption)
    .option('--dry-run', 'stop after the plan; nothing is written')
    .option('--auto-approve', 'apply any plan without waiting for an operator (no limit)')
    .option('--auto-approve-max-points <n>', 'apply without an operator a plan that creates at most n points; a bigger one waits for approval', countOption)
    .option('--auto-approve-max-stations <m>', 'apply without an operator a plan that changes at most m stations (with --auto-approve-max-points: both must hold)', countOption)
    .option('--collectors <n>', 'collectors that split the MQTT stream over a shared subscription (default: COLLECTORS, 1)', collectorsOption);
}

function syncInput(options: SyncOptions & { detailedExitcode?: boolean }): SyncInput {
  const defaults = loadSyncDefaults(process.env);
  const limited = options.autoApproveMaxPoints !== undefined || options.autoApproveMaxStations !== undefined;
  if (options.dryRun && (options.autoApprove || limited)) throw new CliError('--dry-run and --auto-approve contradict each other; choose one', EXIT.usage);
  if (options.autoApprove && limited) {
    throw new CliError('--auto-approve applies any plan; with a limit use only --auto-approve-max-points/--auto-approve-max-stations', EXIT.usage);
  }
  if (options.account !== undefined && !/^[^/+#]+$/.test(options.account)) throw new CliError('--account: expected one topic level, without /, + or #', EXIT.usage);
  if (options.detailedExitcode && !options.dryRun) throw new CliError('--detailed-exitcode: expected --dry-run too (it tells a dry run with work to do from one without)', EXIT.usage);
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
  };
}

/** How the plan will be decided, for the lines that announce a sync. */
function decisionNote(input: SyncInput): string {
  if (input.dryRun) return '; dry run';
  if (input.autoApprove) return '; auto-approve';
  const limits = [
    input.autoApproveMaxPoints !== undefined ? `${input.autoApproveMaxPoints} points` : undefined,
    input.autoApproveMaxStations !== undefined ? `${input.autoApproveMaxStations} stations` : undefined,
  ].filter(Boolean);
  return limits.length > 0 ? `; auto-approve up to ${limits.join(' and ')}` : '';
}

/** Starts a sync; `say` receives the lines for people (stdout, or stderr when stdout is kept for JSON). */
async function start(options: StartOptions, say: (lines: string[]) => void = printLines): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const input = syncInput(options);
  await checkSchemaBeforeStart(process.env, (line) => process.stderr.write(`${line}\n`));
  const { client, temporal } = await connect();
  const handle = await startSync(client, temporal.taskQueue, options.id, input, process.env.OCPP_MYSQL_DATABASE?.trim() || undefined);
  const runId = handle.firstExecutionRunId;
  if (options.json) printJson({ workflowId: handle.workflowId, runId });
  else {
    say([
      `Started sync ${handle.workflowId} (run ${runId}) on task queue ${temporal.taskQueue}`,
      `  collecting for ${input.collectorDurationMs} ms${input.testDeviceId ? `; ⚠️  TEST MODE: Only processing device: ${input.testDeviceId}` : ''}${decisionNote(input)}${input.collectors ? `; ${input.collectors} collectors (shared subscription)` : ''}`,
      `  Web UI: ${webUiLink(temporal, handle.workflowId, runId)}`,
    ]);
  }
  return handle;
}

function report(result: SyncResult, options: { json?: boolean; detailedExitcode?: boolean }, extra: Record<string, unknown> = {}): void {
  if (options.json) printJson({ ...extra, ...result });
  else printLines(formatReport(result));
  process.exitCode = exitCodeForPhase(result.phase, { detailed: options.detailedExitcode });
}

/** Resolves to undefined when the operator interrupts (Ctrl-C, end of input) instead of answering. */
async function askYesNo(question: string): Promise<boolean | undefined> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } catch {
    return undefined;
  } finally {
    prompt.close();
  }
}

/**
 * Runs `work` until it ends or the operator presses Ctrl-C. The sync is durable and goes on either way, so an
 * interruption says so, and how to follow or stop it (exit 130).
 */
async function untilInterrupted<T>(workflowId: string, work: (interrupted: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let onSigint = (): void => undefined;
  const interrupted = new Promise<never>((_, reject) => {
    onSigint = () => {
      controller.abort();
      reject(
        new CliError(
          `\nInterrupted. Sync ${workflowId} continues without this command: follow it with \`cp-sync status ${workflowId}\` ` +
            `(or \`cp-sync result ${workflowId}\`), stop it before it writes with \`cp-sync reject ${workflowId}\`.`,
          EXIT.interrupted,
        ),
      );
    };
    process.once('SIGINT', onSigint);
  });
  const working = work(controller.signal);
  // Once interrupted, what `work` was doing no longer matters (the connection closes under it).
  working.catch(() => undefined);
  try {
    return await Promise.race([working, interrupted]);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/** Shows the window's progress and waits until the run leaves the collecting and planning phases. */
async function followUntilPlanned(handle: WorkflowHandle, windowMs: number, interrupted: AbortSignal): Promise<void> {
  const live = process.stderr.isTTY;
  const startedAt = Date.now();
  let lastPrinted = 0;
  while (!interrupted.aborted) {
    const status = await loadStatus(handle);
    if (status.phase !== 'collecting' && status.phase !== 'planning') {
      if (live) process.stderr.write('\n');
      return;
    }
    const line = status.phase === 'planning' ? 'Planning: comparing devices with the database…' : formatProgress(await collectionProgress(handle), Date.now() - startedAt, windowMs);
    if (live) process.stderr.write(`\r\x1b[2K${line}`);
    else if (Date.now() - lastPrinted >= 5000) {
      process.stderr.write(`${line}\n`);
      lastPrinted = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function run(options: StartOptions & { yes?: boolean }): Promise<void> {
  // With --json, stdout carries only the final result; everything for people goes to stderr.
  const say = (lines: string[]): void => printLines(lines, options.json ? process.stderr : process.stdout);
  const handle = await start({ ...options, json: false }, say);
  const input = syncInput(options);
  await untilInterrupted(handle.workflowId, (interrupted) => followUntilPlanned(handle, input.collectorDurationMs, interrupted));
  const status = await loadStatus(handle);
  if (status.collectionNote) say([`Note: ${status.collectionNote}`]);
  if (status.plan) say(['', ...formatPlan(status.plan, handle.workflowId), '']);
  if (status.autoApproveExceeded) say([`Not auto-approved: ${status.autoApproveExceeded}`]);
  if (status.phase === 'awaiting-approval') {
    if (options.yes) {
      await approve(handle, { comment: 'cp-sync run --yes' });
      say([`Approved plan ${status.plan?.fingerprint}`]);
    } else if (process.stdin.isTTY) {
      const answer = await askYesNo(`Create ${status.plan?.pointsToCreate} charging points (plan ${status.plan?.fingerprint})? [y/N] `);
      if (answer === undefined) {
        // The run is durable: leaving the prompt does not decide for the operator.
        throw new CliError(
          `\nInterrupted. Sync ${handle.workflowId} still awaits approval until ${status.approvalDeadline}: ` +
            `cp-sync approve ${handle.workflowId} --fingerprint ${status.plan?.fingerprint}, or cp-sync reject ${handle.workflowId}`,
          EXIT.interrupted,
        );
      }
      if (answer) {
        await approve(handle, {});
        say([`Approved plan ${status.plan?.fingerprint}`]);
      } else {
        await reject(handle, 'declined at the cp-sync run prompt');
      }
    } else {
      say([`Waiting for approval: cp-sync approve ${handle.workflowId} --fingerprint ${status.plan?.fingerprint}`]);
    }
  }
  const result = await untilInterrupted(handle.workflowId, () => awaitResult(handle));
  report(result, options);
  const { temporal } = await connect();
  if (!options.json) printLines([``, `Web UI: ${webUiLink(temporal, handle.workflowId, handle.firstExecutionRunId)}`]);
}

interface ScheduleCreateOptions extends SyncOptions {
  every?: number;
  cron?: string;
  timezone?: string;
  note?: string;
  paused?: boolean;
  json?: boolean;
}

/** `cp-sync schedule …`: syncs started by a Temporal Schedule (see schedules.ts). */
function addScheduleCommands(program: Command): void {
  const schedule = program.command('schedule').description('run syncs on a Temporal Schedule (e.g. nightly), with an optional auto-approve limit');

  addSyncOptions(
    schedule
      .command('create <scheduleId>')
      .description('create a schedule; each run is a sync with workflow id <scheduleId>-<scheduled time>; a run still going makes the next one skip')
      .option('--every <duration>', 'start a sync this often (e.g. 24h, 30m)', durationOption)
      .option('--cron <expr>', 'start a sync at these times, e.g. "0 2 * * *" (02:00 every day)')
      .option('--timezone <tz>', 'IANA time zone of --cron, e.g. Europe/Berlin (default: UTC)')
      .option('--note <text>', 'why the schedule exists, shown by describe and in the Web UI')
      .option('--paused', 'create it paused (start it with: cp-sync schedule unpause)')
      .option('--json', 'print {"scheduleId"}'),
  ).action(async (scheduleId: string, options: ScheduleCreateOptions) => {
    const input = syncInput(options);
    await checkSchemaBeforeStart(process.env, (line) => process.stderr.write(`${line}\n`));
    const { client, temporal } = await connect();
    await createSchedule(client, {
      scheduleId,
      taskQueue: temporal.taskQueue,
      input,
      spec: { everyMs: options.every, cron: options.cron, timezone: options.timezone },
      note: options.note ?? `created by ${operatorName()} with cp-sync`,
      paused: options.paused,
    });
    if (options.json) printJson({ scheduleId });
    else {
      const { description } = await describeSchedule(client, scheduleId);
      printLines([
        `Created schedule ${scheduleId} on task queue ${temporal.taskQueue}${decisionNote(input)}`,
        ...formatSchedule(viewOfDescription(description)).slice(1),
        `  Web UI: ${temporal.uiUrl}/namespaces/${encodeURIComponent(temporal.namespace)}/schedules/${encodeURIComponent(scheduleId)}`,
      ]);
    }
  });

  schedule
    .command('list')
    .description('the schedules of this namespace that start syncs')
    .option('--json', 'print them as a JSON array')
    .action(async (options: { json?: boolean }) => {
      const views = await listSchedules((await connect()).client);
      if (options.json) printJson(views);
      else if (views.length === 0) printLines(['No sync schedules (create one with: cp-sync schedule create <id> --cron "0 2 * * *")']);
      else printLines(views.flatMap((view) => formatSchedule(view)));
    });

  schedule
    .command('describe <scheduleId>')
    .description('spec, sync options, next times, running and recent runs')
    .option('--json', 'print it as JSON')
    .action(async (scheduleId: string, options: { json?: boolean }) => {
      const { description } = await describeSchedule((await connect()).client, scheduleId);
      const view = viewOfDescription(description);
      if (options.json) printJson(view);
      else printLines(formatSchedule(view));
    });

  for (const [name, pause] of [
    ['pause', true],
    ['unpause', false],
  ] as const) {
    schedule
      .command(`${name} <scheduleId>`)
      .description(pause ? 'stop starting syncs (a running one goes on)' : 'start syncs again at the next scheduled time')
      .option('--note <text>', 'why (shown by describe)')
      .action(async (scheduleId: string, options: { note?: string }) => {
        const { handle } = await describeSchedule((await connect()).client, scheduleId);
        const note = options.note ?? `${pause ? 'paused' : 'unpaused'} by ${operatorName()} with cp-sync`;
        await (pause ? handle.pause(note) : handle.unpause(note));
        printLines([`${pause ? 'Paused' : 'Unpaused'} schedule ${scheduleId}`]);
      });
  }

  schedule
    .command('trigger <scheduleId>')
    .description("start one of the schedule's syncs now (refused while one of its syncs is still going)")
    .option('--json', 'print {"workflowId", "runId"}')
    .action(async (scheduleId: string, options: { json?: boolean }) => {
      const { client, temporal } = await connect();
      const started = await triggerSchedule(client, scheduleId);
      if (options.json) printJson(started);
      else printLines([`Started sync ${started.workflowId} (run ${started.runId})`, `  Web UI: ${webUiLink(temporal, started.workflowId, started.runId)}`]);
    });

  schedule
    .command('delete <scheduleId>')
    .description('delete the schedule (its syncs, running or ended, are kept)')
    .action(async (scheduleId: string) => {
      const { handle } = await describeSchedule((await connect()).client, scheduleId);
      await handle.delete();
      printLines([`Deleted schedule ${scheduleId}`]);
    });
}

const planFormatOption = (value: string): PlanFormat => {
  if (!(PLAN_FORMATS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${PLAN_FORMATS.join(', ')}`);
  return value as PlanFormat;
};

interface PlanOptions {
  format: PlanFormat;
  json?: boolean;
  output?: string;
}

/**
 * `cp-sync plan`: the table is the workflow's summary (no database needed); json, csv and sql stream the whole plan
 * from the tool's tables, found by the run id (the plan's run key).
 */
async function showPlan(workflowId: string, options: PlanOptions): Promise<void> {
  if (options.json && options.format !== 'table' && options.format !== 'json') throw new CliError(`--json is --format json; it contradicts --format ${options.format}`, EXIT.usage);
  const format: PlanFormat = options.json ? 'json' : options.format;
  const handle = await handleFor(workflowId);
  const status = await loadStatus(handle);
  if (!status.plan) throw new CliError(`No plan yet: sync ${workflowId} is ${status.phase}.`, EXIT.failed);
  const plan = status.plan;
  // Opened only to write: an export that fails before its first row leaves no temporary file behind.
  const output = (): Output => (options.output ? fileOutput(options.output) : stdoutOutput());
  if (format === 'table') {
    await writeTo(output(), (out) => out.write(`${[`Sync ${workflowId}: ${status.phase}`, ...formatPlan(plan, workflowId)].join('\n')}\n`));
    return;
  }
  const runId = (await handle.describe()).runId;
  let config;
  try {
    config = loadDatabaseConfig(process.env);
  } catch (err) {
    throw err instanceof ConfigError ? new ConfigError(`--format ${format} reads the plan from the tool's tables: ${err.message}`) : err;
  }
  const db = await openCheckedDatabase(config);
  try {
    const run = await planRun(db, runId);
    if (!run) {
      throw new CliError(
        `The rows of sync ${workflowId}'s plan (run ${runId}) are not in ${config.toolDatabase} (pruned, or another CP_SYNC_DATABASE?); \`cp-sync plan ${workflowId}\` shows its summary.`,
        EXIT.failed,
      );
    }
    await writeTo(output(), (out) => writePlan(db, format, { workflowId, runId, phase: status.phase, summary: plan }, out, { appliedAt: run.applied }));
  } finally {
    await db.close();
  }
}

function buildProgram(): Command {
  const program = new Command('cp-sync')
    .description('Find the charging points that stations report over MQTT but ocpp-db lacks, and create them after approval.')
    .version(packageVersion(), '-V, --version', "print cp-sync's version")
    .showHelpAfterError()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .exitOverride();

  program
    .command('worker')
    .description('run a worker: the workflow and its activities, on TEMPORAL_TASK_QUEUE (needs the MQTT and MySQL settings)')
    .option('--check', 'do not run one: exit 0 when a worker of this host polls TEMPORAL_TASK_QUEUE (a container healthcheck), 1 otherwise')
    .action(async (options: { check?: boolean }) => {
      if (options.check) {
        const { checkWorker } = await import('../worker-health');
        printLines([await checkWorker(loadTemporalConfig(process.env))]);
        return;
      }
      const { runWorker } = await import('../worker');
      await runWorker(process.env);
    });

  addStartOptions(program.command('start').description('start a sync and print its id'))
    .option('--json', 'print {"workflowId", "runId"} (with --wait: and the result)')
    .option('--wait', 'wait for the end of the run, print its report and exit with its status')
    .option('--detailed-exitcode', `${DETAILED_EXITCODE_HELP} (needs --wait)`)
    .action(async (options: StartOptions) => {
      if (options.detailedExitcode && !options.wait) throw new CliError('--detailed-exitcode: expected --wait too (start returns at once otherwise)', EXIT.usage);
      if (!options.wait) {
        await start(options);
        return;
      }
      const say = (lines: string[]): void => printLines(lines, options.json ? process.stderr : process.stdout);
      const handle = await start({ ...options, json: false }, say);
      report(await awaitResult(handle), options, { workflowId: handle.workflowId, runId: handle.firstExecutionRunId });
    });

  addStartOptions(program.command('run').description('start a sync, show its progress and plan, ask y/N on a terminal, apply, and print the report'))
    .option('-y, --yes', 'approve the plan without asking')
    .option('--json', 'print the final result as JSON')
    .option('--detailed-exitcode', DETAILED_EXITCODE_HELP)
    .action(run);

  program
    .command('status <workflowId>')
    .description('show the phase, the live collection counters and the plan summary')
    .option('--json', 'print the status as JSON')
    .action(async (workflowId: string, options: { json?: boolean }) => {
      const handle = await handleFor(workflowId);
      const status = await loadStatus(handle);
      const progress = status.phase === 'collecting' ? await collectionProgress(handle) : undefined;
      if (options.json) printJson({ workflowId, ...status, progress });
      else printLines(formatStatus(workflowId, status, progress));
    });

  program
    .command('plan <workflowId>')
    .description('show the plan: what would be created, surplus points, devices without a station, rejected messages')
    .option('--format <format>', `${PLAN_FORMATS.join(', ')}: json, csv and sql list the whole plan from the tool's tables (need the database settings)`, planFormatOption, 'table')
    .option('--json', 'shorthand for --format json')
    .option('-o, --output <file>', 'write to this file (complete or not at all: written aside, then renamed) instead of stdout')
    .action(showPlan);

  program
    .command('approve <workflowId>')
    .description('approve the plan that status shows now (or, with --fingerprint, only that plan)')
    .option('--fingerprint <fingerprint>', "approve only if this is the current plan's fingerprint")
    .option('--by <name>', 'who approves, recorded and shown in status, result, list and the Web UI (default: user@host)')
    .option('--comment <text>', 'recorded with the approval')
    .option('--json', 'print the status after the approval as JSON')
    .action(async (workflowId: string, options: { fingerprint?: string; by?: string; comment?: string; json?: boolean }) => {
      const status = await approve(await handleFor(workflowId), options);
      if (options.json) printJson({ workflowId, ...status });
      else printLines([`Approved plan ${status.approval?.fingerprint} of sync ${workflowId} as ${status.approval?.by}`]);
    });

  program
    .command('reject <workflowId>')
    .description('reject the plan (or the run, before its plan); nothing is written')
    .option('--reason <text>', 'recorded with the rejection')
    .option('--by <name>', 'who rejects, recorded and shown like --by of approve (default: user@host)')
    .option('--json', 'print {"workflowId", "rejected": true}')
    .action(async (workflowId: string, options: { reason?: string; by?: string; json?: boolean }) => {
      const status = await reject(await handleFor(workflowId), options.reason, { by: options.by });
      if (options.json) printJson({ workflowId, rejected: true, rejection: status.rejection });
      else printLines([`Rejected sync ${workflowId} as ${status.rejection?.by ?? options.by}`]);
    });

  program
    .command('result <workflowId>')
    .description('wait for the end of the run and print its report')
    .option('--json', 'print the result as JSON')
    .action(async (workflowId: string, options: { json?: boolean }) => {
      report(await awaitResult(await handleFor(workflowId)), options);
    });

  addScheduleCommands(program);
  addWatchCommands(program);

  program
    .command('list')
    .description('list the syncs of the namespace, newest first, from Temporal visibility (ended runs too; no worker needed)')
    .option('--phase <phase>', `only runs in this phase: ${PHASES.join(', ')}`, phaseOption)
    .option('--since <when>', 'only runs started since a duration ago (24h, 7d) or a date (2026-11-28, ISO 8601)', sinceOption)
    .option('--limit <n>', 'at most this many runs', limitOption, 20)
    .option('--json', 'print the runs as a JSON array')
    .action(async (options: { phase?: Phase; since?: Date; limit: number; json?: boolean }) => {
      const runs = await listRuns((await connect()).client, options);
      if (options.json) printJson(runs);
      else printLines(formatRuns(runs));
    });

  program
    .command('migrate')
    .description("create or upgrade the tool's own tables in CP_SYNC_DATABASE (the only command that runs DDL; needs CREATE rights there)")
    .option('--dry-run', 'print the SQL that would run; change nothing')
    .option('--json', 'print what was done as JSON')
    .action(async (options: { dryRun?: boolean; json?: boolean }) => {
      const report = await runMigrate(process.env, options, (line) => process.stdout.write(`${line}\n`));
      if (options.json) printJson(report);
      else if (options.dryRun) printLines(['', '-- The SQL, in order:', ...report.sql.map((sql) => `${sql};`)]);
    });

  program
    .command('prune')
    .description("delete the rows of finished runs from the tool's tables (never a running run's)")
    .requiredOption('--older-than <duration>', 'prune runs started longer ago than this (e.g. 30d, 12h)', durationOption)
    .option('--dry-run', 'list what would be deleted; delete nothing')
    .option('--json', 'print what was done as JSON')
    .action(async (options: { olderThan: number; dryRun?: boolean; json?: boolean }) => {
      const { client } = await connect();
      const report = await runPrune(process.env, client, { olderThanMs: options.olderThan, dryRun: options.dryRun }, (line) => {
        if (!options.json) process.stdout.write(`${line}\n`);
      });
      if (options.json) printJson(report);
    });

  program.addHelpText(
    'after',
    `
Exit status: 0 success (applied, nothing-to-do, dry-run, or the command did its job); 1 failure;
2 bad usage or configuration; 3 rejected; 4 expired; 5 approval or rejection refused; 6 a sync with that id is already running
(schedule: the schedule exists already, or trigger while its sync is still going);
7 the tool's tables are missing or at another version (run: cp-sync migrate);
8 with --detailed-exitcode, a dry run whose plan would create points; 130 cp-sync run interrupted (the sync goes on: cp-sync status, cp-sync reject).`,
  );
  return program;
}

export async function main(argv: string[]): Promise<number> {
  loadDotEnv();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (caught) {
    const err = schemaError(caught);
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      // --help and --version end here with exit code 0; usage errors were already printed by commander.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`Error: ${e.message ?? String(err)}\n`);
    return EXIT.failed;
  } finally {
    await session?.client.connection.close().catch(() => undefined);
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
    // A worker that failed at start may leave the SDK's runtime (its logger and metrics exporter) holding the
    // event loop open: a failed command ends once its output is written, whatever is left running.
    if (code !== EXIT.ok) process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
}


