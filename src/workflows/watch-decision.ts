/**
 * The watch's judge of approvals and rejections: they decide the plan that waits now (a watch has no other). A plan
 * that a newer cycle's plan replaced is refused by name, so that an operator who approves what they saw learns why.
 * Pure, like decision.ts (whose helpers it shares): the Updates ask it in their validators, the signals in their
 * handlers. A decision must say who made it (`by`), as a sync's must: the watch is newer than that rule.
 */
import type { ApprovalRecord, ApproveSignal, RejectionRecord, RejectSignal } from '../shared';
import type { PendingWatchPlan, SupersededPlan } from '../watch-shared';
import { anonymous, approvalData, decider, REJECTION_DATA, text, type DecisionRules, type Verdict } from './decision';

const RULES: DecisionRules = { byRequired: true };

export interface WatchDecisionState {
  pending: PendingWatchPlan | null;
  superseded: readonly SupersededPlan[];
  /** A cycle is planning now: its plan may replace the waiting one, so no decision is taken meanwhile. */
  planning: boolean;
  stopping: boolean;
}

/** Why nothing can be decided now, if so. */
function notNow(state: WatchDecisionState): string | undefined {
  if (state.stopping) return 'the watch is stopping';
  if (state.planning) return 'a cycle is planning now and its plan may supersede the waiting one; try again in a moment';
  if (!state.pending) return 'nothing awaits approval (the watch is watching)';
  return undefined;
}

export function judgeWatchApproval(state: WatchDecisionState, request: ApproveSignal | undefined, now: string): Verdict<ApprovalRecord> {
  const by = decider(request?.by);
  const fingerprint = text(request?.fingerprint, 64);
  const refuse = (refused: string): Verdict<ApprovalRecord> => ({ refused, by, fingerprint });
  if (fingerprint !== undefined && fingerprint !== state.pending?.plan.fingerprint) {
    const replaced = [...state.superseded].reverse().find((s) => s.fingerprint === fingerprint);
    if (replaced) return refuse(`plan ${fingerprint} of cycle ${replaced.cycle} was superseded by cycle ${replaced.by}'s plan${state.pending ? ` (${state.pending.plan.fingerprint})` : ''}; nothing was written`);
  }
  const blocked = notNow(state);
  if (blocked !== undefined || !state.pending) return refuse(blocked ?? 'nothing awaits approval');
  if (fingerprint !== undefined && fingerprint !== state.pending.plan.fingerprint) return refuse(`fingerprint ${fingerprint} is not the waiting plan's (${state.pending.plan.fingerprint})`);
  if (anonymous(request, RULES)) return refuse(`say who approves: send ${approvalData(state.pending.plan.fingerprint)}`);
  return { accepted: { by, comment: text(request?.comment, 500), at: now, fingerprint: state.pending.plan.fingerprint, auto: false } };
}

export function judgeWatchRejection(state: WatchDecisionState, request: RejectSignal | undefined, now: string): Verdict<RejectionRecord> {
  const by = decider(request?.by);
  const blocked = notNow(state);
  if (blocked !== undefined) return { refused: blocked, by };
  if (anonymous(request, RULES)) return { refused: `say who rejects: send ${REJECTION_DATA}`, by };
  return { accepted: { by, reason: text(request?.reason, 500), at: now } };
}

/** A decision taken on the waiting plan, for the cycle loop to carry out. */
export type WatchDecision = { approve: true; by: string; fingerprint: string } | { approve: false; by: string; reason?: string };
