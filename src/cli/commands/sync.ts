/** The commands of one sync: start, status, approve, reject, result (run and plan have modules of their own). */
import type { Command } from 'commander';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { planHeadline } from '../../domain/run-text';
import { webUiLink } from '../../domain/web-ui-link';
import type { SyncResult } from '../../shared';
import { exitCodeForPhase } from '../../domain/exit-codes';
import { formatReport, formatStatus, type ReportText } from '../format';
import { checkSchemaBeforeStart } from '../maintenance';
import { note, printJson, printLines, sayer, type Say } from '../out';
import { collectionProgress } from '../../client/progress';
import type { CommandContext } from '../session';
import { addStartOptions, checkStartOptions, DETAILED_EXITCODE_HELP, syncInputFrom, syncLine, type StartOptions } from '../sync-options';
import { approve, awaitResult, loadStatus, reject, startSync } from '../../client/sync-client';

/** Starts a sync and announces it: `say` receives the lines for people; with --json, stdout gets the ids. */
export async function startAndAnnounce(ctx: CommandContext, options: StartOptions, say: Say): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const input = syncInputFrom(options, ctx.env);
  await checkSchemaBeforeStart(ctx.env, note);
  const temporal = ctx.session.temporal;
  const handle = await startSync(await ctx.session.client(), temporal.taskQueue, options.id, input, ctx.env.OCPP_MYSQL_DATABASE?.trim() || undefined);
  const runId = handle.firstExecutionRunId;
  if (options.json) printJson({ workflowId: handle.workflowId, runId });
  else {
    say([
      `Started sync ${handle.workflowId} (run ${runId}) on task queue ${temporal.taskQueue}`,
      syncLine(input),
      `  Web UI: ${webUiLink(temporal, handle.workflowId, runId)}`,
    ]);
  }
  return handle;
}

/** Prints the end of a run and returns its exit status; `text` says how the report for people reads (format.ts). */
export function report(result: SyncResult, options: { json?: boolean; detailedExitcode?: boolean }, extra: Record<string, unknown> = {}, text: ReportText = {}): number {
  if (options.json) printJson({ ...extra, ...result });
  else printLines(formatReport(result, text));
  return exitCodeForPhase(result.phase, { detailed: options.detailedExitcode });
}

async function start(ctx: CommandContext, options: StartOptions): Promise<number | void> {
  checkStartOptions(options);
  if (!options.wait) {
    await startAndAnnounce(ctx, options, sayer(false));
    return;
  }
  const handle = await startAndAnnounce(ctx, { ...options, json: false }, sayer(options.json));
  return report(await awaitResult(handle), options, { workflowId: handle.workflowId, runId: handle.firstExecutionRunId }, { workflowId: handle.workflowId });
}

async function status(ctx: CommandContext, workflowId: string, options: { json?: boolean }): Promise<void> {
  const handle = await ctx.session.handle(workflowId);
  const current = await loadStatus(handle);
  const progress = current.phase === 'collecting' ? await collectionProgress(handle) : undefined;
  // The collector's connection problem: by signal in the status (at once), else from its throttled heartbeat.
  const connectionError = current.phase === 'collecting' ? (current.connectionError ?? progress?.connectionError) : undefined;
  if (options.json) printJson({ workflowId, ...current, connectionError, progress });
  else printLines(formatStatus(workflowId, current, progress));
}

interface ApproveOptions {
  fingerprint?: string;
  by?: string;
  comment?: string;
  json?: boolean;
  wait?: boolean;
}

/** Approves and names the plan approved; with --wait, reports the run's end and exits with its status. */
async function approveCommand(ctx: CommandContext, workflowId: string, options: ApproveOptions): Promise<number | void> {
  const handle = await ctx.session.handle(workflowId);
  const after = await approve(handle, options);
  const approved = `Approved plan ${after.approval?.fingerprint} of sync ${workflowId} as ${after.approval?.by}`;
  if (options.wait) {
    if (!options.json) printLines([approved, ...(after.plan ? [planHeadline(after.plan)] : []), '']);
    return report(await awaitResult(handle), options, { workflowId }, { workflowId });
  }
  if (options.json) printJson({ workflowId, ...after });
  else printLines([approved, ...(after.plan ? [planHeadline(after.plan)] : [])]);
}

async function rejectCommand(ctx: CommandContext, workflowId: string, options: { reason?: string; by?: string; json?: boolean }): Promise<void> {
  const after = await reject(await ctx.session.handle(workflowId), options.reason, { by: options.by });
  if (options.json) printJson({ workflowId, rejected: true, rejection: after.rejection });
  else printLines([`Rejected sync ${workflowId} as ${after.rejection?.by ?? options.by}`]);
}

export function addSyncCommands(program: Command, ctx: CommandContext): void {
  addStartOptions(program.command('start').description('start a sync and print its id'))
    .option('--json', 'print {"workflowId", "runId"} (with --wait: and the result)')
    .option('--wait', 'wait for the end of the run, print its report and exit with its status')
    .option('--detailed-exitcode', `${DETAILED_EXITCODE_HELP} (needs --wait)`)
    .action(ctx.exit.of((options: StartOptions) => start(ctx, options)));

  program
    .command('status <workflowId>')
    .description('show the phase, the live collection counters and the plan summary')
    .option('--json', 'print the status as JSON')
    .action(ctx.exit.of((workflowId: string, options: { json?: boolean }) => status(ctx, workflowId, options)));

  program
    .command('approve <workflowId>')
    .description('approve the plan that status shows now (or, with --fingerprint, only that plan)')
    .option('--fingerprint <fingerprint>', "approve only if this is the current plan's fingerprint")
    .option('--by <name>', 'who approves, recorded and shown in status, result, list and the Web UI (default: user@host)')
    .option('--comment <text>', 'recorded with the approval')
    .option('--json', 'print the status after the approval as JSON (with --wait: the result)')
    .option('--wait', "wait for the end of the run, print its report and exit with its status (as result's)")
    .action(ctx.exit.of((workflowId: string, options: ApproveOptions) => approveCommand(ctx, workflowId, options)));

  program
    .command('reject <workflowId>')
    .description('reject the plan (or the run, before its plan); nothing is written')
    .option('--reason <text>', 'recorded with the rejection')
    .option('--by <name>', 'who rejects, recorded and shown like --by of approve (default: user@host)')
    .option('--json', 'print {"workflowId", "rejected": true}')
    .action(ctx.exit.of((workflowId: string, options: { reason?: string; by?: string; json?: boolean }) => rejectCommand(ctx, workflowId, options)));

  program
    .command('result <workflowId>')
    .description('wait for the end of the run and print its report')
    .option('--json', 'print the result as JSON')
    .action(ctx.exit.of(async (workflowId: string, options: { json?: boolean }) => report(await awaitResult(await ctx.session.handle(workflowId)), options, {}, { workflowId })));
}
