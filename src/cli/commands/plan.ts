/**
 * `cp-sync plan`: the table is the workflow's summary (no database needed); json, csv and sql stream the whole plan
 * from the tool's tables, found by the run id (the plan's run key). For a watch: the waiting plan, or else the last
 * cycle's plan, found by the cycle's run key.
 */
import type { Command } from 'commander';
import { ConfigError, loadDatabaseConfig } from '../../config';
import { planRun } from '../../store/plan-reader';
import { CliError, EXIT } from '../../domain/exit-codes';
import { formatPlan } from '../format';
import { openCheckedDatabase } from '../maintenance';
import { planFormatOption } from '../options';
import { fileOutput, stdoutOutput, writeTo, type Output } from '../output';
import { PLAN_FORMATS, writePlan, type PlanFormat } from '../plan-export';
import type { CommandContext } from '../session';
import { loadStatus } from '../../client/sync-client';
import type { PlanSummary, SyncStatus } from '../../shared';
import type { WatchStatus } from '../../watch-shared';
import { isWatchStatus } from '../watch-format';

export interface PlanOptions {
  format: PlanFormat;
  json?: boolean;
  output?: string;
}

/** The format asked for: `--json` is `--format json`, and contradicts any other format but the default table. */
export function planFormatOf(options: PlanOptions): PlanFormat {
  if (options.json && options.format !== 'table' && options.format !== 'json') throw new CliError(`--json is --format json; it contradicts --format ${options.format}`, EXIT.usage);
  return options.json ? 'json' : options.format;
}

/** The plan `plan <id>` shows: a sync's, or a watch's waiting plan (else its last cycle's), and where its rows are. */
interface PlanShown {
  summary: PlanSummary;
  heading: string;
  /** The rows' run key: a sync's run id, a watch cycle's key (domain/watch-keys.ts cycleRunKey). */
  runKey?: string;
  cycle?: number;
}

export function planShown(workflowId: string, status: SyncStatus | WatchStatus): PlanShown {
  if (!isWatchStatus(status)) {
    if (!status.plan) throw new CliError(`No plan yet: sync ${workflowId} is ${status.phase}.`, EXIT.failed);
    return { summary: status.plan, heading: `Sync ${workflowId}: ${status.phase}` };
  }
  const { pending, lastPlan } = status;
  if (pending) return { summary: pending.plan, runKey: pending.runKey, cycle: pending.cycle, heading: `Watch ${workflowId}: ${status.phase}; the plan of cycle ${pending.cycle} waits for approval` };
  if (lastPlan) return { summary: lastPlan.plan, runKey: lastPlan.runKey, cycle: lastPlan.cycle, heading: `Watch ${workflowId}: ${status.phase}; nothing waits, the last plan is cycle ${lastPlan.cycle}'s` };
  throw new CliError(`No plan yet: watch ${workflowId} is ${status.phase} and no cycle has planned anything (${status.cycles} cycles).`, EXIT.failed);
}

async function showPlan(ctx: CommandContext, workflowId: string, options: PlanOptions): Promise<void> {
  const format = planFormatOf(options);
  const handle = await ctx.session.handle(workflowId);
  const status: SyncStatus | WatchStatus = await loadStatus(handle);
  const shown = planShown(workflowId, status);
  const plan = shown.summary;
  // Opened only to write: an export that fails before its first row leaves no temporary file behind.
  const output = (): Output => (options.output ? fileOutput(options.output) : stdoutOutput());
  if (format === 'table') {
    await writeTo(output(), (out) => out.write(`${[shown.heading, ...formatPlan(plan, workflowId)].join('\n')}\n`));
    return;
  }
  const runId = (await handle.describe()).runId;
  const runKey = shown.runKey ?? runId;
  const whose = shown.cycle === undefined ? `sync ${workflowId}'s plan (run ${runId})` : `watch ${workflowId}'s plan of cycle ${shown.cycle} (run key ${runKey})`;
  let config;
  try {
    config = loadDatabaseConfig(ctx.env);
  } catch (err) {
    throw err instanceof ConfigError ? new ConfigError(`--format ${format} reads the plan from the tool's tables: ${err.message}`) : err;
  }
  const db = await openCheckedDatabase(config);
  try {
    const run = await planRun(db, runKey);
    if (!run) {
      throw new CliError(`The rows of ${whose} are not in ${config.toolDatabase} (pruned, or another CP_SYNC_DATABASE?); \`cp-sync plan ${workflowId}\` shows its summary.`, EXIT.failed);
    }
    const toExport = { workflowId, runId, phase: status.phase, summary: plan, ...(shown.cycle !== undefined ? { runKey, cycle: shown.cycle } : {}) };
    await writeTo(output(), (out) => writePlan(db, format, toExport, out, { appliedAt: run.applied }));
  } finally {
    await db.close();
  }
}

export function addPlanCommand(program: Command, ctx: CommandContext): void {
  program
    .command('plan <workflowId>')
    .description('show the plan: what would be created, surplus points, devices without a station, rejected messages')
    .option('--format <format>', `${PLAN_FORMATS.join(', ')}: json, csv and sql list the whole plan from the tool's tables (need the database settings)`, planFormatOption, 'table')
    .option('--json', 'shorthand for --format json')
    .option('-o, --output <file>', 'write to this file (complete or not at all: written aside, then renamed) instead of stdout')
    .action(ctx.exit.of((workflowId: string, options: PlanOptions) => showPlan(ctx, workflowId, options)));
}
