/** `cp-sync run`: start a sync, show the window's progress and the plan, ask y/N on a terminal, and report. */
import type { Command } from 'commander';
import type { WorkflowHandle } from '@temporalio/client';
import { formatDeadline } from '../../domain/duration';
import type { SyncStatus } from '../../shared';
import { webUiLink } from '../../domain/web-ui-link';
import { CliError, EXIT } from '../../domain/exit-codes';
import { formatPlan, formatProgress } from '../format';
import { printLines, sayer, type Say } from '../out';
import { collectionProgress } from '../../client/progress';
import { askYesNo } from '../prompt';
import type { CommandContext } from '../session';
import { addStartOptions, DETAILED_EXITCODE_HELP, syncInputFrom, type StartOptions } from '../sync-options';
import { approve, awaitResult, loadStatus, reject } from '../../client/sync-client';
import { report, startAndAnnounce } from './sync';

type RunOptions = StartOptions & { yes?: boolean };

/**
 * Runs `work` until it ends or the operator presses Ctrl-C. The sync is durable and goes on either way, so an
 * interruption says so, and how to follow or stop it (exit 130).
 */
async function untilInterrupted<T>(workflowId: string, work: (interrupted: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let onSigint = (): void => undefined;
  const interrupted = new Promise<never>((_, fail) => {
    onSigint = () => {
      controller.abort();
      fail(
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
  let lastTrouble: string | undefined;
  while (!interrupted.aborted) {
    const status = await loadStatus(handle);
    if (status.phase !== 'collecting' && status.phase !== 'planning') {
      if (live) process.stderr.write('\n');
      return;
    }
    const progress = status.phase === 'collecting' ? await collectionProgress(handle) : undefined;
    const trouble = status.connectionError ?? progress?.connectionError;
    const line = status.phase === 'planning' ? 'Planning: comparing devices with the database…' : formatProgress(progress, Date.now() - startedAt, windowMs, trouble);
    if (live) process.stderr.write(`\r\x1b[2K${line}`);
    // Not on a terminal: a line each 5 s, and at once when the broker problem changes.
    else if (Date.now() - lastPrinted >= 5000 || trouble?.message !== lastTrouble) {
      process.stderr.write(`${line}\n`);
      lastPrinted = Date.now();
      lastTrouble = trouble?.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The plan waits for approval: --yes approves, a terminal asks, anything else says how to decide. */
async function decide(handle: WorkflowHandle, status: SyncStatus, options: RunOptions, say: Say): Promise<void> {
  const fingerprint = status.plan?.fingerprint;
  if (options.yes) {
    await approve(handle, { comment: 'cp-sync run --yes' });
    say([`Approved plan ${fingerprint}`]);
    return;
  }
  if (!process.stdin.isTTY) {
    say([`Waiting for approval: cp-sync approve ${handle.workflowId} --fingerprint ${fingerprint}`]);
    return;
  }
  const answer = await askYesNo(`Create ${status.plan?.pointsToCreate} charging points (plan ${fingerprint})? [y/N] `);
  if (answer === undefined) {
    // The run is durable: leaving the prompt does not decide for the operator.
    const deadline = status.approvalDeadline ? formatDeadline(status.approvalDeadline) : '(no deadline)';
    throw new CliError(
      `\nInterrupted. Sync ${handle.workflowId} still awaits approval until ${deadline}: ` +
        `cp-sync approve ${handle.workflowId} --fingerprint ${fingerprint}, or cp-sync reject ${handle.workflowId}`,
      EXIT.interrupted,
    );
  }
  if (answer) {
    await approve(handle, {});
    say([`Approved plan ${fingerprint}`]);
  } else {
    await reject(handle, 'declined at the cp-sync run prompt');
  }
}

async function run(ctx: CommandContext, options: RunOptions): Promise<number> {
  // With --json, stdout carries only the final result; everything for people goes to stderr.
  const say = sayer(options.json);
  const input = syncInputFrom(options, ctx.env);
  const handle = await startAndAnnounce(ctx, { ...options, json: false }, say);
  await untilInterrupted(handle.workflowId, (interrupted) => followUntilPlanned(handle, input.collectorDurationMs, interrupted));
  const status = await loadStatus(handle);
  if (status.collectionNote) say([`Note: ${status.collectionNote}`]);
  if (status.plan) say(['', ...formatPlan(status.plan, handle.workflowId), '']);
  if (status.autoApproveExceeded) say([`Not auto-approved: ${status.autoApproveExceeded}`]);
  if (status.phase === 'awaiting-approval') await decide(handle, status, options, say);
  const result = await untilInterrupted(handle.workflowId, () => awaitResult(handle));
  const code = report(result, options, {}, { workflowId: handle.workflowId, planShown: status.plan !== undefined });
  if (!options.json) printLines(['', `Web UI: ${webUiLink(ctx.session.temporal, handle.workflowId, handle.firstExecutionRunId)}`]);
  return code;
}

export function addRunCommand(program: Command, ctx: CommandContext): void {
  addStartOptions(program.command('run').description('start a sync, show its progress and plan, ask y/N on a terminal, apply, and print the report'))
    .option('-y, --yes', 'approve the plan without asking')
    .option('--json', 'print the final result as JSON')
    .option('--detailed-exitcode', DETAILED_EXITCODE_HELP)
    .action(ctx.exit.of((options: RunOptions) => run(ctx, options)));
}
