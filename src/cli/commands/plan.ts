/**
 * `cp-sync plan`: the table is the workflow's summary (no database needed); json, csv and sql stream the whole plan
 * from the tool's tables, found by the run id (the plan's run key).
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

async function showPlan(ctx: CommandContext, workflowId: string, options: PlanOptions): Promise<void> {
  const format = planFormatOf(options);
  const handle = await ctx.session.handle(workflowId);
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
    config = loadDatabaseConfig(ctx.env);
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

export function addPlanCommand(program: Command, ctx: CommandContext): void {
  program
    .command('plan <workflowId>')
    .description('show the plan: what would be created, surplus points, devices without a station, rejected messages')
    .option('--format <format>', `${PLAN_FORMATS.join(', ')}: json, csv and sql list the whole plan from the tool's tables (need the database settings)`, planFormatOption, 'table')
    .option('--json', 'shorthand for --format json')
    .option('-o, --output <file>', 'write to this file (complete or not at all: written aside, then renamed) instead of stdout')
    .action(ctx.exit.of((workflowId: string, options: PlanOptions) => showPlan(ctx, workflowId, options)));
}
