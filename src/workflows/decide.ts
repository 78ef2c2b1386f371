/** The decision on a plan: the auto-approve policy at once, or an operator within the approval timeout. */
import { condition, patched } from '@temporalio/workflow';
import { formatDuration } from '../domain/duration';
import { tooManySilent } from '../domain/silence';
import type { PlanSummary, SyncInput } from '../shared';
import { autoDecision } from './auto-approve';
import { logApproved, logExpired, logWaiting } from './decision-log';
import type { RunTracker } from './run-status';

/** Runs recorded before partial silence held a plan were auto-approved whatever the silence, and replay so. */
const SILENCE_HOLDS_PATCH = 'silence-holds-auto-approve';

/**
 * Who decides the plan: the auto-approve policy at once, or an operator within the approval timeout (the plan then
 * waits, and `announce` tells the operators).
 */
export async function decide(run: RunTracker, input: SyncInput, plan: PlanSummary, announce: () => void): Promise<'approved' | 'rejected' | 'expired'> {
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
