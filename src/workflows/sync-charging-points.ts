import { condition, isCancellation, TemporalFailure, workflowInfo } from '@temporalio/workflow';
import { formatDuration } from '../domain/duration';
import type { Phase, PlanSummary, SyncInput, SyncResult } from '../shared';
import { applyPlan, buildPlan } from './activity-options';
import { autoDecision } from './auto-approve';
import { failureText } from '../domain/run-text';
import { logApproved, logCancelled, logExpired, logWaiting } from './decision-log';
import { runFailure } from './final-status';
import { installHandlers } from './handlers';
import { validateSyncInput } from './input';
import { createNotifier } from './notifications';
import { resultOf } from './result';
import { trackRun, type RunTracker } from './run-status';
import { collectWindow } from './window';

/**
 * One sync: collect for a window bounded by a durable timer, build the plan, wait for an operator (the plan is
 * a dry run until then), apply. Large data stays in the tool's tables; state and history hold summaries.
 */
export async function syncChargingPoints(rawInput: SyncInput): Promise<SyncResult> {
  const input = validateSyncInput(rawInput);
  const { runId, workflowId } = workflowInfo();
  const run = trackRun(input);
  const { status } = run;
  installHandlers(run);
  const notifier = createNotifier(status, run.tell);
  const finish = async (phase: Phase): Promise<SyncResult> => {
    run.setPhase(phase);
    notifier.notify(phase);
    await notifier.settle();
    return resultOf(status);
  };

  try {
    status.collectionNote = await collectWindow(input, runId, workflowId);

    run.setPhase('planning');
    const plan = run.settled(await buildPlan({ runKey: runId, testDeviceId: input.testDeviceId }));
    status.plan = plan;

    if (status.rejection) return await finish('rejected');
    if (plan.pointsToCreate === 0) return await finish('nothing-to-do');
    if (input.dryRun) return await finish('dry-run');

    const decision = await decide(run, input, plan, () => notifier.notify('awaiting-approval'));
    if (decision !== 'approved') return await finish(decision);

    run.setPhase('applying');
    status.apply = run.settled(await applyPlan({ runKey: runId, fingerprint: plan.fingerprint }));
    return await finish('applied');
  } catch (err) {
    if (isCancellation(err)) logCancelled(status.phase);
    status.failedDuring = status.phase;
    status.retry = undefined;
    status.error = failureText(err);
    run.setPhase('failed');
    notifier.notify('failed');
    await notifier.settle();
    // A cancellation stays one (the run ends cancelled); a failure carries the final status in its details. Any other
    // error is a defect in this code: rethrown as it is, it fails the workflow task, which Temporal retries.
    throw err instanceof TemporalFailure && !isCancellation(err) ? runFailure(err, status) : err;
  }
}

/**
 * Who decides the plan: the auto-approve policy at once, or an operator within the approval timeout (the plan then
 * waits, and `announce` tells the operators).
 */
async function decide(run: RunTracker, input: SyncInput, plan: PlanSummary, announce: () => void): Promise<'approved' | 'rejected' | 'expired'> {
  const { status } = run;
  const auto = autoDecision(input, plan);
  if ('approver' in auto) {
    status.approval = { by: auto.approver, at: new Date().toISOString(), fingerprint: plan.fingerprint, auto: true };
    logApproved(status.approval, plan, input);
    return 'approved';
  }
  status.autoApproveExceeded = auto.waitReason;
  status.approvalDeadline = new Date(Date.now() + input.approvalTimeoutMs).toISOString();
  run.setPhase('awaiting-approval');
  logWaiting(plan, status.approvalDeadline, auto.waitReason);
  announce();
  if (!(await condition(run.decided, input.approvalTimeoutMs, { summary: `Waiting for approval (APPROVAL_TIMEOUT ${formatDuration(input.approvalTimeoutMs)})` }))) {
    logExpired(status);
    return 'expired';
  }
  return status.rejection ? 'rejected' : 'approved';
}
