/**
 * The endings that do not come from the plan's decision: a window that heard nothing and a cancellation from outside
 * (the Web UI's "Request Cancellation", a client's cancel), neither a failure of the sync; and a failure.
 */
import { CancellationScope, isCancellation, log, patched, TemporalFailure } from '@temporalio/workflow';
import { failureText, heardNothingWarning } from '../domain/run-text';
import { topicFilterFor } from '../domain/topic';
import type { PlanSummary, SyncInput } from '../shared';
import { runFailure } from './final-status';
import type { Notifier } from './notifications';
import type { RunTracker } from './run-status';

/** Runs recorded before `heard-nothing` existed ended such a window as `nothing-to-do`, and replay so. */
const HEARD_NOTHING_PATCH = 'heard-nothing';

/**
 * Whether the window heard no valid message from any device: a wrong account, broker or topic, or a fleet that is
 * down. Says so in the worker's log with what to check.
 */
export function heardNothing(input: SyncInput, plan: Pick<PlanSummary, 'processedDevices'>): boolean {
  if (plan.processedDevices > 0 || !patched(HEARD_NOTHING_PATCH)) return false;
  // With LOG_FORMAT=json, what to check travels as keys too (the topic filter heard, the account, the window).
  log.warn(heardNothingWarning(input), { topic: topicFilterFor(input.account), account: input.account ?? null, windowMs: input.collectorDurationMs });
  return true;
}

/** Whether `err` is the run's own cancellation (not an activity that was cancelled by the workflow itself). */
export function isRunCancelled(err: unknown): boolean {
  return isCancellation(err) && CancellationScope.current().consideredCancelled;
}

/**
 * Ends a cancelled run as `cancelled`: the phase it was in is kept, a cancel during the apply says that the
 * transaction was rolled back (the apply waits for its activity to confirm the cancellation, after its rollback),
 * the operators are told (`cancelled`, never `failed`). The caller rethrows the cancellation, so that Temporal
 * records the run as cancelled too.
 */
export async function endCancelled(run: RunTracker, notifier: Notifier): Promise<void> {
  const { status } = run;
  status.cancelledDuring = status.phase;
  if (status.phase === 'applying') status.rolledBack = true;
  status.retry = undefined;
  run.setPhase('cancelled');
  log.info(`Sync cancelled while ${status.cancelledDuring}${status.rolledBack ? ': the transaction was rolled back' : ''}; no charging points were created`, {
    phase: status.cancelledDuring,
    rolledBack: status.rolledBack ?? false,
  });
  notifier.notify('cancelled');
  await notifier.settle();
}

/**
 * Ends a failed run as `failed` and returns what to throw: a failure carries the final status in its details. Any
 * other error is a defect in this code: rethrown as it is, it fails the workflow task, which Temporal retries.
 */
export async function endFailed(run: RunTracker, notifier: Notifier, err: unknown): Promise<unknown> {
  const { status } = run;
  status.failedDuring = status.phase;
  status.retry = undefined;
  status.error = failureText(err);
  run.setPhase('failed');
  notifier.notify('failed');
  await notifier.settle();
  return err instanceof TemporalFailure && !isCancellation(err) ? runFailure(err, status) : err;
}
