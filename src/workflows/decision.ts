/**
 * The one judge of approvals and rejections. The `approve`/`reject` Updates ask it in their validators (a refused
 * call is answered at once and leaves nothing in the history) and the signals of the same names ask it in their
 * handlers (a signal cannot answer, so its refusal is recorded in the status). Pure: no workflow API here.
 */
import { mayReject } from '../domain/phases';
import type { ApprovalRecord, ApproveSignal, RejectionRecord, RejectSignal, SyncStatus } from '../shared';

export type Verdict<T> = { accepted: T } | { refused: string; by: string; fingerprint?: string };

/** A text field of a decision, trimmed and capped; undefined when absent or blank. */
export function text(value: unknown, max = 500): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, max) : undefined;
}

/** Who decided, as given (`--by`); recorded as `unknown` where a decision without one is accepted (see DecisionRules). */
export function decider(by: unknown): string {
  return text(by, 200) ?? 'unknown';
}

/**
 * `byRequired`: a decision must say who made it (the CLI always sends `by`; a raw Update or signal, e.g. from the
 * Web UI, may not). Runs recorded before the rule accepted such a decision as `unknown`, and replay it so.
 */
export interface DecisionRules {
  byRequired: boolean;
}

/** The Data an operator pastes into the Web UI's approve dialog: "{"fingerprint":"a1b2…","by":"<your name>"}". */
export function approvalData(fingerprint: string): string {
  return JSON.stringify({ fingerprint, by: '<your name>' });
}

/** The Data of a rejection: "{"by":"<your name>","reason":"<why>"}". */
export const REJECTION_DATA = JSON.stringify({ by: '<your name>', reason: '<why>' });

/** A decision that does not say who made it, where the rules require it. */
export const anonymous = (request: { by?: unknown } | undefined, rules: DecisionRules): boolean => rules.byRequired && text(request?.by, 200) === undefined;

export function judgeApproval(status: SyncStatus, request: ApproveSignal | undefined, now: string, rules: DecisionRules = { byRequired: true }): Verdict<ApprovalRecord> {
  const by = decider(request?.by);
  const fingerprint = text(request?.fingerprint, 64);
  const refuse = (refused: string): Verdict<ApprovalRecord> => ({ refused, by, fingerprint });
  if (status.approval) return refuse(`already approved by ${status.approval.by}`);
  if (status.rejection) return refuse(`already rejected by ${status.rejection.by}`);
  if (status.phase !== 'awaiting-approval' || !status.plan) return refuse(`nothing awaits approval (phase ${status.phase})`);
  if (anonymous(request, rules)) return refuse(`say who approves: send ${approvalData(status.plan.fingerprint)}`);
  if (fingerprint !== undefined && fingerprint !== status.plan.fingerprint) {
    return refuse(`fingerprint ${fingerprint} is not the current plan's (${status.plan.fingerprint})`);
  }
  return { accepted: { by, comment: text(request?.comment), at: now, fingerprint: status.plan.fingerprint, auto: false } };
}

export function judgeRejection(status: SyncStatus, request: RejectSignal | undefined, now: string, rules: DecisionRules = { byRequired: true }): Verdict<RejectionRecord> {
  const by = decider(request?.by);
  if (status.approval) return { refused: `already approved by ${status.approval.by}`, by };
  if (status.rejection) return { refused: `already rejected by ${status.rejection.by}`, by };
  if (!mayReject(status.phase)) return { refused: `too late: the run is ${status.phase}`, by };
  if (anonymous(request, rules)) return { refused: `say who rejects: send ${REJECTION_DATA}`, by };
  return { accepted: { by, reason: text(request?.reason), at: now } };
}

/** Who decided a run, as `cp-sync list` and the outcome summary show it. */
export function decidedBy(status: SyncStatus): string | undefined {
  return status.approval?.by ?? status.rejection?.by;
}
