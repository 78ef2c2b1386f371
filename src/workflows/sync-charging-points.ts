import { condition, isCancellation, patched, TemporalFailure, workflowInfo } from '@temporalio/workflow';
import { formatDuration } from '../domain/duration';
import { failureText } from '../domain/run-text';
import { tooManySilent } from '../domain/silence';
import type { Phase, PlanSummary, SyncInput, SyncResult } from '../shared';
import { applyPlan, buildPlan } from './activity-options';
import { autoDecision } from './auto-approve';
import { logApproved, logExpired, logWaiting } from './decision-log';
import { endCancelled, heardNothing, isRunCancelled } from './endings';
import { runFailure } from './final-status';
import { installHandlers } from './handlers';
import { validateSyncInput } from './input';
import { createNotifier } from './notifications';
import { resultOf } from './result';
import { trackRun, type RunTracker } from './run-status';
import { stopOnRejection, untilRejected } from './until-rejected';
import { collectWindow } from './window';

/** Runs recorded before partial silence held a plan were auto-approved whatever the silence, and replay so. */
const SILENCE_HOLDS_PATCH = 'silence-holds-auto-approve';

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
    const windowStop = stopOnRejection(status);
    status.collectionNote = await collectWindow(input, runId, workflowId, windowStop.stopped);
    windowStop.done();
    if (windowStop.fired()) return await finish('rejected');

    run.setPhase('planning');
    const planned = await untilRejected(status, () => buildPlan({ runKey: runId, testDeviceId: input.testDeviceId }));
    if (planned === undefined) return await finish('rejected');
    const plan = run.settled(planned);
    status.plan = plan;

    if (status.rejection) return await finish('rejected');
    if (heardNothing(input, plan)) return await finish('heard-nothing');
    if (plan.pointsToCreate === 0) return await finish('nothing-to-do');
    if (input.dryRun) return await finish('dry-run');

    const decision = await decide(run, input, plan, () => notifier.notify('awaiting-approval'));
    if (decision !== 'approved') return await finish(decision);

    run.setPhase('applying');
    status.apply = run.settled(await applyPlan({ runKey: runId, fingerprint: plan.fingerprint }));
    return await finish('applied');
  } catch (err) {
    if (isRunCancelled(err)) {
      await endCancelled(run, notifier);
      throw err;
    }
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
  // More silent stations than allowed: the plan may rest on a broken feed, so a person decides (and is told why).
  const silence = tooManySilent(plan, input.maxSilentStations);
  if ('approver' in auto && !(silence !== undefined && patched(SILENCE_HOLDS_PATCH))) {
    status.approval = { by: auto.approver, at: new Date().toISOString(), fingerprint: plan.fingerprint, auto: true };
    logApproved(status.approval, plan, input);
    return 'approved';
  }
  status.tooManySilent = silence;
  status.autoApproveExceeded = 'waitReason' in auto ? auto.waitReason : undefined;
  status.approvalDeadline = new Date(Date.now() + input.approvalTimeoutMs).toISOString();
  run.setPhase('awaiting-approval');
  logWaiting(plan, status.approvalDeadline, status.tooManySilent ?? status.autoApproveExceeded);
  announce();
  if (!(await condition(run.decided, input.approvalTimeoutMs, { summary: `Waiting for approval (APPROVAL_TIMEOUT ${formatDuration(input.approvalTimeoutMs)})` }))) {
    logExpired(status);
    return 'expired';
  }
  return status.rejection ? 'rejected' : 'approved';
}
