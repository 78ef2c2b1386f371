/**
 * Every decision of a run, one line each in the worker's log: waiting for approval, approved (by whom, or the
 * auto-approve policy), refused, rejected, expired, cancelled. Through the workflow `log`: replay-safe (a replayed
 * run logs nothing again), and its attributes are the line's keys with LOG_FORMAT=json (temporal/runtime.ts).
 */
import { log } from '@temporalio/workflow';
import { formatDeadline } from '../domain/duration';
import { autoApproveLimits, planHeadline } from '../domain/run-text';
import type { ApprovalRecord, Phase, PlanSummary, RejectionRecord, SyncInput, SyncStatus } from '../shared';

/** "Waiting for approval: Plan a1b2…: 4 points to create on 2 stations; deadline 2026-…Z (in 24 h)". */
export function logWaiting(plan: PlanSummary, deadline: string, notAutoApproved?: string): void {
  const why = notAutoApproved ? ` (not auto-approved: ${notAutoApproved})` : '';
  log.info(`Waiting for approval: ${planHeadline(plan)}; deadline ${formatDeadline(deadline)}${why}`, {
    fingerprint: plan.fingerprint,
    pointsToCreate: plan.pointsToCreate,
    stationsToChange: plan.stationsToChange,
    deadline,
    reason: notAutoApproved,
  });
}

/** "Approved by alice@ops (checked the list): Plan a1b2…", or "Auto-approved (auto-approve up to 50 points): …". */
export function logApproved(approval: ApprovalRecord, plan: PlanSummary | undefined, input: SyncInput): void {
  const headline = plan ? planHeadline(plan) : `Plan ${approval.fingerprint}`;
  const fields = { by: approval.by, fingerprint: approval.fingerprint, comment: approval.comment };
  if (approval.auto) {
    const limit = autoApproveLimits(input);
    log.info(`Auto-approved${limit ? ` (${limit})` : ''}: ${headline}`, { ...fields, auto: true, limit });
    return;
  }
  log.info(`Approved by ${approval.by}${approval.comment ? ` (${approval.comment})` : ''}: ${headline}`, { ...fields, auto: false });
}

/** "Approval refused: <reason>" (WARN): a decision the run did not take, from the Update or the signal. */
export function logRefused(what: 'Approval' | 'Rejection', refused: { by: string; fingerprint?: string; reason: string }): void {
  log.warn(`${what} refused: ${refused.reason}`, refused);
}

/** "Rejected by bob while collecting (wrong fleet): nothing written". */
export function logRejected(rejection: RejectionRecord, phase: Phase): void {
  log.info(`Rejected by ${rejection.by} while ${phase}${rejection.reason ? ` (${rejection.reason})` : ''}: nothing written`, {
    by: rejection.by,
    reason: rejection.reason,
    phase,
  });
}

/** "Approval expired: Plan a1b2…: … not approved before 2026-…Z; nothing written" (WARN). */
export function logExpired(status: SyncStatus): void {
  const { plan, approvalDeadline } = status;
  log.warn(`Approval expired: ${plan ? planHeadline(plan) : 'the plan'} not approved before ${approvalDeadline ?? 'the deadline'}; nothing written`, {
    fingerprint: plan?.fingerprint,
    deadline: approvalDeadline,
  });
}
